package gossip

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"lifeline/syncproto"
)

// converge is how long members on loopback with the Test profile get to
// agree; it is a deadline, not a wait.
const converge = 10 * time.Second

// startCluster starts n members with the same keys; all but the first join
// the first.
func startCluster(t *testing.T, n int, keys [][]byte) []*member {
	t.Helper()
	var ms []*member
	for i := range n {
		ms = append(ms, startMember(t, fmt.Sprintf("member-%d", i+1), keys))
	}
	for _, m := range ms[1:] {
		if _, err := m.Join([]string{ms[0].Addr()}); err != nil {
			t.Fatal(err)
		}
	}
	allSee(t, ms...)
	return ms
}

// allSee waits until each of ms sees exactly ms, alive, with their current
// metadata.
func allSee(t *testing.T, ms ...*member) {
	t.Helper()
	eventually(t, converge, "every member sees every other", func() error {
		for _, m := range ms {
			if err := seesExactly(m, ms...); err != nil {
				return err
			}
		}
		return nil
	})
}

// spread has m's new metadata sent. A timeout is no failure: on a loaded
// machine not every retransmission may have gone out; the callers check
// that the others see the change.
func spread(t *testing.T, m *member) {
	t.Helper()
	if err := m.UpdateMeta(5 * time.Second); err != nil {
		if !errors.Is(err, ErrTimeout) {
			t.Fatal(err)
		}
		t.Log(err)
	}
}

func TestMembership(t *testing.T) {
	ms := startCluster(t, 4, [][]byte{mustKey(t)})
	m1, m2, m3, m4 := ms[0], ms[1], ms[2], ms[3]

	// Members is sorted by name and includes the member itself.
	if got := names(m3.Members()); !slices.Equal(got, []string{"member-1/alive", "member-2/alive", "member-3/alive", "member-4/alive"}) {
		t.Errorf("m3 lists %v", got)
	}
	// Each member was told of the three others joining, and not of itself.
	eventually(t, converge, "Joined events", func() error {
		for _, m := range ms {
			if n := m.countEvents(evJoined); n != 3 {
				return fmt.Errorf("%s got %d Joined events, want 3", m.getMeta().Name, n)
			}
			if ev := m.eventsOf(m.getMeta().Node); len(ev) != 0 {
				return fmt.Errorf("%s got events about itself: %v", m.getMeta().Name, ev)
			}
		}
		return nil
	})

	// A change of metadata reaches the others, as an Updated event too.
	m2.setMeta(func(m *Meta) {
		m.Ledger, m.Raft, m.Role = 1234, RaftVoter, "relay"
		m.Vector = VectorDigest(syncproto.Vector{{Origin: m.Node, Lane: 1}: 8})
	})
	spread(t, m2)
	allSee(t, ms...)
	eventually(t, converge, "Updated events", func() error {
		for _, m := range []*member{m1, m3, m4} {
			ev := m.eventsOf(m2.getMeta().Node)
			if len(ev) == 0 || ev[len(ev)-1].kind != evUpdated || ev[len(ev)-1].m.Ledger != 1234 {
				return fmt.Errorf("%s got %v about member-2", m.getMeta().Name, ev)
			}
		}
		return nil
	})
	// Metadata that does not encode is refused, and the old one stays.
	m2.setMeta(func(m *Meta) { m.Role = "medic" })
	if err := m2.UpdateMeta(5 * time.Second); err == nil || !strings.Contains(err.Error(), `role "medic"`) {
		t.Errorf("UpdateMeta with an unknown role: %v", err)
	}
	m2.setMeta(func(m *Meta) { m.Role = "relay" })

	// A member that leaves is reported left; one that just stops, dead.
	if err := m4.Leave(5 * time.Second); err != nil && !errors.Is(err, ErrTimeout) {
		t.Fatal(err)
	}
	if err := m4.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := m3.Shutdown(); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "m3 dead and m4 left", func() error {
		for _, m := range []*member{m1, m2} {
			if s3, s4 := stateOf(m, m3), stateOf(m, m4); s3 != StateDead || s4 != StateLeft {
				return fmt.Errorf("%s sees member-3 %s, member-4 %s", m.getMeta().Name, s3, s4)
			}
			ev := m.eventsOf(m3.getMeta().Node)
			if len(ev) == 0 || ev[len(ev)-1].kind != evLeft || ev[len(ev)-1].m.State != StateDead {
				return fmt.Errorf("%s got %v about member-3", m.getMeta().Name, ev)
			}
			// The Left event says left as a rule; but if memberlist's leave
			// message arrived before the Leaving metadata (lost packets),
			// it said dead, and only the list was corrected afterwards.
			ev = m.eventsOf(m4.getMeta().Node)
			if len(ev) == 0 || ev[len(ev)-1].kind != evLeft {
				return fmt.Errorf("%s got %v about member-4", m.getMeta().Name, ev)
			}
		}
		return nil
	})
	// Gone members stay listed, with when they went.
	for _, mem := range m1.Members() {
		if mem.State != StateAlive && time.Since(mem.Since) > converge {
			t.Errorf("member %s %s since %v", mem.Name, mem.State, mem.Since)
		}
	}
	// The methods of a member that was shut down say so.
	if _, err := m3.Join([]string{m1.Addr()}); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Shutdown: %v", err)
	}
	if err := m3.Broadcast([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Broadcast after Shutdown: %v", err)
	}
	if err := m3.Leave(time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("Leave after Shutdown: %v", err)
	}
}

