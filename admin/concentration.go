package admin

import (
	"net/http"
	"sort"
	"strings"

	"github.com/strait-gateway/strait/concentration"
	"github.com/strait-gateway/strait/vcluster"
)

// ConcentratedTopics lists the concentrated topics of the gateway.
type ConcentratedTopics interface {
	Topics() []*concentration.Topic
}

// WithConcentration serves GET /gateway/v2/concentrated-topic from c.
func (a *API) WithConcentration(c ConcentratedTopics) *API {
	a.concentrated = c
	return a
}

// concentratedTopic is how the API shows one concentrated topic: names as
// its virtual cluster sees them.
type concentratedTopic struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       map[string]any `json:"spec"`
}

// concentrationRoute answers the read-only concentrated-topic endpoint;
// it reports false for other paths.
func (a *API) concentrationRoute(w http.ResponseWriter, r *http.Request, rest string) bool {
	if rest != "concentrated-topic" || a.concentrated == nil {
		return false
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "concentrated topics are read-only: create and delete them with Kafka's CreateTopics and DeleteTopics")
		return true
	}
	want := r.URL.Query().Get("vcluster")
	out := []concentratedTopic{}
	for _, t := range a.concentrated.Topics() {
		if want != "" && t.VCluster != want {
			continue
		}
		md := map[string]any{"name": inSpace(t.VCluster, t.Name)}
		if t.VCluster != vcluster.Passthrough {
			md["vCluster"] = t.VCluster
		}
		out = append(out, concentratedTopic{APIVersion: "gateway/v2", Kind: "ConcentratedTopic", Metadata: md, Spec: map[string]any{
			"id":                t.ID.String(),
			"concentrationRule": t.Rule,
			"physicalTopic":     inSpace(t.VCluster, t.Physical),
			"partitions":        len(t.Partitions),
			"cleanupPolicy":     t.CleanupPolicy,
			"configs":           t.Configs,
			"offsetCorrectness": t.Dense,
		}})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Metadata["name"].(string) < out[j].Metadata["name"].(string)
	})
	writeJSON(w, http.StatusOK, out)
	return true
}

// inSpace returns a backing name as its virtual cluster sees it.
func inSpace(vc, backing string) string {
	if vc == vcluster.Passthrough {
		return backing
	}
	return strings.TrimPrefix(backing, vc+vcluster.Separator)
}
