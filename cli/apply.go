package cli

import (
	"flag"
	"fmt"
	"net/url"
	"sort"

	"github.com/strait-gateway/strait/resource"
)

// apply upserts the resources of files in dependency order.
func (s *session) apply(args []string) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	var c conn
	c.register(fs)
	var files fileList
	fs.Var(&files, "f", "a YAML or JSON `FILE` (\"---\" between documents), or a directory of *.yaml, *.yml and *.json files; repeatable")
	dryRun := fs.Bool("dry-run", false, "have the node validate every resource and report what would change, writing nothing")
	rest, err := s.parse(fs, "-f FILE|DIR [-f FILE|DIR ...] [--dry-run]", args)
	switch {
	case err != nil:
		return err
	case len(rest) > 0:
		return usagef("apply", "apply: unexpected argument %q; name files with -f", rest[0])
	case len(files) == 0:
		return usagef("apply", "apply: no files; name them with -f FILE or -f DIR")
	}
	cl, err := s.client("apply", c)
	if err != nil {
		return err
	}
	docs, err := s.load(files)
	if err != nil {
		return err
	}
	sort.SliceStable(docs, func(i, j int) bool {
		return resource.ApplyOrder(docs[i].res.Kind) < resource.ApplyOrder(docs[j].res.Kind)
	})
	query, suffix := url.Values{}, ""
	if *dryRun {
		query.Set("dryMode", "true")
		suffix = " (dry run)"
	}
	for i, d := range docs {
		var answer struct {
			UpsertResult string `json:"upsertResult"`
		}
		name := describe(d.res.Kind, d.res.Identity)
		if err := cl.call("PUT", d.res.Kind, "", query, d.res.Raw, &answer); err != nil {
			return fmt.Errorf("cli: %s: %s: %w; %s", d.source, name, err, done(i, "applied", *dryRun))
		}
		fmt.Fprintf(s.stdout, "%s: %s%s\n", name, answer.UpsertResult, suffix)
	}
	return nil
}

// done says what became of the n resources handled before a failure.
func done(n int, verb string, dryRun bool) string {
	switch {
	case dryRun:
		return "it was a dry run: nothing was written"
	case n == 0:
		return "nothing was " + verb
	case n == 1:
		return "the resource before it was " + verb + " and stays " + verb
	}
	return fmt.Sprintf("the %d resources before it were %s and stay %s", n, verb, verb)
}