func TestBroadcast(t *testing.T) {
	ms := startCluster(t, 4, [][]byte{mustKey(t)})
	const each = 5
	for i, m := range ms {
		for j := range each {
			if err := m.Broadcast([]byte(fmt.Sprintf("message %d from member-%d", j, i+1))); err != nil {
				t.Fatal(err)
			}
		}
	}
	big := bytes.Repeat([]byte{'x'}, MaxMessage)
	if err := ms[0].Broadcast(big); err != nil {
		t.Fatal(err)
	}
	if err := ms[0].Broadcast(append(big, 'x')); err == nil {
		t.Errorf("a message of %d bytes was accepted", MaxMessage+1)
	}
	if err := ms[0].Broadcast(nil); err == nil {
		t.Error("an empty message was accepted")
	}
	// want is what member i must receive: every other member's messages.
	want := func(i int) []string {
		var out []string
		for k := range ms {
			if k == i {
				continue
			}
			for j := range each {
				out = append(out, fmt.Sprintf("message %d from member-%d", j, k+1))
			}
		}
		if i != 0 {
			out = append(out, string(big))
		}
		slices.Sort(out)
		return out
	}
	got := func(m *member) []string {
		m.mu.Lock()
		defer m.mu.Unlock()
		var out []string
		for _, msg := range m.msgs {
			out = append(out, string(msg))
		}
		slices.Sort(out)
		return out
	}
	// Wait until everything is delivered and nothing is left to relay, so
	// that a duplicate would have arrived; then each message must have
	// arrived exactly once.
	eventually(t, converge, "every message delivered, queues drained", func() error {
		for i, m := range ms {
			if n := len(got(m)); n < len(want(i)) {
				return fmt.Errorf("%s received %d messages of %d (%d members seen gone)", m.getMeta().Name, n, len(want(i)), m.countEvents(evLeft))
			}
			if n := m.bcast.NumQueued(); n > 0 {
				return fmt.Errorf("%s has %d broadcasts queued", m.getMeta().Name, n)
			}
		}
		return nil
	})
	for i, m := range ms {
		if g := got(m); !slices.Equal(g, want(i)) {
			t.Errorf("%s received %d messages, want %d once each", m.getMeta().Name, len(g), len(want(i)))
		}
	}
}

