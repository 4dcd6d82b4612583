package node_test

import (
	"bytes"
	"context"
	"errors"
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

// The update that came to the ledger, and how it is refused: full_name is
// no longer personal, the type moves from lane 1 to 9, a bound is cut, and
// the type's schema version stays.
var withdrawn = []string{
	"version: 1.1.0", "version: 1.2.0",
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
	_, err := n.PublishKit(ctx, "missing-persons.yaml", missingPersons(t, withdrawn...))
	if !errors.Is(err, fieldkits.ErrIncompatible) {
		t.Fatalf("an update that withdraws promises: %v", err)
	}
	for _, want := range []string{"missing-persons.yaml:", "missing-persons/missing-person", "1.2.0 may not replace 1.1.0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
	personal := missingPersons(t, "version: 1.1.0", "version: 1.2.0",
		"        required: true\n        personal: true\n        max: 120", "        required: true\n        max: 120",
		"    version: 2\n    scope: national\n    priority: 1", "    version: 3\n    scope: national\n    priority: 1")
	if _, err := n.PublishKit(ctx, "missing-persons.yaml", personal); err == nil || !strings.Contains(err.Error(), "missing-persons/missing-person.full_name: personal") {
		t.Fatalf("personal cleared: %v", err)
	}
	if _, err := n.PublishKit(ctx, "missing-persons.yaml", missingPersons(t, "version: 1.1.0", "version: 0.9.0")); !errors.Is(err, fieldkits.ErrNotNewer) {
		t.Fatalf("a downgrade: %v", err)
	}
	k, err := n.PublishKit(ctx, "missing-persons.yaml", missingPersons(t, "version: 1.1.0", "version: 1.2.0"))
	if err != nil || k.Version != "1.2.0" {
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
	publish(1, "1.2.0", missingPersons(t, "version: 1.1.0", "version: 1.2.0"))
	if v := kitVersion(n, "missing-persons"); v != "1.2.0" {
		t.Fatalf("after a compatible update the node uses %s", v)
	}

	publish(2, "1.3.0", missingPersons(t, append([]string{"version: 1.1.0", "version: 1.3.0"}, withdrawn[2:]...)...))
	if v := kitVersion(n, "missing-persons"); v != "1.1.0" {
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
	publish(3, "1.4.0", missingPersons(t, "version: 1.1.0", "version: 1.5.0"))
	if v := kitVersion(n, "missing-persons"); v != "1.1.0" {
		t.Fatalf("a file of another version than the ledger's is used: %s", v)
	}

	// The ledger refuses a lower version than the one it holds.
	err := node.ApplyKit(n, ca.Cert, 4, ledger.Kit{Name: "missing-persons", Version: "1.2.5", Body: missingPersons(t, "version: 1.1.0", "version: 1.2.5")})
	if err == nil || !strings.Contains(err.Error(), "not after 1.4.0") {
		t.Fatalf("a lower version than the ledger holds: %v", err)
	}
	// and HQ is told so when it publishes, before anything is queued.
	_, err = n.PublishKit(context.Background(), "missing-persons.yaml", missingPersons(t, "version: 1.1.0", "version: 1.3.5"))
	if !errors.Is(err, fieldkits.ErrNotNewer) || !strings.Contains(err.Error(), "the ledger holds version 1.4.0") {
		t.Fatalf("publishing below the ledger's version: %v", err)
	}
}
