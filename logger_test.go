package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	for _, tc := range []struct {
		level, format string
		wantErr       string
		// want matches each line written for one debug and one info
		// message; lines counts them.
		want  *regexp.Regexp
		lines int
	}{
		{level: "", format: "", want: regexp.MustCompile(`^\{"level":"info","ts":[0-9.]+,"caller":"[^"]+","msg":"info message"\}$`), lines: 1},
		{level: "debug", format: "json", want: regexp.MustCompile(`^\{"level":"(debug|info)","ts":[0-9.]+,"caller":"[^"]+","msg":"(debug|info) message"\}$`), lines: 2},
		{level: "", format: "console", want: regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d{4})\tINFO\t.*info message$`), lines: 1},
		{level: "warn", format: "console", lines: 0},
		{level: "", format: "yaml", wantErr: `GATEWAY_LOG_FORMAT "yaml"`},
		{level: "loud", format: "console", wantErr: `GATEWAY_LOG_LEVEL "loud"`},
	} {
		out := captureStderr(t, func() error {
			log, err := newLogger(tc.level, tc.format)
			if err != nil {
				return err
			}
			log.Debug("debug message")
			log.Info("info message")
			return log.Sync()
		}, tc.wantErr)
		if tc.wantErr != "" {
			continue
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if out == "" {
			lines = nil
		}
		if len(lines) != tc.lines {
			t.Errorf("level %q format %q: %d lines, want %d:\n%s", tc.level, tc.format, len(lines), tc.lines, out)
		}
		for _, l := range lines {
			if !tc.want.MatchString(l) {
				t.Errorf("level %q format %q: line %q does not match %s", tc.level, tc.format, l, tc.want)
			}
		}
	}
}

// captureStderr runs fn with os.Stderr sent to a file and returns what was
// written; fn's error must contain wantErr, or be nil when wantErr is empty.
func captureStderr(t *testing.T, fn func() error, wantErr string) string {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stderr
	os.Stderr = f
	err = fn()
	os.Stderr = saved
	switch {
	case wantErr == "" && err != nil:
		t.Fatal(err)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Fatalf("err = %v, want one containing %s", err, wantErr)
	}
	out, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