func TestWrongKeyCannotJoin(t *testing.T) {
	key := mustKey(t)
	ms := startCluster(t, 2, [][]byte{key})
	stranger := startMember(t, "stranger", [][]byte{mustKey(t)})
	_, err := stranger.Join([]string{ms[0].Addr()})
	if err == nil || !strings.Contains(err.Error(), ms[0].Addr()) || !strings.Contains(err.Error(), "gossip key") {
		t.Fatalf("join with another key: %v", err)
	}
	// A member with the key joins after it; once everyone sees it, gossip
	// has gone round, and the stranger is still unknown.
	late := startMember(t, "late", [][]byte{key})
	if _, err := late.Join([]string{ms[1].Addr()}); err != nil {
		t.Fatal(err)
	}
	allSee(t, ms[0], ms[1], late)
	if err := seesExactly(stranger, stranger); err != nil {
		t.Error(err)
	}
}

// A member whose metadata does not decode (here: a newer major version) is
// left out of the list and the events, and breaks nothing.
func TestUndecodableMemberIgnored(t *testing.T) {
	key := mustKey(t)
	ms := startCluster(t, 2, [][]byte{key})

	future := testMeta("from-the-future")
	fields := map[uint64]any{1: 2, 2: future.Node[:], 3: future.Name, 4: "drone"}
	b, err := syncproto.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := memberlist.NewKeyring(nil, key)
	if err != nil {
		t.Fatal(err)
	}
	c := memberlist.DefaultLocalConfig()
	Test.apply(c)
	c.Name, c.BindAddr, c.BindPort, c.Label, c.Keyring = future.Node.String(), "127.0.0.1", 0, label, keyring
	c.DelegateProtocolVersion, c.DelegateProtocolMin, c.DelegateProtocolMax = frameVersion, frameVersion, frameVersion
	c.Delegate = rawMeta(b)
	c.LogOutput = discard{}
	ml, err := memberlist.Create(c)
	if err != nil {
		t.Fatal(err)
	}
	defer ml.Shutdown()
	if _, err := ml.Join([]string{ms[0].Addr()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, "the members know of it", func() error {
		if n := len(ml.Members()); n != 3 {
			return fmt.Errorf("it sees %d members", n)
		}
		return nil
	})
	// Gossip still works around it.
	late := startMember(t, "late", [][]byte{key})
	if _, err := late.Join([]string{ml.LocalNode().Address()}); err != nil {
		t.Fatal(err)
	}
	allSee(t, ms[0], ms[1], late)
	for _, m := range ms {
		if ev := m.eventsOf(future.Node); len(ev) != 0 {
			t.Errorf("%s got events about it: %v", m.getMeta().Name, ev)
		}
	}
}

// rawMeta is a memberlist delegate that gossips fixed metadata.
type rawMeta []byte

func (r rawMeta) NodeMeta(int) []byte               { return r }
func (rawMeta) NotifyMsg([]byte)                    {}
func (rawMeta) GetBroadcasts(int, int) [][]byte     { return nil }
func (rawMeta) LocalState(bool) []byte              { return nil }
func (rawMeta) MergeRemoteState(buf []byte, _ bool) {}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := mustKey(t), mustKey(t)
	ms := startCluster(t, 3, [][]byte{oldKey})
	ledger := uint64(0)
	// stillJoined checks that the cluster works: a metadata change from m
	// reaches everyone, no one was ever reported gone, and each member's
	// keyring and key file hold want.
	stillJoined := func(step string, m *member, want ...[]byte) {
		t.Helper()
		ledger++
		m.setMeta(func(meta *Meta) { meta.Ledger = ledger })
		spread(t, m)
		allSee(t, ms...)
		for _, m := range ms {
			if n := m.countEvents(evLeft); n > 0 {
				t.Fatalf("%s: %s saw %d members go", step, m.getMeta().Name, n)
			}
		}
		for _, m := range ms {
			if len(want) == 0 {
				continue
			}
			if got := m.Keys(); !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("%s: %s has keys %s", step, m.getMeta().Name, keyIDs(got))
			}
			if got, err := ReadKeyFile(m.keyFile); err != nil || !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("%s: %s's key file holds %s, %v", step, m.getMeta().Name, keyIDs(got), err)
			}
		}
	}
	stillJoined("before", ms[0], oldKey)

	if err := ms[0].UseKey(newKey); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("UseKey before InstallKey: %v", err)
	}
	for _, m := range ms {
		if err := m.InstallKey(newKey); err != nil {
			t.Fatal(err)
		}
	}
	stillJoined("installed", ms[1], oldKey, newKey)

	// Members switch one by one: in between, some write with the new key and
	// some with the old, and all read both.
	if err := ms[0].UseKey(newKey); err != nil {
		t.Fatal(err)
	}
	stillJoined("one uses the new key", ms[0])
	stillJoined("one uses the new key", ms[2])
	for _, m := range ms[1:] {
		if err := m.UseKey(newKey); err != nil {
			t.Fatal(err)
		}
	}
	stillJoined("all use the new key", ms[1], newKey, oldKey)

	if err := ms[0].RemoveKey(newKey); err == nil || !strings.Contains(err.Error(), "primary") {
		t.Errorf("RemoveKey of the primary: %v", err)
	}
	for _, m := range ms {
		if err := m.RemoveKey(oldKey); err != nil {
			t.Fatal(err)
		}
		if err := m.RemoveKey(oldKey); err != nil {
			t.Errorf("RemoveKey again: %v", err)
		}
	}
	stillJoined("old key removed", ms[2], newKey)

	oldOnly := startMember(t, "old-key-only", [][]byte{oldKey})
	if _, err := oldOnly.Join([]string{ms[0].Addr()}); err == nil {
		t.Error("a member with only the old key joined")
	}
	newOnly := startMember(t, "new-key-only", [][]byte{newKey})
	if _, err := newOnly.Join([]string{ms[0].Addr()}); err != nil {
		t.Fatal(err)
	}
	allSee(t, append(ms, newOnly)...)
	if err := seesExactly(oldOnly, oldOnly); err != nil {
		t.Error(err)
	}
}

