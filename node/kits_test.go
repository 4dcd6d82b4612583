package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"lifeline/fieldkits"
	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/syncproto"
)

// syncBuffer is a log several goroutines may write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openHQ makes, enrolls and opens an HQ node of a new CA, logging to log.
func openHQ(t *testing.T, log *syncBuffer) (*node.Node, *identity.CA) {
	t.Helper()
	ctx := context.Background()
	ca, err := identity.NewCA("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "hq")
	cfg.Log = slog.New(slog.NewTextHandler(log, nil))
	if err := node.Init(ctx, cfg, node.Identity{Name: "hq-belmopan", Role: syncproto.RoleHQ, District: "Cayo"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.EnrollWith(ctx, ca); err != nil {
		t.Fatal(err)
	}
	return n, ca
}

// missingPersons is the embedded missing-persons kit file, with edits.
func missingPersons(t *testing.T, edits ...string) []byte {
	t.Helper()
	data, err := os.ReadFile("../fieldkits/kits/missing-persons.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("the kit file has no %q", edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	return []byte(s)
}

// builtinMP is the version of the missing-persons kit built in, and its
// type's schema version: the tests speak of the versions after it.
func builtinMP(t *testing.T) (version string, typeVersion int) {
	t.Helper()
	k, err := fieldkits.Parse("missing-persons.yaml", missingPersons(t))
	if err != nil {
		t.Fatal(err)
	}
	return k.Version, int(k.Types[0].Version)
}

// mpAfter is a version of missing-persons after the one built in, its
// second number raised by minor, its third patch: 1.3.5 is mpAfter(t, 1, 5)
// when 1.2.0 is built in.
func mpAfter(t *testing.T, minor, patch int) string {
	t.Helper()
	v, _ := builtinMP(t)
	var major, min int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &min); err != nil {
		t.Fatalf("built-in version %q: %v", v, err)
	}
	return fmt.Sprintf("%d.%d.%d", major, min+minor, patch)
}

// mpAs is the missing-persons kit file of version v, with edits.
func mpAs(t *testing.T, v string, edits ...string) []byte {
	t.Helper()
	cur, _ := builtinMP(t)
	return missingPersons(t, append([]string{"version: " + cur, "version: " + v}, edits...)...)
}

// The update that came to the ledger, and how it is refused: full_name is
// no longer personal, the type moves from lane 1 to 9, a bound is cut, and
// the type's schema version stays.
var withdrawn = []string{
	"        required: true\n        personal: true\n        max: 120", "        required: true\n        max: 60",
	"    priority: 1", "    priority: 9",
}

func kitVersion(n *node.Node, name string) string {
	k, _ := n.Kits().Kit(name)
	return k.Version
}

func TestPublishKitRefusesAnIncompatibleUpdate(t *testing.T) {
	ctx := context.Background()
	n, _ := openHQ(t, &syncBuffer{})
	cur, tv := builtinMP(t)
	next := mpAfter(t, 1, 0)
	_, err := n.PublishKit(ctx, "missing-persons.yaml", mpAs(t, next, withdrawn...))
	if !errors.Is(err, fieldkits.ErrIncompatible) {
		t.Fatalf("an update that withdraws promises: %v", err)
	}
	for _, want := range []string{"missing-persons.yaml:", "missing-persons/missing-person", next + " may not replace " + cur} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
	personal := mpAs(t, next,
		"        required: true\n        personal: true\n        max: 120", "        required: true\n        max: 120",
		fmt.Sprintf("    version: %d\n    scope: national", tv), fmt.Sprintf("    version: %d\n    scope: national", tv+1))
	if _, err := n.PublishKit(ctx, "missing-persons.yaml", personal); err == nil || !strings.Contains(err.Error(), "missing-persons/missing-person.full_name: personal") {
		t.Fatalf("personal cleared: %v", err)
	}
	if _, err := n.PublishKit(ctx, "missing-persons.yaml", mpAs(t, "0.9.0")); !errors.Is(err, fieldkits.ErrNotNewer) {
		t.Fatalf("a downgrade: %v", err)
	}
	k, err := n.PublishKit(ctx, "missing-persons.yaml", mpAs(t, next))
	if err != nil || k.Version != next {
		t.Fatalf("a compatible update: %v", err)
	}
}

// Every node checks a published kit again when it loads it: one that is
// not a compatible successor of the kit it would replace is skipped,
// loudly, and the kit built in stays.
func TestLoadedKitsAreCompatibleSuccessors(t *testing.T) {
	var log syncBuffer
	n, ca := openHQ(t, &log)
	publish := func(index uint64, version string, body []byte) {
		t.Helper()
		if err := node.ApplyKit(n, ca.Cert, index, ledger.Kit{Name: "missing-persons", Version: version, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := builtinMP(t)
	v1, v2, v3 := mpAfter(t, 1, 0), mpAfter(t, 2, 0), mpAfter(t, 3, 0)
	publish(1, v1, mpAs(t, v1))
	if v := kitVersion(n, "missing-persons"); v != v1 {
		t.Fatalf("after a compatible update the node uses %s", v)
	}

	publish(2, v2, mpAs(t, v2, withdrawn...))
	if v := kitVersion(n, "missing-persons"); v != cur {
		t.Fatalf("after an incompatible update the node uses %s, want the kit built in", v)
	}
	ty, _ := n.Kits().Type("missing-person")
	if f, _ := ty.Field("full_name"); !f.Personal || ty.Priority != 1 {
		t.Fatal("an incompatible update took effect")
	}
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "not a compatible successor") {
		t.Fatalf("the skip is not logged as an error:\n%s", log.String())
	}

	// A file that is not the version the ledger names is skipped too.
	publish(3, v3, mpAs(t, mpAfter(t, 4, 0)))
	if v := kitVersion(n, "missing-persons"); v != cur {
		t.Fatalf("a file of another version than the ledger's is used: %s", v)
	}

	// The ledger refuses a lower version than the one it holds.
	lower := mpAfter(t, 1, 5)
	err := node.ApplyKit(n, ca.Cert, 4, ledger.Kit{Name: "missing-persons", Version: lower, Body: mpAs(t, lower)})
	if err == nil || !strings.Contains(err.Error(), "not after "+v3) {
		t.Fatalf("a lower version than the ledger holds: %v", err)
	}
	// and HQ is told so when it publishes, before anything is queued.
	_, err = n.PublishKit(context.Background(), "missing-persons.yaml", mpAs(t, mpAfter(t, 2, 5)))
	if !errors.Is(err, fieldkits.ErrNotNewer) || !strings.Contains(err.Error(), "the ledger holds version "+v3) {
		t.Fatalf("publishing below the ledger's version: %v", err)
	}
}
