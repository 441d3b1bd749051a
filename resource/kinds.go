package resource

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/strait-gateway/strait/acl"
	"github.com/strait-gateway/strait/interceptor"
)

func init() {
	register("VirtualCluster", kind{path: "virtual-cluster", order: 0, metadata: virtualClusterMetadata, spec: virtualClusterSpec})
	register("AliasTopic", kind{path: "alias-topic", order: 1, metadata: aliasTopicMetadata, spec: aliasTopicSpec})
	register("ConcentrationRule", kind{path: "concentration-rule", order: 2, metadata: nameAndVCluster, spec: concentrationRuleSpec})
	register("GatewayServiceAccount", kind{path: "service-account", order: 3, metadata: nameAndVCluster, spec: serviceAccountSpec})
	register("GatewayGroup", kind{path: "group", order: 4, metadata: nameOnly, spec: groupSpec})
	register("Interceptor", kind{path: "interceptor", order: 5, metadata: interceptorMetadata, spec: interceptorSpec})
}

// decodeInto strictly decodes raw into v and names the field of any error
// with the given prefix (metadata or spec).
func decodeInto(prefix string, raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return fieldErr(prefix, "is required")
	}
	err := strictUnmarshal(raw, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fieldErr(prefix+"."+te.Field, "expect a %s, got %s", te.Type, te.Value)
	}
	if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
		return fieldErr(prefix+"."+m[1], "unknown field")
	}
	return fieldErr(prefix, "%v", err)
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]*)"`)

func nameOnly(raw json.RawMessage) (map[string]any, error) {
	var m struct {
		Name string `json:"name"`
	}
	if err := decodeInto("metadata", raw, &m); err != nil {
		return nil, err
	}
	if err := checkName("metadata.name", m.Name); err != nil {
		return nil, err
	}
	return map[string]any{"name": m.Name}, nil
}

// vclusterRE is the rule for virtual cluster names: they prefix physical
// topic names followed by a dot, so they cannot contain one.
var vclusterRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func checkVCluster(field, name string) error {
	if !vclusterRE.MatchString(name) {
		return fieldErr(field, "%q is not a valid virtual cluster name (1–64 letters, digits, '_' or '-')", name)
	}
	return nil
}

func virtualClusterMetadata(raw json.RawMessage) (map[string]any, error) {
	var m struct {
		Name string `json:"name"`
	}
	if err := decodeInto("metadata", raw, &m); err != nil {
		return nil, err
	}
	if err := checkVCluster("metadata.name", m.Name); err != nil {
		return nil, err
	}
	return map[string]any{"name": m.Name}, nil
}

// aliasTopicMetadata requires a virtual cluster: an alias names a topic
// inside one, and passthrough clients name physical topics directly.
func aliasTopicMetadata(raw json.RawMessage) (map[string]any, error) {
	id, err := nameAndVCluster(raw)
	if err == nil && (id["vCluster"] == nil || id["vCluster"] == "passthrough") {
		return nil, fieldErr("metadata.vCluster", "an alias lives in a virtual cluster other than passthrough")
	}
	return id, err
}

func nameAndVCluster(raw json.RawMessage) (map[string]any, error) {
	var m struct {
		Name     string  `json:"name"`
		VCluster *string `json:"vCluster"`
	}
	if err := decodeInto("metadata", raw, &m); err != nil {
		return nil, err
	}
	if err := checkName("metadata.name", m.Name); err != nil {
		return nil, err
	}
	id := map[string]any{"name": m.Name}
	if m.VCluster != nil && *m.VCluster != "" {
		if err := checkVCluster("metadata.vCluster", *m.VCluster); err != nil {
			return nil, err
		}
		id["vCluster"] = *m.VCluster
	}
	return id, nil
}

// interceptorMetadata keeps the difference the seeds give meaning to: a
// scope field set to null (matches every virtual cluster) versus omitted.
func interceptorMetadata(raw json.RawMessage) (map[string]any, error) {
	var m struct {
		Name  string                     `json:"name"`
		Scope map[string]json.RawMessage `json:"scope"`
	}
	if err := decodeInto("metadata", raw, &m); err != nil {
		return nil, err
	}
	if err := checkName("metadata.name", m.Name); err != nil {
		return nil, err
	}
	id := map[string]any{"name": m.Name}
	scope := map[string]any{}
	for field, v := range m.Scope {
		switch field {
		case "vCluster", "group", "username":
		default:
			return nil, fieldErr("metadata.scope."+field, "unknown field; expect vCluster, group or username")
		}
		if string(v) == "null" {
			scope[field] = nil
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fieldErr("metadata.scope."+field, "expect a string or null")
		}
		if err := checkName("metadata.scope."+field, s); err != nil {
			return nil, err
		}
		scope[field] = s
	}
	if len(scope) > 0 {
		id["scope"] = scope
	}
	return id, nil
}

func interceptorSpec(raw json.RawMessage) error {
	var s struct {
		PluginClass string          `json:"pluginClass"`
		Priority    *int            `json:"priority"`
		Config      json.RawMessage `json:"config"`
		Comment     string          `json:"comment"`
	}
	if err := decodeInto("spec", raw, &s); err != nil {
		return err
	}
	if strings.TrimSpace(s.PluginClass) == "" {
		return fieldErr("spec.pluginClass", "is required")
	}
	if s.Priority == nil {
		return fieldErr("spec.priority", "is required")
	}
	if len(s.Config) > 0 && s.Config[0] != '{' && string(s.Config) != "null" {
		return fieldErr("spec.config", "expect an object")
	}
	var ce *interceptor.ConfigError
	switch err := interceptor.Validate(s.PluginClass, s.Config); {
	case err == nil:
		return nil
	case errors.As(err, &ce) && ce.Field == "pluginClass":
		return fieldErr("spec.pluginClass", "%s", ce.Msg)
	case errors.As(err, &ce) && ce.Field != "":
		return fieldErr("spec.config."+ce.Field, "%s", ce.Msg)
	default:
		return fieldErr("spec.config", "%v", err)
	}
}