// Removing a key from the middle of the ring keeps the order of the rest.
func TestRemoveMiddleKey(t *testing.T) {
	k1, k2, k3 := mustKey(t), mustKey(t), mustKey(t)
	m := startMember(t, "solo", [][]byte{k1, k2, k3})
	if err := m.RemoveKey(k2); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{k1, k3}
	if got := m.Keys(); !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("keys %s, want %s", keyIDs(got), keyIDs(want))
	}
	if got, err := ReadKeyFile(m.keyFile); err != nil || !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("key file %s, %v", keyIDs(got), err)
	}
	if err := m.InstallKey([]byte("short")); err == nil {
		t.Error("a 5-byte key was installed")
	}
}

func keyIDs(keys [][]byte) []string {
	var out []string
	for _, k := range keys {
		out = append(out, keyID(k))
	}
	return out
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, KeyFile)
	if err := WriteKeyFile(keyFile, [][]byte{mustKey(t)}); err != nil {
		t.Fatal(err)
	}
	meta := func() Meta { return testMeta("x") }
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no key file", Config{BindAddr: "127.0.0.1:0", Meta: meta}, "KeyFile is not set"},
		{"missing key file", Config{BindAddr: "127.0.0.1:0", Meta: meta, KeyFile: filepath.Join(dir, "none")}, "none"},
		{"no meta", Config{BindAddr: "127.0.0.1:0", KeyFile: keyFile}, "Meta is not set"},
		{"bad meta", Config{BindAddr: "127.0.0.1:0", KeyFile: keyFile, Meta: func() Meta { m := testMeta("x"); m.Role = ""; return m }}, "role"},
		{"host name", Config{BindAddr: "localhost:0", KeyFile: keyFile, Meta: meta}, "not an IP address"},
		{"no port", Config{BindAddr: "127.0.0.1", KeyFile: keyFile, Meta: meta}, "not IP:port"},
		{"bad profile", Config{BindAddr: "127.0.0.1:0", KeyFile: keyFile, Meta: meta, Profile: Profile{ProbeInterval: time.Second}}, "probe timeout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Log = testLog()
			g, err := Start(c.cfg)
			if err == nil {
				g.Shutdown()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to mention %q", err, c.want)
			}
		})
	}
	// The port is taken.
	m := startMember(t, "first", [][]byte{mustKey(t)})
	_, err := Start(Config{BindAddr: m.Addr(), KeyFile: keyFile, Meta: meta, Log: testLog()})
	if err == nil || !strings.Contains(err.Error(), m.Addr()) {
		t.Errorf("start on a port in use: %v", err)
	}
	if _, err := m.Join([]string{"127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("join of nothing: %v", err)
	}
}

