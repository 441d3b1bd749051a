package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// benchPlugins are the record-changing interceptors measured by -only
// plugins, each applied to topics named bench-plugin-*.
var benchPlugins = []struct{ name, class, config string }{
	{"DynamicHeaderInjection (produce)", "DynamicHeaderInjection",
		`{"topic":"bench-plugin-.*","headers":{"X-User":"{{user}}","X-Client-Ip":"{{userIp}}"}}`},
	{"MessageHeaderRemoval (consume)", "MessageHeaderRemoval",
		`{"topic":"bench-plugin-.*","headerKeyRegex":"X-Secret.*"}`},
	{"FieldLevelDataMasking, JSON (consume)", "FieldLevelDataMasking",
		`{"topic":"bench-plugin-.*","policies":[{"name":"pii","fields":["email","card.number"],"rule":{"type":"MASK_ALL"}}]}`},
}

// jsonValue is a JSON object of about size bytes with the fields the
// masking benchmark masks.
func jsonValue(size int) []byte {
	v := `{"email":"someone@example.com","card":{"number":"4111111111111111","expiry":"12/29"},"pad":"`
	return []byte(v + strings.Repeat("x", max(size-len(v)-2, 0)) + `"}`)
}

// plugins compares, through one strait process, topics a record-changing
// plugin applies to with topics it does not, in alternating rounds.
func plugins(binary, bootstrap string, rounds, records, size int) error {
	gw, err := startGateway(binary, bootstrap, 24600, 24699)
	if err != nil {
		return err
	}
	defer gw.stop()
	value := jsonValue(size)
	fmt.Printf("\nplugins: %d records of %d bytes (JSON), the plugin's topics against untouched topics on the same gateway; %d rounds\n\n",
		records, len(value), rounds)
	hc := &http.Client{Timeout: 30 * time.Second}
	ctx := context.Background()
	for _, p := range benchPlugins {
		doc := fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"bench-plugin"},"spec":{"pluginClass":%q,"priority":1,"config":%s}}`,
			p.class, p.config)
		if code, body, err := call(ctx, hc, "PUT", gw.url+"/gateway/v2/interceptor", []byte(doc)); err != nil || code != http.StatusOK {
			return fmt.Errorf("apply %s: %d %s %v", p.class, code, body, err)
		}
		var produce, consume []float64
		for r := range rounds {
			suffix := fmt.Sprintf("%d-%d", r, time.Now().UnixNano()%1e6)
			order := []string{"bench-pass-" + suffix, "bench-plugin-" + suffix}
			if r%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			res := map[string]result{}
			for _, topic := range order {
				if res[topic], err = measureValue(gw.addr, topic, value, records, 2000, time.Second); err != nil {
					return fmt.Errorf("%s round %d: %w", p.class, r+1, err)
				}
			}
			pass, plug := res["bench-pass-"+suffix], res["bench-plugin-"+suffix]
			produce = append(produce, plug.produceMBps/pass.produceMBps)
			consume = append(consume, plug.consumeMBps/pass.consumeMBps)
		}
		fmt.Printf("%-40s produce %6.3fx  consume %6.3fx  (plugin vs passthrough, median of per-round pairs)\n",
			p.name, medianOf(produce), medianOf(consume))
		if code, body, err := call(ctx, hc, "DELETE", gw.url+"/gateway/v2/interceptor/bench-plugin", nil); err != nil || code != http.StatusNoContent {
			return fmt.Errorf("delete %s: %d %s %v", p.class, code, body, err)
		}
	}
	return nil
}
