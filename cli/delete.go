package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"sort"

	"github.com/strait-gateway/strait/resource"
)

// delete removes one resource named on the command line, or the resources
// of files.
func (s *session) delete(args []string) error {
	fs := flag.NewFlagSet("delete", flag.ContinueOnError)
	var c conn
	c.register(fs)
	var files fileList
	fs.Var(&files, "f", "delete the resources of this YAML or JSON `FILE`, or of a directory's *.yaml, *.yml and *.json files; repeatable")
	var id identityFlags
	id.register(fs)
	exact := fs.Bool("exact", false, "delete the resource with exactly the identity given by --vcluster, --group and --username; without them, the one with no vCluster or scope")
	rest, err := s.parse(fs, "KIND NAME [--vcluster V] [--group G] [--username U] [--exact]\n       strait delete -f FILE|DIR [-f FILE|DIR ...]", args)
	switch {
	case err != nil:
		return err
	case len(files) > 0 && (len(rest) > 0 || id.set() || *exact):
		return usagef("delete", "delete: give either -f FILE or KIND NAME with its identity flags, not both")
	case len(files) == 0 && len(rest) != 2:
		return usagef("delete", "delete: expect KIND NAME, e.g. strait delete interceptor my-interceptor, or -f FILE")
	}
	cl, err := s.client("delete", c)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		return s.deleteFiles(cl, files)
	}
	kind, err := resolveKind("delete", rest[0])
	if err != nil {
		return err
	}
	name := rest[1]
	meta := map[string]any{"name": name}
	var body []byte // empty: the node finds the resource by name alone
	if id.set() || *exact {
		meta = id.metadata(kind, name)
		metaJSON, _ := json.Marshal(meta) // strings and maps always encode
		if _, err := resource.IdentityKey(kind, metaJSON); err != nil {
			return usagef("delete", "delete: the identity flags do not fit %s: %w", kind, err)
		}
		body, _ = json.Marshal(map[string]any{"metadata": meta})
	}
	err = cl.call("DELETE", kind, name, nil, body, nil)
	switch statusOf(err) {
	case 0:
	case http.StatusNotFound:
		return fmt.Errorf("cli: delete: %s not found", describe(kind, meta))
	case http.StatusConflict:
		return fmt.Errorf("cli: delete: several %s resources are named %s; choose one with --vcluster, --group or --username, or --exact for the one without (see 'strait get %s')",
			kind, name, rest[0])
	}
	if err != nil {
		return fmt.Errorf("cli: delete %s: %w", describe(kind, meta), err)
	}
	fmt.Fprintf(s.stdout, "%s: DELETED\n", describe(kind, meta))
	return nil
}

// deleteFiles deletes the resources of files in reverse dependency order.
// A resource already gone is reported and skipped; any other failure stops.
func (s *session) deleteFiles(cl *client, files []string) error {
	docs, err := s.load(files)
	if err != nil {
		return err
	}
	sort.SliceStable(docs, func(i, j int) bool {
		return resource.ApplyOrder(docs[i].res.Kind) > resource.ApplyOrder(docs[j].res.Kind)
	})
	missing := 0
	for i, d := range docs {
		name := describe(d.res.Kind, d.res.Identity)
		err := cl.call("DELETE", d.res.Kind, d.res.Name, nil, d.res.Raw, nil)
		switch {
		case statusOf(err) == http.StatusNotFound:
			fmt.Fprintf(s.stderr, "%s: %s: not found\n", d.source, name)
			missing++
			continue
		case err != nil:
			return fmt.Errorf("cli: %s: %s: %w; %s", d.source, name, err, done(i-missing, "deleted", false))
		}
		fmt.Fprintf(s.stdout, "%s: DELETED\n", name)
	}
	if missing > 0 {
		return fmt.Errorf("cli: delete: %d of %d resources were not found", missing, len(docs))
	}
	return nil
}
