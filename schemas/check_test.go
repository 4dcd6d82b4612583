package schemas_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"lifeline/schemas"
)

// A value another node wrote is held to the kit as a typed one is: each
// bound at, just inside and just outside its limit, for integers and
// decimals; types, choices, sizes and formats. The CBOR is written out by
// hand (RFC 8949), not by the code under test.
func TestCheckHoldsPeersValuesToTheKit(t *testing.T) {
	ty := testType(t)
	for _, c := range []struct {
		field, cbor string // hex
		ok          bool
	}{
		// count: integer 0 to 100.
		{"count", "00", true},                       // 0, the minimum
		{"count", "1864", true},                     // 100, the maximum
		{"count", "1863", true},                     // 99
		{"count", "1865", false},                    // 101
		{"count", "20", false},                      // -1
		{"count", "1b" + "ffffffffffffffff", false}, // 2^64-1: no int64
		{"count", "3b" + "7fffffffffffffff", false}, // -2^63: below 0
		{"count", "f93c00", false},                  // 1.0, a float
		{"count", "6131", false},                    // "1", text
		// depth: decimal -1.5 to 10.
		{"depth", "f9be00", true},               // -1.5, the minimum (half float)
		{"depth", "fb4024000000000000", true},   // 10.0, the maximum
		{"depth", "fb4023fffffffffffff", false}, // malformed (odd hex digits → decodes short)
		{"depth", "fb4024000000000001", false},  // just above 10
		{"depth", "fbbff8000000000001", false},  // just below -1.5
		{"depth", "fbbff7ffffffffffff", true},   // just above -1.5
		{"depth", "fb7ff8000000000000", false},  // NaN
		{"depth", "0a", true},                   // 10 as an integer
		// name: required text of at most 10 characters.
		{"name", "63416e61", true}, // "Ana"
		{"name", "6a" + hex.EncodeToString([]byte("0123456789")), true},
		{"name", "6b" + hex.EncodeToString([]byte("0123456789a")), false},
		{"name", "f6", false},   // cleared, but required
		{"name", "6120", false}, // blank
		// status: one of open, closed, exactly as the kit spells it.
		{"status", "646f70656e", true},
		{"status", "644f50454e", false},
		{"status", "f6", true}, // optional: cleared
		// open: a bool.
		{"open", "f5", true},
		{"open", "01", false},
		// day and at: formats.
		{"day", "6a" + hex.EncodeToString([]byte("2024-11-05")), true},
		{"day", "6a" + hex.EncodeToString([]byte("2024-13-05")), false},
		{"at", "74" + hex.EncodeToString([]byte("2024-11-05T14:00:00Z")), true},
		{"at", "74" + hex.EncodeToString([]byte("0024-11-05T14:00:00Z")), false},
		// needs: at most 2 of water, food, fuel.
		{"needs", "82" + "6577617465" + "7200", false},
		{"needs", "82" + "657761746572" + "64666f6f64", true},
		{"needs", "83" + "657761746572" + "64666f6f64" + "646675656c", false},
		// where: a point on Earth.
		{"where", "82" + "fb4031400000000000" + "fbc056314000000000", true},
		{"where", "82" + "fb4059000000000000" + "fb0000000000000000", false}, // latitude 100
	} {
		f, ok := ty.Field(c.field)
		if !ok {
			t.Fatalf("no field %s", c.field)
		}
		raw, err := hex.DecodeString(c.cbor)
		if err != nil {
			raw = []byte{0xfb, 0x40} // a float cut short
		}
		if err := f.Check(raw); (err == nil) != c.ok {
			t.Errorf("%s = %s: error %v, want ok %v", c.field, c.cbor, err, c.ok)
		}
	}
}

// A refusal of a personal field's value says which rule it breaks, never
// the value: the reason a node keeps for a change it sets aside is stored
// and shown. The same values in fields that are not personal are quoted,
// as they always were, so that a kit's author can see what went wrong.
func TestCheckNeverQuotesAPersonalValue(t *testing.T) {
	text := func(s string) string { // a CBOR text string of fewer than 24 bytes
		return hex.EncodeToString([]byte{0x60 + byte(len(s))}) + hex.EncodeToString([]byte(s))
	}
	for _, c := range []struct {
		field, cbor string // hex
		value       string // what the value shows as
		personal    string // the message about a personal field
	}{
		{"count", "19" + "1141", "4417", "the value is above the maximum 100"},
		{"depth", "fb" + "4028c00000000000", "12.375", "the value is above the maximum 10"},
		{"status", text("Qzxv-ajar"), "Qzxv-ajar", `the value is not one of "open", "closed"`},
		{"needs", "81" + text("Qzxv-gas"), "Qzxv-gas", `a choice is not one of "water", "food", "fuel"`},
		{"needs", "82" + text("food") + text("water"), "water", "a choice is chosen twice or out of the kit's order"},
		{"day", text("1985-13-07"), "1985-13-07", "the value is not a date like 2024-11-27"},
		{"at", text("Qzxv-4417"), "Qzxv-4417", "the value is not a date and time with its zone"},
		{"at", text("1850-03-04T10:00:00Z"), "1850", "the value is not a plausible date (its year is not from 1900 to 2200)"},
		{"where", "82" + "fb4057dc44d013a92a" + "fb0000000000000000", "95.4417", "the value is not a point on Earth"},
		{"shelter", text("Qzxv-shelter-3"), "Qzxv-shelter-3", "the value is not a record id"},
	} {
		raw, err := hex.DecodeString(c.cbor)
		if err != nil {
			t.Fatalf("%s: %v", c.cbor, err)
		}
		for _, personal := range []bool{false, true} {
			f, ok := testType(t).Field(c.field)
			if !ok {
				t.Fatalf("no field %s", c.field)
			}
			f.Personal = personal
			err := f.Check(raw)
			var fe *schemas.FieldError
			switch {
			case !errors.As(err, &fe):
				t.Errorf("%s = %s (personal %v): %v", c.field, c.cbor, personal, err)
			case personal && fe.Msg != c.personal:
				t.Errorf("%s = %s, personal: %q, want %q", c.field, c.cbor, fe.Msg, c.personal)
			case personal && strings.Contains(err.Error(), c.value):
				t.Errorf("%s = %s, personal: %q quotes the value", c.field, c.cbor, err)
			case !personal && !strings.Contains(err.Error(), c.value):
				t.Errorf("%s = %s: %q does not say the value, %s", c.field, c.cbor, err, c.value)
			}
		}
	}
}
