package nodetest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Skipper is what NeedPrograms and SkipOrFail need of their caller:
// *testing.T.
type Skipper interface {
	Helper()
	Fatal(args ...any)
	Skip(args ...any)
}

// SkipOrFail skips the caller's test saying why (a program or file make
// deps installs is missing), except in CI (CI set), where it fails: CI
// installs them, and a test skipped there would pass unseen.
func SkipOrFail(t Skipper, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// NeedPrograms finds the programs named in PATH and returns their paths in
// order; without one, the test is skipped (SkipOrFail), saying which are
// missing and then install, how to get them.
func NeedPrograms(t Skipper, install string, names ...string) []string {
	t.Helper()
	var paths, missing []string
	for _, name := range names {
		p, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, name)
		}
		paths = append(paths, p)
	}
	if len(missing) > 0 {
		SkipOrFail(t, strings.Join(missing, " and ")+" not found: "+install)
	}
	return paths
}

// Output is what a process or a logger writes while a test reads it.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String is what was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
