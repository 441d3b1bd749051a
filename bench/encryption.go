// The encryption benchmark: what record encryption costs the data path.
// Two strait processes run on the same broker: one with no interceptor
// (passthrough) and one where EncryptPlugin encrypts every record value
// on produce (in-memory KMS, AES128_GCM) and DecryptPlugin decrypts it on
// fetch. The same load runs directly, through the one and through the
// other, in alternating rounds.

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/encryption"
)

// The encryption run's strait processes take their Kafka ports from these
// and HTTP on the port 99 above, clear of the other parts' ports.
const (
	encPortPass = 25100
	encPortOn   = 25200
)

// encPlugins encrypt the whole value of every record of the bench's
// topics and decrypt it for every consumer.
var encPlugins = []string{
	`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"bench-encrypt"},"spec":{"pluginClass":"EncryptPlugin","priority":1,` +
		`"config":{"topic":"bench-enc-.*","kmsConfig":{},"recordValue":{"payload":{"keySecretId":"in-memory-kms://bench","algorithm":"AES128_GCM"}}}}}`,
	`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"bench-decrypt"},"spec":{"pluginClass":"DecryptPlugin","priority":2,` +
		`"config":{"topic":"bench-enc-.*","kmsConfig":{}}}}`,
}

// encryptionBench compares produce and consume directly against the
// broker, through a passthrough strait process and through one that
// encrypts and decrypts record values.
func encryptionBench(binary, bootstrap string, rounds, records, size, rate int, latencyD time.Duration) error {
	idPass, idOn := clusterID("enc-pass"), clusterID("enc-on")
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		return fmt.Errorf("encryption: client: %w", err)
	}
	defer cl.Close()
	defer deleteTopics(cl, idPass, idOn)

	pass, err := startGateway(binary, bootstrap, encPortPass, encPortPass+99, "GATEWAY_CLUSTER_ID="+idPass)
	if err != nil {
		return err
	}
	defer pass.stop()
	on, err := startGateway(binary, bootstrap, encPortOn, encPortOn+99, "GATEWAY_CLUSTER_ID="+idOn)
	if err != nil {
		return err
	}
	defer on.stop()
	hc := &http.Client{Timeout: 30 * time.Second}
	for _, doc := range encPlugins {
		if code, body, err := call(context.Background(), hc, http.MethodPut, on.url+"/gateway/v2/interceptor", []byte(doc)); err != nil || code != http.StatusOK {
			return fmt.Errorf("encryption: apply interceptor: %d %s %v", code, body, err)
		}
	}
	if err := checkEncrypted(cl, bootstrap, on.addr, size); err != nil {
		return err
	}

	// Random values: zeros would shrink to nothing under the producer's
	// compression on the passthrough paths, while ciphertext does not
	// compress, so the comparison would time compression, not encryption.
	value := make([]byte, size)
	if _, err := rand.Read(value); err != nil {
		return fmt.Errorf("encryption: %w", err)
	}
	fmt.Printf("\nencryption: %d records of %d random bytes, acks=all, 3 partitions; latency at %d records/s for %s; %d alternating rounds\n"+
		"passthrough: a strait process with no interceptor; encrypted: EncryptPlugin (whole value, AES128_GCM, in-memory KMS) and DecryptPlugin\n\n",
		records, size, rate, latencyD, rounds)
	paths := []auditPath{{"direct", bootstrap}, {"passthrough", pass.addr}, {"encrypted", on.addr}}
	gws := map[string]*gateway{"passthrough": pass, "encrypted": on}
	// One discarded warm-up round; after it the order alternates between
	// forwards and backwards, so neither gateway always runs first.
	for _, p := range paths {
		if _, err := measureValue(p.addr, encTopic(p.name, "warmup"), value, records, rate, latencyD); err != nil {
			return fmt.Errorf("%s warm-up: %w", p.name, err)
		}
	}
	results := map[string][]result{}
	cpu := map[string]time.Duration{}
	moved := map[string]int64{}
	for r := range rounds {
		order := paths
		if r%2 == 1 {
			order = []auditPath{paths[2], paths[1], paths[0]}
		}
		for _, p := range order {
			var cpu0 time.Duration
			if g := gws[p.name]; g != nil {
				cpu0 = g.cpu()
			}
			res, err := measureValue(p.addr, encTopic(p.name, fmt.Sprint(r)), value, records, rate, latencyD)
			if err != nil {
				return fmt.Errorf("%s round %d: %w", p.name, r+1, err)
			}
			if g := gws[p.name]; g != nil {
				cpu[p.name] += g.cpu() - cpu0
				moved[p.name] += res.bytes
			}
			results[p.name] = append(results[p.name], res)
			fmt.Printf("round %d %-11s produce %7.1f MB/s  consume %7.1f MB/s  p50 %6.2f ms  p99 %6.2f ms\n",
				r+1, p.name, res.produceMBps, res.consumeMBps, ms(res.p50), ms(res.p99))
		}
	}
	printEncryption(results, size)
	for _, name := range []string{"passthrough", "encrypted"} {
		if moved[name] > 0 {
			fmt.Printf("%-11s gateway CPU %.2f CPU-seconds per GB moved (produce + consume)\n", name, cpu[name].Seconds()/(float64(moved[name])/1e9))
		}
	}
	return nil
}

