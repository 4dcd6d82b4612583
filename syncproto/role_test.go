package syncproto

import "testing"

// The roles' powers, as the design's table of roles gives them.
func TestRolePowers(t *testing.T) {
	for _, c := range []struct {
		spelling                 string
		role                     Role
		field, inLedger, decides bool
	}{
		{"field", RoleField, true, false, false},
		{"relay", RoleRelay, false, true, false},
		{"hq", RoleHQ, false, true, true},
	} {
		r, err := ParseRole(" " + c.spelling + " ")
		if err != nil || r != c.role {
			t.Fatalf("ParseRole(%q) = %q, %v", c.spelling, r, err)
		}
		if r.Field() != c.field || r.InLedger() != c.inLedger || r.Decides() != c.decides {
			t.Errorf("%s: field %v, in ledger %v, decides %v", r, r.Field(), r.InLedger(), r.Decides())
		}
	}
	for _, bad := range []string{"", "HQ director", "admin", "hq2"} {
		if r, err := ParseRole(bad); err == nil {
			t.Errorf("ParseRole(%q) = %q, want an error", bad, r)
		}
	}
	if Role("admin").Valid() || Role("admin").InLedger() || Role("admin").Decides() {
		t.Error("an unknown role has powers")
	}
}
