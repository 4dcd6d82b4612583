package main

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
)

// hides reports whether text holds a character that could drive a
// terminal or hide itself.
func hides(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
	})
}

// A value and an author carrying escape sequences and a right-to-left
// override are printed escaped, by every command that shows them; JSON
// escapes them too, and still reads back as what was written. The author
// is shown with the node that vouched for it.
func TestTextFromNodesIsPrintedEscaped(t *testing.T) {
	dir := newNode(t)
	village := "San \x1b[2J\x1b]0;owned\x07Ignacio\u202eoicangI"
	author := "HQ Director\u202e\u200b"
	record := strings.Replace(assessment, `"San Ignacio"`, `"San \u001b[2J\u001b]0;owned\u0007Ignacio\u202eoicangI"`, 1)
	id := strings.TrimSpace(ok(t, record, "record", "add", "--data", dir, "--type", "damage-assessment", "--author", author))
	ok(t, `{"damage_level":3}`, "record", "update", "--data", dir, "--id", id, "--author", "Ana Cho")

	for _, args := range [][]string{
		{"record", "list", "--data", dir},
		{"record", "show", "--data", dir, "--id", id},
		{"status", "--data", dir},
		{"record", "show", "--data", dir, "--id", id, "--json"},
		{"record", "list", "--data", dir, "--json"},
	} {
		out := ok(t, "", args...)
		if hides(out) {
			t.Errorf("lifeline %s prints a hidden character:\n%q", strings.Join(args, " "), out)
		}
	}
	show := ok(t, "", "record", "show", "--data", dir, "--id", id)
	for _, want := range []string{`San \x1b[2J\x1b]0;owned\x07Ignacio\u202eoicangI`, `HQ Director\u202e\u200b, via cayo-07`, "Ana Cho, via cayo-07"} {
		if !strings.Contains(show, want) {
			t.Errorf("record show does not say %q:\n%s", want, show)
		}
	}
	var v struct {
		Fields  map[string]any `json:"fields"`
		History []struct {
			Author string `json:"author"`
			Via    string `json:"via"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", dir, "--id", id, "--json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Fields["village"] != village || len(v.History) != 2 || v.History[0].Author != author || v.History[0].Via != "cayo-07" {
		t.Fatalf("the JSON reads back as %q, %+v", v.Fields["village"], v.History)
	}
}

// An author that reads as a byline of its own is printed quoted before the
// node that vouches for it: "Ana Cho, via hq-belmopan", written on cayo-07,
// does not pass for a change of headquarters'.
func TestAnAuthorDressedAsAnotherBylineIsQuoted(t *testing.T) {
	dir := newNode(t)
	id := strings.TrimSpace(ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment", "--author", "Ana Cho, via hq-belmopan"))
	show := ok(t, "", "record", "show", "--data", dir, "--id", id)
	if !strings.Contains(show, `"Ana Cho, via hq-belmopan", via cayo-07`) || strings.Contains(show, "Ana Cho, via hq-belmopan, via") {
		t.Errorf("record show does not print the author quoted before cayo-07:\n%s", show)
	}
}
