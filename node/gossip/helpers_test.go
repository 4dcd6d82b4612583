package gossip

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"lifeline/syncproto"
)

// testLog discards logs unless GOSSIP_TEST_LOG is set: memberlist logs
// from goroutines that may outlive a test, which t.Log does not allow.
func testLog() *slog.Logger {
	if os.Getenv("GOSSIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testMeta is valid metadata for a member called name.
func testMeta(name string) Meta {
	return Meta{
		Version:  MetaVersion,
		Node:     syncproto.NodeIDFromKey([]byte("key of " + name)),
		Name:     name,
		Role:     "field",
		District: "Cayo",
		SyncAddr: "127.0.0.1:7400",
		MinProto: syncproto.MinVersion,
		MaxProto: syncproto.MaxVersion,
	}
}

// member is a Gossip under test with what it was told.
type member struct {
	*Gossip
	keyFile string

	mu     sync.Mutex
	meta   Meta
	events []recorded
	msgs   [][]byte
}

type recorded struct {
	kind eventKind
	m    Member
}

func (m *member) getMeta() Meta {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.meta
}

// setMeta changes the member's metadata (UpdateMeta spreads it).
func (m *member) setMeta(f func(*Meta)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.meta)
}

func (m *member) record(kind eventKind, mem Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, recorded{kind, mem})
}

func (m *member) Joined(mem Member)  { m.record(evJoined, mem) }
func (m *member) Updated(mem Member) { m.record(evUpdated, mem) }
func (m *member) Left(mem Member)    { m.record(evLeft, mem) }

func (m *member) onMessage(msg []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, slices.Clone(msg))
	return nil
}

// eventsOf lists the events the member received about node.
func (m *member) eventsOf(node syncproto.NodeID) []recorded {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []recorded
	for _, e := range m.events {
		if e.m.Node == node {
			out = append(out, e)
		}
	}
	return out
}

func (m *member) countEvents(kind eventKind) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range m.events {
		if e.kind == kind {
			n++
		}
	}
	return n
}

// startMember starts a member on loopback with the Test profile and the
// given keys, and shuts it down when the test ends.
func startMember(t *testing.T, name string, keys [][]byte) *member {
	t.Helper()
	m, err := tryStartMember(t, name, keys)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tryStartMember(t *testing.T, name string, keys [][]byte) (*member, error) {
	t.Helper()
	return tryStartMemberOf(t, name, keys, 0)
}

// tryStartMemberOf is tryStartMember admitting at most maxMembers members
// (Config.MaxMembers).
func tryStartMemberOf(t *testing.T, name string, keys [][]byte, maxMembers int) (*member, error) {
	t.Helper()
	m := &member{keyFile: filepath.Join(t.TempDir(), KeyFile), meta: testMeta(name)}
	if err := WriteKeyFile(m.keyFile, keys); err != nil {
		t.Fatal(err)
	}
	g, err := Start(Config{
		BindAddr:   "127.0.0.1:0",
		KeyFile:    m.keyFile,
		Profile:    Test,
		Meta:       m.getMeta,
		OnMessage:  m.onMessage,
		Events:     m,
		Log:        testLog(),
		MaxMembers: maxMembers,
	})
	if err != nil {
		return nil, err
	}
	m.Gossip = g
	t.Cleanup(func() {
		if err := g.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	return m, nil
}

func mustKey(t testing.TB) []byte {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// eventually polls cond until it returns nil, failing the test with cond's
// last error after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %v: %v", what, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seesExactly checks that m's member list is exactly want (by node), each
// alive with the metadata want's members set.
func seesExactly(m *member, want ...*member) error {
	got := m.Members()
	if len(got) != len(want) {
		return fmt.Errorf("%s sees %d members, want %d: %v", m.getMeta().Name, len(got), len(want), names(got))
	}
	for _, w := range want {
		wm := w.getMeta()
		i := slices.IndexFunc(got, func(g Member) bool { return g.Node == wm.Node })
		if i < 0 {
			return fmt.Errorf("%s does not see %s: %v", m.getMeta().Name, wm.Name, names(got))
		}
		if got[i].State != StateAlive {
			return fmt.Errorf("%s sees %s %s", m.getMeta().Name, wm.Name, got[i].State)
		}
		if !reflect.DeepEqual(got[i].Meta, wm) {
			return fmt.Errorf("%s sees %s with metadata %+v, want %+v", m.getMeta().Name, wm.Name, got[i].Meta, wm)
		}
		if got[i].Addr != w.Addr() {
			return fmt.Errorf("%s sees %s at %s, want %s", m.getMeta().Name, wm.Name, got[i].Addr, w.Addr())
		}
	}
	return nil
}

// stateOf is the state m sees of. "" if m does not list it.
func stateOf(m, of *member) string {
	for _, g := range m.Members() {
		if g.Node == of.getMeta().Node {
			return g.State
		}
	}
	return ""
}

func names(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name+"/"+m.State)
	}
	return out
}
