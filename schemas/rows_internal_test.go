package schemas

import (
	"strconv"
	"testing"
	"time"
)

// TestRowIDsSortByWhenTheRowWasAdded: a row id's first 9 digits are the
// milliseconds since 1970 in base32hex (strconv reads base 32 with the same
// digits), so that a row added a week after another sorts after it.
func TestRowIDsSortByWhenTheRowWasAdded(t *testing.T) {
	start := time.Now()
	prev := ""
	for _, later := range []time.Duration{0, time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 400 * 24 * time.Hour} {
		at := start.Add(later)
		id := rowIDsAt(at, 1)[0]
		ms, err := strconv.ParseUint(id[:9], 32, 64)
		if err != nil || !ValidRowID(id) {
			t.Fatalf("row id %q made at %v: %v", id, at, err)
		}
		if later > 0 && ms != uint64(at.UnixMilli()) {
			t.Errorf("row id %q made at %v reads %d ms, want %d", id, at, ms, at.UnixMilli())
		}
		if id <= prev {
			t.Errorf("row id %q made %v after the first sorts before %q, made earlier", id, later, prev)
		}
		prev = id
	}
}