func serviceAccountSpec(raw json.RawMessage) error {
	var s struct {
		Type          string   `json:"type"`
		ExternalNames []string `json:"externalNames"`
	}
	if err := decodeInto("spec", raw, &s); err != nil {
		return err
	}
	switch s.Type {
	case "LOCAL":
		if len(s.ExternalNames) > 0 {
			return fieldErr("spec.externalNames", "only for type EXTERNAL")
		}
	case "EXTERNAL":
		if len(s.ExternalNames) == 0 {
			return fieldErr("spec.externalNames", "is required for type EXTERNAL")
		}
		for i, n := range s.ExternalNames {
			if strings.TrimSpace(n) == "" {
				return fieldErr(fmt.Sprintf("spec.externalNames[%d]", i), "is empty")
			}
		}
	default:
		return fieldErr("spec.type", "expect LOCAL or EXTERNAL, got %q", s.Type)
	}
	return nil
}

func groupSpec(raw json.RawMessage) error {
	var s struct {
		Members []struct {
			Name     string `json:"name"`
			VCluster string `json:"vCluster"`
		} `json:"members"`
		ExternalGroups []string `json:"externalGroups"`
	}
	if err := decodeInto("spec", raw, &s); err != nil {
		return err
	}
	for i, m := range s.Members {
		if err := checkName(fmt.Sprintf("spec.members[%d].name", i), m.Name); err != nil {
			return err
		}
		if m.VCluster != "" {
			if err := checkVCluster(fmt.Sprintf("spec.members[%d].vCluster", i), m.VCluster); err != nil {
				return err
			}
		}
	}
	for i, g := range s.ExternalGroups {
		if strings.TrimSpace(g) == "" {
			return fieldErr(fmt.Sprintf("spec.externalGroups[%d]", i), "is empty")
		}
	}
	return nil
}

func virtualClusterSpec(raw json.RawMessage) error {
	var s struct {
		Type             string            `json:"type"`
		ACLEnabled       bool              `json:"aclEnabled"`
		ACLMode          string            `json:"aclMode"`
		SuperUsers       []string          `json:"superUsers"`
		ACLs             []json.RawMessage `json:"acls"`
		BootstrapServers string            `json:"bootstrapServers"`
		ClientProperties json.RawMessage   `json:"clientProperties"`
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil // every field has a default
	}
	if err := decodeInto("spec", raw, &s); err != nil {
		return err
	}
	switch s.Type {
	case "", "Standard", "Partner":
	default:
		return fieldErr("spec.type", "expect Standard or Partner, got %q", s.Type)
	}
	switch s.ACLMode {
	case "", "KAFKA_API", "REST_API":
	default:
		return fieldErr("spec.aclMode", "expect KAFKA_API or REST_API, got %q", s.ACLMode)
	}
	if len(s.ACLs) > 0 && s.ACLMode != "REST_API" {
		return fieldErr("spec.acls", "only with aclMode REST_API")
	}
	for i, raw := range s.ACLs {
		var b acl.Binding
		if err := json.Unmarshal(raw, &b); err != nil {
			return fieldErr(fmt.Sprintf("spec.acls[%d]", i), "%v", err)
		}
	}
	for i, u := range s.SuperUsers {
		if strings.TrimSpace(u) == "" {
			return fieldErr(fmt.Sprintf("spec.superUsers[%d]", i), "is empty")
		}
	}
	return nil
}

// ConcentrationRuleSpec is the spec of a ConcentrationRule.
type ConcentrationRuleSpec struct {
	// Pattern is a regular expression a whole topic name must match.
	Pattern string `json:"pattern"`
	// PhysicalTopics names the physical topic of each cleanup policy;
	// Delete is required.
	PhysicalTopics struct {
		Delete        string `json:"delete"`
		Compact       string `json:"compact"`
		DeleteCompact string `json:"deleteCompact"`
	} `json:"physicalTopics"`
	AutoManaged       bool `json:"autoManaged"`
	OffsetCorrectness bool `json:"offsetCorrectness"`
}

func concentrationRuleSpec(raw json.RawMessage) error {
	var s ConcentrationRuleSpec
	if err := decodeInto("spec", raw, &s); err != nil {
		return err
	}
	if s.Pattern == "" {
		return fieldErr("spec.pattern", "is required")
	}
	if _, err := regexp.Compile(s.Pattern); err != nil {
		return fieldErr("spec.pattern", "invalid regular expression: %v", err)
	}
	if err := checkTopic("spec.physicalTopics.delete", s.PhysicalTopics.Delete); err != nil {
		return err
	}
	for field, topic := range map[string]string{"compact": s.PhysicalTopics.Compact, "deleteCompact": s.PhysicalTopics.DeleteCompact} {
		if topic != "" {
			if err := checkTopic("spec.physicalTopics."+field, topic); err != nil {
				return err
			}
		}
	}
	return nil
}

func aliasTopicSpec(raw json.RawMessage) error {
	var s struct {
		PhysicalName    string `json:"physicalName"`
		PhysicalCluster string `json:"physicalCluster"`
	}
	if err := decodeInto("spec", raw, &s); err != nil {
		return err
	}
	return checkTopic("spec.physicalName", s.PhysicalName)
}