// Push-pulls repair what gossip lost: a member reported dead is corrected
// to left when another says it left, and recent messages are caught up,
// once. What a peer sends is bounded, and garbage is ignored.
func TestPushPullRepairs(t *testing.T) {
	now := time.Now()
	table := func(states ...string) *Gossip {
		g := &Gossip{members: map[string]*Member{}, log: testLog(), warnings: newWarnings(testLog()), cfg: Config{Profile: Test}, msgs: make(chan []byte, 10)}
		for i, s := range states {
			meta := testMeta(fmt.Sprintf("m%d", i))
			g.members[meta.Node.String()] = &Member{Meta: meta, State: s, Since: now}
		}
		return g
	}
	from := table(StateLeft, StateLeft, StateAlive, StateDead)
	to := table(StateDead, StateAlive, StateDead, StateDead)
	// Too old to be sent.
	from.remember(from.newFrame(kindMessage, []byte("old")), now.Add(-recentRounds*Test.PushPullInterval-time.Second))
	for _, msg := range []string{"one", "two"} {
		from.remember(from.newFrame(kindMessage, []byte(msg)), now)
	}
	state := from.localState()
	to.mergeState(state)
	to.mergeState(state) // again: nothing new
	var got []string
	for _, m := range to.Members() {
		got = append(got, m.State)
	}
	// m0: dead, and the other says left: left. m1: alive here: unchanged.
	// m2, m3: nobody says they left.
	if want := []string{StateLeft, StateAlive, StateDead, StateDead}; !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	var msgs []string
	for len(to.msgs) > 0 {
		msgs = append(msgs, string(<-to.msgs))
	}
	if want := []string{"one", "two"}; !slices.Equal(msgs, want) {
		t.Errorf("caught up %q, want %q in order, once", msgs, want)
	}
	// Caught-up messages are not gossiped again: the others have them.
	if to.bcast != nil {
		t.Error("queued for gossip")
	}
	for _, junk := range [][]byte{
		[]byte("junk"),
		mustMarshal(t, map[uint64]any{1: 5}),
		mustMarshal(t, map[uint64]any{2: [][]byte{{kindMessage}, {9, 1, 2, 3, 4, 5, 6, 7, 8, 'x'}}}),
		make([]byte, maxPushState+1),
	} {
		to.mergeState(junk) // must not panic, change or deliver anything
	}
	if len(to.msgs) != 0 {
		t.Errorf("junk delivered %q", <-to.msgs)
	}
	if len(table().localState()) != 0 {
		t.Error("state sent with nothing to say")
	}
	// The messages kept are bounded.
	for i := range 3 * maxRecent {
		from.remember(from.newFrame(kindMessage, bytes.Repeat([]byte{byte(i)}, MaxMessage)), now)
	}
	if len(from.recent) > maxRecent || from.recentBytes > maxRecentBytes {
		t.Errorf("%d messages, %d bytes kept", len(from.recent), from.recentBytes)
	}
	if n := len(from.localState()); n > maxPushState {
		t.Errorf("state of %d bytes, over the %d a peer reads", n, maxPushState)
	}
}

