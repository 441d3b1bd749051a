// Package cli is Strait's command line client, built into the strait
// binary: `strait apply`, `strait get` and `strait delete` manage the
// declarative resources (package resource) through a running node's admin
// HTTP API (package admin). apply reads multi-document YAML or JSON files,
// validates every document locally before sending any, and upserts them in
// dependency order; get prints resources in a form apply accepts back.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/strait-gateway/strait/resource"
)

// Run runs the command in args (the arguments after the program name) and
// returns the process's exit code: 0 on success, 1 when the command failed
// and 2 on a usage error. env looks up environment variables, as
// os.LookupEnv does.
func Run(args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	s := &session{env: env, stdout: stdout, stderr: stderr}
	err := s.dispatch(args)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "strait:", err)
		fmt.Fprintf(stderr, "Run '%s' for usage.\n", strings.TrimSpace("strait help "+ue.cmd))
		return 2
	default:
		fmt.Fprintln(stderr, "strait:", err)
		return 1
	}
}

// session is one run of the command line: where it reads its settings and
// writes its output.
type session struct {
	env            func(string) (string, bool)
	stdout, stderr io.Writer
}

// errHelp reports that help was asked for and printed.
var errHelp = errors.New("cli: help printed")

// usageError is a mistake in the command line itself.
type usageError struct {
	cmd string // the command whose help to point to; empty for the top level
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, err: fmt.Errorf("cli: "+format, args...)}
}

func (s *session) dispatch(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(s.stderr, usage())
		return usagef("", "no command")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if args[0] == "help" && len(args) > 1 {
			return s.dispatch([]string{args[1], "-h"})
		}
		fmt.Fprint(s.stdout, usage())
		return nil
	case "apply":
		return s.apply(args[1:])
	case "get":
		return s.get(args[1:])
	case "delete":
		return s.delete(args[1:])
	}
	return usagef("", "unknown command %q; expect apply, get, delete or help (without arguments strait starts the gateway)", args[0])
}

func usage() string {
	var b strings.Builder
	b.WriteString(`Usage:
  strait                          start the gateway (configured by GATEWAY_* and KAFKA_* variables)
  strait apply -f FILE|DIR ...    create or update the resources in YAML or JSON files
  strait get KIND [NAME]          print resources as YAML (or JSON with -o json)
  strait delete KIND NAME         delete one resource
  strait delete -f FILE|DIR ...   delete the resources in files
  strait help [COMMAND]           show help; 'strait help apply' lists apply's flags

The commands are clients of a node's admin API. They connect with
  --url URL            default $STRAIT_URL, else ` + defaultURL + `
  --user, --password   default $STRAIT_USER and $STRAIT_PASSWORD (prefer the
                       environment: command lines are visible to other users)
  --timeout DURATION   for each request, default 30s

Kinds, in apply order (KIND may also be the API path, in any case, or a plural):
`)
	for _, k := range resource.KindNames() {
		fmt.Fprintf(&b, "  %-22s %s\n", k, resource.PathForKind(k))
	}
	return b.String()
}

// parse parses a command's flags wherever they are among its arguments, as
// users of kubectl expect, and returns the other arguments; "--" ends the
// flags. -h prints the command's usage to stdout and returns errHelp.
func (s *session) parse(fs *flag.FlagSet, synopsis string, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(s.stdout, "Usage: strait %s %s\n\nFlags:\n", fs.Name(), synopsis)
				fs.SetOutput(s.stdout)
				fs.PrintDefaults()
				return nil, errHelp
			}
			return nil, &usageError{cmd: fs.Name(), err: fmt.Errorf("cli: %s: %w", fs.Name(), err)}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// fileList is a repeatable -f flag.
type fileList []string

func (f *fileList) String() string { return strings.Join(*f, ",") }

func (f *fileList) Set(path string) error {
	*f = append(*f, path)
	return nil
}
