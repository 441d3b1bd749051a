package concentration

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/strait-gateway/strait/concentration/offsetmap"
)

// testID is a fixed topic id for tests.
var testID = ID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

func TestIDText(t *testing.T) {
	for _, id := range []ID{testID, {}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, NewID()} {
		text, err := id.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		if len(text) != 22 || strings.ContainsAny(string(text), "+/=") {
			t.Errorf("%x: text %q is not 22 characters of unpadded base64url", id, text)
		}
		var back ID
		if err := back.UnmarshalText(text); err != nil || back != id {
			t.Errorf("%x: round trip gave %x, %v", id, back, err)
		}
	}
}

func TestIDBadText(t *testing.T) {
	for name, text := range map[string]string{
		"empty":          "",
		"short":          "AQIDBAUGBwgJCgsMDQ4P",
		"padded":         "AQIDBAUGBwgJCgsMDQ4PEA==",
		"std alphabet":   "AQIDBAUGBwgJCgsMDQ4+EA",
		"one too many":   "AQIDBAUGBwgJCgsMDQ4PEAA",
		"much too long":  strings.Repeat("A", 30),
		"twice as long":  strings.Repeat("A", 44),
		"not base64":     "!!!!!!!!!!!!!!!!!!!!!!",
		"uuid with dash": "01020304-0506-0708-090a-0b0c0d0e0f10",
	} {
		t.Run(name, func(t *testing.T) {
			var id ID
			if err := id.UnmarshalText([]byte(text)); err == nil {
				t.Errorf("%q accepted as %x", text, id)
			}
		})
	}
}

func TestNewIDDiffers(t *testing.T) {
	if a, b := NewID(), NewID(); a == b || a == (ID{}) {
		t.Errorf("NewID gave %x and %x", a, b)
	}
}

// topicJSON is a valid registry record for the topic named name, with
// one field overridden or removed (nil value) per entry of change.
func topicJSON(t testing.TB, change map[string]any) []byte {
	t.Helper()
	m := map[string]any{
		"name": "orders", "id": testID.String(), "vCluster": "passthrough", "rule": "r",
		"physicalTopic": "phys", "physicalTopicId": testID.String(), "partitions": []int32{2, 0},
		"cleanupPolicy": "delete", "configs": map[string]string{"retention.ms": "1000"},
		"offsetCorrectness": true,
	}
	for k, v := range change {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeTopic(t *testing.T) {
	for _, tc := range []struct {
		name   string
		key    string
		change map[string]any
		raw    string
		want   string // error substring; empty when valid
	}{
		{name: "valid", key: "orders"},
		{name: "compact", key: "orders", change: map[string]any{"cleanupPolicy": "compact", "offsetCorrectness": false}},
		{name: "compact and delete", key: "orders", change: map[string]any{"cleanupPolicy": "compact,delete"}},
		{name: "name under another key", key: "other", want: "under key"},
		{name: "no id", key: "orders", change: map[string]any{"id": nil}, want: "no id"},
		{name: "bad id", key: "orders", change: map[string]any{"id": "xyz"}, want: "topic id"},
		{name: "no physical", key: "orders", change: map[string]any{"physicalTopic": nil}, want: "no physical topic"},
		{name: "no partitions", key: "orders", change: map[string]any{"partitions": nil}, want: "no partitions"},
		{name: "empty partitions", key: "orders", change: map[string]any{"partitions": []int32{}}, want: "no partitions"},
		{name: "negative partition", key: "orders", change: map[string]any{"partitions": []int32{0, -1}}, want: "physical partition -1"},
		{name: "no policy", key: "orders", change: map[string]any{"cleanupPolicy": nil}, want: "cleanup policy"},
		{name: "policy not canonical", key: "orders", change: map[string]any{"cleanupPolicy": "delete,compact"}, want: "cleanup policy"},
		{name: "bogus policy", key: "orders", change: map[string]any{"cleanupPolicy": "bogus"}, want: "cleanup policy"},
		{name: "not json", key: "orders", raw: "{", want: "topic record"},
		{name: "json array", key: "orders", raw: "[]", want: "topic record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			value := []byte(tc.raw)
			if tc.raw == "" {
				value = topicJSON(t, tc.change)
			}
			got, err := decodeTopic([]byte(tc.key), value)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "concentration: ") {
					t.Fatalf("error %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != "orders" || got.ID != testID || got.Physical != "phys" || got.PhysicalID != testID ||
				!reflect.DeepEqual(got.Partitions, []int32{2, 0}) || got.Configs["retention.ms"] != "1000" {
				t.Errorf("decoded %+v", got)
			}
		})
	}
}

func TestParseTag(t *testing.T) {
	for _, tc := range []struct {
		name      string
		topic     string
		partition string
		want      offsetmap.Tag
		ok        bool
	}{
		{"valid", testID.String(), "3", offsetmap.Tag{Topic: testID, Partition: 3}, true},
		{"partition zero", testID.String(), "0", offsetmap.Tag{Topic: testID}, true},
		{"largest partition", testID.String(), "2147483647", offsetmap.Tag{Topic: testID, Partition: 1<<31 - 1}, true},
		{"partition overflows", testID.String(), "2147483648", offsetmap.Tag{}, false},
		{"negative partition", testID.String(), "-1", offsetmap.Tag{}, false},
		{"partition not a number", testID.String(), "x", offsetmap.Tag{}, false},
		{"no partition", testID.String(), "", offsetmap.Tag{}, false},
		{"no topic", "", "1", offsetmap.Tag{}, false},
		{"topic too long", strings.Repeat("A", 40), "1", offsetmap.Tag{}, false},
		{"topic not base64", strings.Repeat("*", 22), "1", offsetmap.Tag{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseTag([]byte(tc.topic), []byte(tc.partition))
			if ok != tc.ok || got != tc.want {
				t.Errorf("parseTag(%q, %q) = %v, %v; want %v, %v", tc.topic, tc.partition, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestTopicTag(t *testing.T) {
	ct := &Topic{ID: testID}
	if got := ct.Tag(7); got != (offsetmap.Tag{Topic: testID, Partition: 7}) {
		t.Errorf("Tag(7) = %v", got)
	}
}

// FuzzDecodeTopic checks that decodeTopic never panics and that what it
// accepts survives a marshal and a second decode unchanged.
func FuzzDecodeTopic(f *testing.F) {
	f.Add([]byte("orders"), topicJSON(f, nil))
	f.Add([]byte("orders"), topicJSON(f, map[string]any{"configs": map[string]string{}}))
	f.Add([]byte("x"), []byte(`{"name":"x","id":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`))
	f.Add([]byte(""), []byte(`null`))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		got, err := decodeTopic(key, value)
		if err != nil {
			return
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeTopic(key, again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if len(got.Configs) == 0 {
			got.Configs = nil // omitempty drops an empty map
		}
		if !reflect.DeepEqual(back, got) {
			t.Fatalf("round trip changed %+v into %+v", got, back)
		}
	})
}
