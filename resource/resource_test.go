package resource

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	for _, tc := range []struct {
		name, doc, key string
	}{
		{"seed interceptor", `{"kind":"Interceptor","apiVersion":"gateway/v2","metadata":{"name":"less-than-6-partitions"},
			"spec":{"pluginClass":"io.conduktor.gateway.interceptor.safeguard.CreateTopicPolicyPlugin","priority":100,
			"config":{"topic":".*","numPartition":{"min":1,"max":6,"action":"BLOCK"}}}}`,
			`{"kind":"Interceptor","metadata":{"name":"less-than-6-partitions"}}`},
		{"interceptor scoped to a user", `{"kind":"Interceptor","apiVersion":"gateway/v2","metadata":{"name":"x","scope":{"username":"sa-clickstream"}},"spec":{"pluginClass":"p","priority":1}}`,
			`{"kind":"Interceptor","metadata":{"name":"x","scope":{"username":"sa-clickstream"}}}`},
		{"null scope differs from omitted", `{"kind":"Interceptor","apiVersion":"gateway/v2","metadata":{"name":"x","scope":{"vCluster":null,"group":null,"username":null}},"spec":{"pluginClass":"p","priority":1}}`,
			`{"kind":"Interceptor","metadata":{"name":"x","scope":{"group":null,"username":null,"vCluster":null}}}`},
		{"local service account in a vcluster", `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"vCluster":"vc-B","name":"admin"},"spec":{"type":"LOCAL"}}`,
			`{"kind":"GatewayServiceAccount","metadata":{"name":"admin","vCluster":"vc-B"}}`},
		{"external service account", `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"application1"},"spec":{"type":"EXTERNAL","externalNames":["00u9vme99nxudvxZA0h7"]}}`,
			`{"kind":"GatewayServiceAccount","metadata":{"name":"application1"}}`},
		{"group", `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"group-a"},"spec":{"members":[{"name":"admin"},{"vCluster":"vc-B","name":"0000-AAAA-BBBB-CCCC"}]}}`,
			`{"kind":"GatewayGroup","metadata":{"name":"group-a"}}`},
		{"concentration rule", `{"apiVersion":"gateway/v2","kind":"ConcentrationRule","metadata":{"name":"toutdanstiti"},"spec":{"pattern":"titi-.*","physicalTopics":{"delete":"titi-delete","compact":"titi-compact","deleteCompact":"titi-cd"},"autoManaged":false,"offsetCorrectness":false}}`,
			`{"kind":"ConcentrationRule","metadata":{"name":"toutdanstiti"}}`},
		{"virtual cluster", `{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"team-payments"},"spec":{"aclEnabled":true,"aclMode":"KAFKA_API","superUsers":["admin"]}}`,
			`{"kind":"VirtualCluster","metadata":{"name":"team-payments"}}`},
		{"alias topic", `{"apiVersion":"gateway/v2","kind":"AliasTopic","metadata":{"name":"orders","vCluster":"vc-a"},"spec":{"physicalName":"prod.orders"}}`,
			`{"kind":"AliasTopic","metadata":{"name":"orders","vCluster":"vc-a"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.doc), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := string(r.Key()); got != tc.key {
				t.Fatalf("key %s, want %s", got, tc.key)
			}
			if strings.ContainsAny(string(r.Raw), "\n\t") {
				t.Fatalf("raw not compacted: %s", r.Raw)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, doc, field string
	}{
		{"not json", `{"kind":`, ""},
		{"wrong api version", `{"apiVersion":"v1","kind":"GatewayGroup","metadata":{"name":"g"},"spec":{}}`, "apiVersion"},
		{"unknown kind", `{"apiVersion":"gateway/v2","kind":"Topic","metadata":{"name":"g"},"spec":{}}`, "kind"},
		{"unknown top-level field", `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"g"},"spec":{},"extra":1}`, ""},
		{"missing metadata", `{"apiVersion":"gateway/v2","kind":"GatewayGroup","spec":{}}`, "metadata"},
		{"bad name", `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"a b"},"spec":{}}`, "metadata.name"},
		{"unknown spec field", `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"g"},"spec":{"memberz":[]}}`, "spec.memberz"},
		{"wrong type", `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"i"},"spec":{"pluginClass":"p","priority":"high"}}`, "spec.priority"},
		{"missing priority", `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"i"},"spec":{"pluginClass":"p"}}`, "spec.priority"},
		{"missing plugin", `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"i"},"spec":{"priority":1}}`, "spec.pluginClass"},
		{"bad scope field", `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"i","scope":{"team":"x"}},"spec":{"pluginClass":"p","priority":1}}`, "metadata.scope.team"},
		{"external without names", `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"s"},"spec":{"type":"EXTERNAL"}}`, "spec.externalNames"},
		{"bad account type", `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"s"},"spec":{"type":"ROBOT"}}`, "spec.type"},
		{"bad regex", `{"apiVersion":"gateway/v2","kind":"ConcentrationRule","metadata":{"name":"c"},"spec":{"pattern":"(","physicalTopics":{"delete":"d"}}}`, "spec.pattern"},
		{"missing delete topic", `{"apiVersion":"gateway/v2","kind":"ConcentrationRule","metadata":{"name":"c"},"spec":{"pattern":"x","physicalTopics":{}}}`, "spec.physicalTopics.delete"},
		{"bad alias target", `{"apiVersion":"gateway/v2","kind":"AliasTopic","metadata":{"name":"a","vCluster":"v"},"spec":{"physicalName":"no spaces allowed"}}`, "spec.physicalName"},
		{"virtual cluster name with a dot", `{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"team.a"}}`, "metadata.name"},
		{"account in a dotted virtual cluster", `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"s","vCluster":"a.b"},"spec":{"type":"LOCAL"}}`, "metadata.vCluster"},
		{"alias outside a virtual cluster", `{"apiVersion":"gateway/v2","kind":"AliasTopic","metadata":{"name":"a"},"spec":{"physicalName":"p"}}`, "metadata.vCluster"},
		{"invalid declared ACL", `{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"v"},"spec":{"aclEnabled":true,"aclMode":"REST_API","acls":[{"resourcePattern":{"resourceType":"TOPIC","name":"t"},"principal":"alice","operation":"READ","permissionType":"ALLOW"}]}}`, "spec.acls[0]"},
		{"empty super user", `{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"v"},"spec":{"aclEnabled":true,"superUsers":[" "]}}`, "spec.superUsers[0]"},
		{"group member without name", `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"g"},"spec":{"members":[{"vCluster":"v"}]}}`, "spec.members[0].name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "")
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *resource.Error", err)
			}
			if re.Field != tc.field {
				t.Fatalf("field %q (%v), want %q", re.Field, err, tc.field)
			}
		})
	}
}

func TestParseChecksEndpointKind(t *testing.T) {
	doc := `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"g"},"spec":{}}`
	if _, err := Parse([]byte(doc), "Interceptor"); err == nil {
		t.Fatal("group accepted on the interceptor endpoint")
	}
}

func TestApplyOrder(t *testing.T) {
	want := "VirtualCluster AliasTopic ConcentrationRule GatewayServiceAccount GatewayGroup Interceptor"
	if got := strings.Join(KindNames(), " "); got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"x","scope":{"vCluster":null}},"spec":{"pluginClass":"p","priority":1}}`))
	f.Add([]byte(`{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"g"},"spec":{"members":[{"name":"a"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b, "")
		if err != nil {
			return
		}
		// An accepted document parses again to the same key.
		again, err := Parse(r.Raw, "")
		if err != nil || string(again.Key()) != string(r.Key()) {
			t.Fatalf("raw %s does not round trip: %v", r.Raw, err)
		}
	})
}

func TestDecodeRequiresCanonicalKey(t *testing.T) {
	doc := []byte(`{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"g"},"spec":{}}`)
	if _, err := Decode([]byte(`{"kind":"GatewayGroup","metadata":{"name":"g"}}`), doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`{"metadata":{"name":"g"},"kind":"GatewayGroup"}`, `{"kind": "GatewayGroup", "metadata": {"name": "g"}}`, `{"kind":"GatewayGroup","metadata":{"name":"h"}}`, ``} {
		if _, err := Decode([]byte(key), doc); err == nil {
			t.Errorf("key %q accepted", key)
		}
	}
}