// The member table follows memberlist's reports; metadata that does not
// decode, or names another node, keeps a member out of it.
func TestMemberTable(t *testing.T) {
	rec := &member{}
	g := &Gossip{members: map[string]*Member{}, admitted: map[string]time.Time{}, log: testLog(), warnings: newWarnings(testLog()), cfg: Config{Events: rec}, name: "self"}
	g.events.init()
	// told takes the events queued, as the handler would be told them.
	var told []event
	tell := func() {
		for {
			e, ok := g.events.pop()
			if !ok {
				return
			}
			told = append(told, e)
		}
	}
	node := func(m Meta) *memberlist.Node {
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return &memberlist.Node{Name: m.Node.String(), Addr: []byte{10, 0, 0, 7}, Port: 7946, Meta: b}
	}
	a, b := testMeta("a"), testMeta("b")
	g.memberUp(node(a))
	tell()
	b2 := node(b)
	b2.Name = a.Node.String() + "x" // gossips under another name than its metadata's
	g.memberUp(b2)
	g.memberUp(&memberlist.Node{Name: "garbage", Meta: []byte{0xff}})
	if got := names(g.Members()); !slices.Equal(got, []string{"a/alive"}) {
		t.Fatalf("members %v", got)
	}
	if m := g.Members()[0]; m.Addr != "10.0.0.7:7946" {
		t.Errorf("address %s", m.Addr)
	}
	a.Ledger = 5
	g.memberUp(node(a))
	tell()
	// The same member starts gossiping metadata this build cannot read: it
	// is gone, as far as this member can tell.
	g.memberUp(&memberlist.Node{Name: a.Node.String(), Meta: []byte("v2")})
	g.memberDown(&memberlist.Node{Name: a.Node.String()}) // already gone: nothing more
	tell()
	if got := names(g.Members()); len(got) != 0 {
		t.Errorf("members %v", got)
	}
	var kinds []eventKind
	for _, e := range told {
		kinds = append(kinds, e.kind)
	}
	if want := []eventKind{evJoined, evUpdated, evLeft}; !slices.Equal(kinds, want) || told[1].m.Ledger != 5 || told[2].m.State != StateDead {
		t.Errorf("events %+v, want kinds %v", told, want)
	}
	if n := g.alive.Load(); n != 0 {
		t.Errorf("%d alive counted", n)
	}
	// Events of a member not told yet are one, of its latest state.
	c := testMeta("c")
	g.memberUp(node(c))
	c.Ledger = 9
	g.memberUp(node(c))
	tell()
	if len(told) != 4 || told[3].kind != evJoined || told[3].m.Ledger != 9 {
		t.Errorf("a member that joined and changed before it was told of: %+v", told[3:])
	}
	g.memberDown(node(c))
	g.memberUp(node(c))
	g.memberDown(node(c))
	tell()
	if len(told) != 5 || told[4].kind != evLeft {
		t.Errorf("a member that left, came back and left before it was told of: %+v", told[4:])
	}
}

// memStore is a KeyStore in memory that can be told to fail.
type memStore struct {
	mu   sync.Mutex
	keys [][]byte
	fail error
}

func (s *memStore) ReadKeys() ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneKeys(s.keys), s.fail
}

