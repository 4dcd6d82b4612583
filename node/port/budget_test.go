package port

import (
	"errors"
	"testing"
)

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// A budget refuses a key over its share, or displaces its oldest when it
// is long-lived; when full, it displaces the oldest place of the key that
// holds the most only if that key holds two more than the newcomer's, so
// that keys holding one each never chase each other out.
func TestBudget(t *testing.T) {
	type step struct {
		key       string
		err       error
		displaced string // the key displaced, "" for none
	}
	for _, c := range []struct {
		name          string
		max, perKey   int
		replace       bool
		steps         []step
		heldAfterward map[string]int
	}{
		{"a key holds its share and no more", 8, 2, false, []step{
			{key: "a"}, {key: "a"}, {key: "a", err: errKeyFull}, {key: "b"},
		}, map[string]int{"a": 2, "b": 1}},
		{"a long-lived key's newest replaces its oldest", 8, 2, true, []step{
			{key: "a"}, {key: "a"}, {key: "a", displaced: "a"}, {key: "b"},
		}, map[string]int{"a": 2, "b": 1}},
		{"full: the key holding the most gives a place up", 4, 4, false, []step{
			{key: "a"}, {key: "a"}, {key: "a"}, {key: "b"}, {key: "c", displaced: "a"}, {key: "d", displaced: "a"},
		}, map[string]int{"a": 1, "b": 1, "c": 1, "d": 1}},
		{"full: keys holding one each are not chased out", 3, 4, false, []step{
			{key: "a"}, {key: "b"}, {key: "c"}, {key: "d", err: errFull}, {key: "a", err: errFull},
		}, map[string]int{"a": 1, "b": 1, "c": 1}},
		{"full: one more than the newcomer's is not enough", 3, 4, false, []step{
			{key: "a"}, {key: "a"}, {key: "b"}, {key: "b", err: errFull}, {key: "c", displaced: "a"},
		}, map[string]int{"a": 1, "b": 1, "c": 1}},
		{"full and long-lived: a key holding as much as any replaces its own", 3, 4, true, []step{
			{key: "a"}, {key: "b"}, {key: "c"}, {key: "a", displaced: "a"}, {key: "d", err: errFull},
		}, map[string]int{"a": 1, "b": 1, "c": 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBudget(c.max, c.perKey, c.replace)
			for i, s := range c.steps {
				_, displaced, err := b.take(s.key, nopCloser{})
				if !errors.Is(err, s.err) {
					t.Fatalf("step %d (%s): %v, want %v", i, s.key, err, s.err)
				}
				got := ""
				if displaced != nil {
					got = displaced.key
				}
				if got != s.displaced {
					t.Fatalf("step %d (%s): displaced %q, want %q", i, s.key, got, s.displaced)
				}
			}
			n := 0
			for k, want := range c.heldAfterward {
				if got := len(b.held[k]); got != want {
					t.Errorf("%s holds %d, want %d", k, got, want)
				}
				n += want
			}
			if b.n != n || len(b.held) != len(c.heldAfterward) {
				t.Errorf("%d places held by %d keys, want %d by %d", b.n, len(b.held), n, len(c.heldAfterward))
			}
		})
	}
}

// A place displaced is not released again, and a place released frees
// room for another.
func TestBudgetRelease(t *testing.T) {
	b := newBudget(2, 2, false)
	first, _, _ := b.take("a", nopCloser{})
	b.take("a", nopCloser{})
	_, displaced, err := b.take("b", nopCloser{})
	if err != nil || displaced != first {
		t.Fatalf("a full budget did not displace a's oldest: %v, %v", displaced, err)
	}
	if b.release(first) {
		t.Fatal("a displaced place was released")
	}
	if b.n != 2 {
		t.Fatalf("%d places held, want 2", b.n)
	}
}
