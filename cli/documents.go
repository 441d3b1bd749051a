package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/strait-gateway/strait/resource"
)

// document is one validated resource read from a file.
type document struct {
	source string // where it was read: "FILE: document N (line L)"
	res    *resource.Resource
}

// load reads every document in the files and directories of paths and
// validates each with resource.Parse. It prints every problem, one line
// each, and fails if there was any, so that nothing is sent.
func (s *session) load(paths []string) ([]document, error) {
	var docs []document
	problems := 0
	report := func(err error) {
		fmt.Fprintln(s.stderr, err)
		problems++
	}
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			report(err)
			continue
		}
		for _, f := range files {
			found, errs := readFile(f)
			docs = append(docs, found...)
			for _, err := range errs {
				report(err)
			}
		}
	}
	first := map[string]string{} // canonical key → source
	for _, d := range docs {
		key := string(d.res.Key())
		if src, ok := first[key]; ok {
			report(fmt.Errorf("%s: %s is already defined at %s", d.source, describe(d.res.Kind, d.res.Identity), src))
		} else {
			first[key] = d.source
		}
	}
	if problems > 0 {
		return nil, fmt.Errorf("cli: %d problem(s) in %s; nothing was sent", problems, strings.Join(paths, ", "))
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("cli: no resources in %s", strings.Join(paths, ", "))
	}
	return docs, nil
}

// expand returns path itself if it is a file, or the *.yaml, *.yml and
// *.json files of a directory (not its subdirectories), sorted by name.
func expand(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cli: %w", err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("cli: %w", err)
	}
	var files []string
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".yaml", ".yml", ".json":
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("cli: %s: no *.yaml, *.yml or *.json files in the directory", path)
	}
	return files, nil
}

// readFile reads the YAML documents of a file ("---" between them; JSON
// is YAML too). A document that is a sequence, such as the JSON array of
// `strait get -o json`, holds one resource per item. Empty documents are
// skipped but counted, so that "document N" is the Nth in the file.
func readFile(file string) ([]document, []error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, []error{fmt.Errorf("cli: %w", err)}
	}
	var docs []document
	var errs []error
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for n := 1; ; n++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			return docs, errs
		}
		if err != nil { // a syntax error ends the stream; the error names the line
			return docs, append(errs, fmt.Errorf("%s: document %d: %w", file, n, err))
		}
		body := root.Content[0]
		items, where := []*yaml.Node{body}, fmt.Sprintf("%s: document %d", file, n)
		switch {
		case body.Kind == yaml.SequenceNode:
			items = body.Content
		case body.ShortTag() == "!!null":
			continue
		}
		for i, item := range items {
			source := fmt.Sprintf("%s (line %d)", where, item.Line)
			if body.Kind == yaml.SequenceNode {
				source = fmt.Sprintf("%s, item %d (line %d)", where, i+1, item.Line)
			}
			var buf bytes.Buffer
			if err := toJSON(&buf, item); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", source, err))
				continue
			}
			res, err := resource.Parse(buf.Bytes(), "")
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", source, err))
				continue
			}
			docs = append(docs, document{source: source, res: res})
		}
	}
}