func (s *memStore) WriteKeys(keys [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.keys = cloneKeys(keys)
	return nil
}

// A member started with Config.Keys reads its keys there and writes every
// rotation step there, not to a file; a step the store refuses leaves the
// keyring as it was.
func TestKeyStore(t *testing.T) {
	k1, k2 := mustKey(t), mustKey(t)
	store := &memStore{keys: [][]byte{k1}}
	g, err := Start(Config{BindAddr: "127.0.0.1:0", Keys: store, Profile: Test, Meta: func() Meta { return testMeta("stored") }, Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown()
	if err := g.InstallKey(k2); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.ReadKeys(); !slices.EqualFunc(got, [][]byte{k1, k2}, bytes.Equal) {
		t.Fatalf("the store holds %s", keyIDs(got))
	}
	store.fail = errors.New("the disk is full")
	if err := g.UseKey(k2); err == nil || !strings.Contains(err.Error(), "the disk is full") {
		t.Fatalf("a refused write: %v", err)
	}
	if got := g.Keys(); !bytes.Equal(got[0], k1) {
		t.Fatal("the keyring changed though the store refused the keys")
	}
	if _, err := Start(Config{BindAddr: "127.0.0.1:0", Keys: store, Profile: Test, Meta: func() Meta { return testMeta("broken") }, Log: testLog()}); err == nil || !strings.Contains(err.Error(), "the disk is full") {
		t.Fatalf("a store that cannot be read: %v", err)
	}
}

// stuck is an Events handler that does not return from its first call
// until released, as a node's handler busy with its store would not.
type stuck struct {
	*member
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *stuck) wait() {
	s.once.Do(func() {
		close(s.entered)
		<-s.release
	})
}

func (s *stuck) Joined(m Member)  { s.wait(); s.member.Joined(m) }
func (s *stuck) Updated(m Member) { s.wait(); s.member.Updated(m) }
func (s *stuck) Left(m Member)    { s.wait(); s.member.Left(m) }

// queued is how many events wait for g's handler.
func queued(g *Gossip) int {
	g.events.mu.Lock()
	defer g.events.mu.Unlock()
	return len(g.events.order)
}

// A member with the gossip key changes its metadata again and again while
// another's handler is busy: the busy member keeps one event of it
// waiting, its latest, not one per change (a member changing faster than
// the handler returns would otherwise grow the queue without end), and
// the handler is told the latest metadata.
func TestEventsOfAMemberChangingAgainAndAgainWaitAsOne(t *testing.T) {
	keys := [][]byte{mustKey(t)}
	busy := &stuck{member: &member{keyFile: filepath.Join(t.TempDir(), KeyFile), meta: testMeta("busy")},
		entered: make(chan struct{}), release: make(chan struct{})}
	if err := WriteKeyFile(busy.keyFile, keys); err != nil {
		t.Fatal(err)
	}
	g, err := Start(Config{BindAddr: "127.0.0.1:0", KeyFile: busy.keyFile, Profile: Test, Meta: busy.getMeta, Events: busy, Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	busy.Gossip = g
	released := false
	t.Cleanup(func() {
		if !released {
			close(busy.release)
		}
		g.Shutdown()
	})
	rogue := startMember(t, "rogue", keys)
	if _, err := rogue.Join([]string{g.Addr()}); err != nil {
		t.Fatal(err)
	}
	<-busy.entered // the handler is busy with the rogue's joining

	const changes = 40
	for i := 1; i <= changes; i++ {
		rogue.setMeta(func(m *Meta) { m.Ledger = uint64(i) })
		spread(t, rogue)
	}
	eventually(t, converge, "the busy member holds the rogue's last metadata", func() error {
		for _, m := range g.Members() {
			if m.Name == "rogue" && m.Ledger == changes {
				return nil
			}
		}
		return errors.New("not yet")
	})
	if n := queued(g); n > 1 {
		t.Fatalf("%d events wait for the busy handler, want at most 1", n)
	}
	close(busy.release)
	released = true
	eventually(t, converge, "the handler is told the rogue's last metadata", func() error {
		evs := busy.eventsOf(rogue.getMeta().Node)
		if len(evs) == 0 || evs[len(evs)-1].m.Ledger != changes {
			return fmt.Errorf("events %d", len(evs))
		}
		return nil
	})
}
