package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
)

// get prints one resource, or the resources of a kind, as YAML or JSON
// that apply accepts back.
func (s *session) get(args []string) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	var c conn
	c.register(fs)
	output := fs.String("o", "yaml", "output `format`: yaml (a \"---\"-separated stream) or json (an object for NAME, else an array)")
	var id identityFlags
	id.register(fs)
	rest, err := s.parse(fs, "KIND [NAME] [-o yaml|json] [--vcluster V] [--group G] [--username U]", args)
	switch {
	case err != nil:
		return err
	case len(rest) == 0:
		return usagef("get", "get: which kind? e.g. strait get interceptor")
	case len(rest) > 2:
		return usagef("get", "get: unexpected argument %q", rest[2])
	case *output != "yaml" && *output != "json":
		return usagef("get", "get: -o %q: expect yaml or json", *output)
	}
	kind, err := resolveKind("get", rest[0])
	if err != nil {
		return err
	}
	cl, err := s.client("get", c)
	if err != nil {
		return err
	}
	if len(rest) == 1 {
		var list []json.RawMessage
		if err := cl.call("GET", kind, "", id.query(), nil, &list); err != nil {
			return fmt.Errorf("cli: get %s: %w", kind, err)
		}
		if len(list) == 0 && *output == "yaml" {
			fmt.Fprintf(s.stderr, "no %s resources\n", kind)
		}
		return s.print(*output, list, list)
	}
	name := rest[1]
	var one json.RawMessage
	err = cl.call("GET", kind, name, id.query(), nil, &one)
	switch statusOf(err) {
	case 0:
	case http.StatusNotFound:
		return fmt.Errorf("cli: get: %s %s not found%s", kind, name, narrowed(id))
	case http.StatusConflict:
		return fmt.Errorf("cli: get: several %s resources are named %s; choose one with --vcluster, --group or --username, or list them with 'strait get %s'",
			kind, name, rest[0])
	}
	if err != nil {
		return fmt.Errorf("cli: get %s/%s: %w", kind, name, err)
	}
	return s.print(*output, []json.RawMessage{one}, one)
}

// narrowed mentions the identity flags a lookup used.
func narrowed(id identityFlags) string {
	if !id.set() {
		return ""
	}
	return " with " + id.query().Encode()
}

// print writes docs as YAML, or asJSON as indented JSON.
func (s *session) print(format string, docs []json.RawMessage, asJSON any) error {
	if format == "yaml" {
		return writeYAML(s.stdout, docs)
	}
	enc := json.NewEncoder(s.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(asJSON); err != nil {
		return fmt.Errorf("cli: a document from the admin API is not JSON: %w", err)
	}
	return nil
}
