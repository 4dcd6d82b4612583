package drill

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"lifeline/drill/netlab"
)

// testLog is the drill's progress in the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// The short drill, as make test runs it: every step against real lifeline
// processes in network namespaces, and nothing lost, diverged or crashed.
func TestShortDrill(t *testing.T) {
	if os.Geteuid() != 0 {
		netlab.Skip(t, "the drill needs root (network namespaces, file systems)")
	}
	for _, tool := range []string{"ip", "tc", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			netlab.Skip(t, fmt.Sprintf("the drill needs %s (make deps installs it)", tool))
		}
	}
	bin := filepath.Join(t.TempDir(), "lifeline")
	if out, err := exec.Command("go", "build", "-o", bin, "lifeline/cmd/lifeline").CombinedOutput(); err != nil {
		t.Fatalf("building lifeline: %v: %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	r, err := Run(ctx, Config{Bin: bin, Dir: t.TempDir(), Short: true, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	r.Write(&report)
	t.Log("\n" + report.String())
	if !r.OK() {
		t.Fatal("the drill lost, diverged or crashed: see the report above")
	}
	if len(r.Steps) != len(Steps)+1 {
		t.Fatalf("%d steps reported, want %d and the final check", len(r.Steps), len(Steps))
	}
}