// encTopic names a topic of the run; the encrypting gateway's plugins
// apply to all of them.
func encTopic(path, round string) string {
	return fmt.Sprintf("bench-enc-%s-%s-%d", path, round, time.Now().UnixNano()%1e6)
}

// printEncryption prints each figure's median per path and the medians of
// the per-round pairs between paths.
func printEncryption(results map[string][]result, size int) {
	perRecord := 1e6 / float64(size) // records per MB
	figures := []figure[result]{
		{"produce MB/s", func(r result) float64 { return r.produceMBps }, true},
		{"produce records/s", func(r result) float64 { return r.produceMBps * perRecord }, true},
		{"consume MB/s", func(r result) float64 { return r.consumeMBps }, true},
		{"consume records/s", func(r result) float64 { return r.consumeMBps * perRecord }, true},
		{"p50 produce ms", func(r result) float64 { return ms(r.p50) }, false},
		{"p99 produce ms", func(r result) float64 { return ms(r.p99) }, false},
	}
	printPaired(results, []string{"direct", "passthrough", "encrypted"}, [][2]string{{"encrypted", "passthrough"}, {"encrypted", "direct"}, {"passthrough", "direct"}}, figures)
}

// checkEncrypted produces a record through the encrypting gateway until
// the broker stores it encrypted (the interceptors take a moment to
// apply), then reads it back through the gateway in the clear, so the
// run cannot time a gateway that does not encrypt.
func checkEncrypted(direct *kgo.Client, bootstrap, addr string, size int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := encTopic("check", "0")
	adm := kadm.NewClient(direct)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		return fmt.Errorf("encryption: check: %w", err)
	}
	defer func() { _, _ = adm.DeleteTopics(ctx, topic) }()
	gw, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return fmt.Errorf("encryption: check: %w", err)
	}
	defer gw.Close()
	value := bytes.Repeat([]byte("clear"), size/5+1)[:size]
	for offset := int64(0); ; offset++ {
		if err := gw.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
			return fmt.Errorf("encryption: check: produce: %w", err)
		}
		stored, err := readAt(ctx, bootstrap, topic, offset)
		if err != nil {
			return err
		}
		var hs []kmsg.Header
		for _, h := range stored.Headers {
			hs = append(hs, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		if locs, _ := encryption.Locations(hs); len(locs) == 1 && !bytes.Contains(stored.Value, []byte("clear")) {
			back, err := readAt(ctx, addr, topic, offset)
			if err != nil {
				return err
			}
			if !bytes.Equal(back.Value, value) {
				return fmt.Errorf("encryption: check: the gateway returns %d bytes that are not the value produced", len(back.Value))
			}
			return nil
		}
		if offset == 100 {
			return fmt.Errorf("encryption: check: the broker still stores record %d in the clear", offset)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readAt reads the record at offset of partition 0 of topic through addr.
func readAt(ctx context.Context, addr, topic string, offset int64) (*kgo.Record, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(offset)}}))
	if err != nil {
		return nil, fmt.Errorf("encryption: check: %w", err)
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("encryption: check: read offset %d through %s: %w", offset, addr, err)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return nil, fmt.Errorf("encryption: check: read through %s: %w", addr, errs[0].Err)
		}
		for _, r := range fs.Records() {
			if r.Offset == offset {
				return r, nil
			}
		}
	}
}
