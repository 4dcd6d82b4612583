package gossip

import (
	"fmt"
	"testing"
	"time"
)

// alive counts the members m lists alive, itself included.
func alive(m *member) int {
	n := 0
	for _, g := range m.Members() {
		if g.State == StateAlive {
			n++
		}
	}
	return n
}

// A member admits at most MaxMembers members, itself included: members a
// holder of the gossip key tells of past that are refused, not kept,
// probed and recorded without end. Once a member admitted is gone and
// forgotten, the next that comes takes its place.
func TestMembersPastTheBoundAreRefused(t *testing.T) {
	keys := [][]byte{mustKey(t)}
	const most = 3
	hq, err := tryStartMemberOf(t, "hq", keys, most)
	if err != nil {
		t.Fatal(err)
	}
	others := make([]*member, 5)
	for i := range others {
		others[i] = startMember(t, fmt.Sprintf("laptop-%d", i), keys)
		if _, err := others[i].Join([]string{hq.Addr()}); err != nil && i < most-1 {
			t.Fatalf("laptop-%d joins: %v", i, err)
		}
	}
	// The laptops all know one another: every one of them is told to hq
	// again and again, by joins, push-pulls and gossip.
	eventually(t, 10*time.Second, "the laptops see one another", func() error {
		if n := alive(others[len(others)-1]); n < len(others) {
			return fmt.Errorf("the last laptop sees %d alive", n)
		}
		return nil
	})
	time.Sleep(3 * time.Second) // several push-pulls of every member's list
	if n := alive(hq); n != most {
		t.Fatalf("hq lists %d members alive, want %d, the most it admits: %v", n, most, names(hq.Members()))
	}
	if n := hq.ml.NumMembers(); n != most {
		t.Fatalf("memberlist holds %d members alive, want %d", n, most)
	}

	// A member admitted leaves; once memberlist forgets it, another takes
	// its place.
	var gone *member
	for _, m := range others {
		if stateOf(hq, m) == StateAlive {
			gone = m
			break
		}
	}
	if err := gone.Leave(time.Second); err != nil {
		t.Fatal(err)
	}
	if err := gone.Shutdown(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "another laptop takes the place of the one gone", func() error {
		if n := alive(hq); n != most {
			return fmt.Errorf("hq lists %d alive: %v", n, names(hq.Members()))
		}
		if stateOf(hq, gone) == StateAlive {
			return fmt.Errorf("hq lists %s alive", gone.getMeta().Name)
		}
		return nil
	})
}

// Members gone are kept for a day, but not past twice MaxMembers: those
// gone longest are forgotten first, and the alive never.
func TestMembersGoneLongestAreForgottenFirst(t *testing.T) {
	now := time.Now()
	g := &Gossip{members: map[string]*Member{
		"a": {State: StateAlive, Since: now.Add(-5 * time.Hour)},
		"b": {State: StateDead, Since: now.Add(-3 * time.Hour)},
		"c": {State: StateLeft, Since: now.Add(-4 * time.Hour)},
		"d": {State: StateDead, Since: now.Add(-time.Hour)},
		"e": {State: StateAlive, Since: now.Add(-6 * time.Hour)},
	}}
	g.crowd(4) // room for a fifth among four: c, then b go
	if len(g.members) != 3 || g.members["c"] != nil || g.members["b"] != nil {
		t.Fatalf("after making room among 4: %v, want a, d and e", keysOf(g.members))
	}
	g.crowd(2) // d goes; a and e, alive, stay though there is no room
	if len(g.members) != 2 || g.members["a"] == nil || g.members["e"] == nil {
		t.Fatalf("after making room among 2: %v, want a and e, alive", keysOf(g.members))
	}
}

func keysOf(m map[string]*Member) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
