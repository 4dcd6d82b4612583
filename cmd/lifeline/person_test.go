package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Once a person was added on a laptop, every change made there needs
// someone signed in: --as and their passphrase. The change carries the
// person's name as typed when they were added, and the record's history
// shows it; a wrong passphrase, a person never added, or --author in
// place of a sign-in are refused in one line and change nothing.
func TestPeopleSignInToChangeRecords(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "laptop")
	ok(t, "", "init", "--data", data, "--role", "field", "--district", "Cayo", "--name", "cayo-laptop-07")
	report := `{"full_name":"Elena Sho","district":"Cayo","last_seen_place":"Market square","status":"missing","reporter_name":"Luis Sho","reported_at":"2026-11-20T09:15:00Z"}`

	// No one signs in yet: --author names the operator, as before.
	ok(t, report, "record", "add", "--data", data, "--type", "missing-person", "--author", "Marisol Chan")
	fails(t, report, []string{"no one signs in on this node"}, "record", "add", "--data", data, "--type", "missing-person", "--as", "Ana Cho")

	anaFile := writeFile(t, dir, "ana", "mango trees by the river\n")
	if out := ok(t, "", "person", "add", "--data", data, "--name", "Ana  Cho", "--new-person-passphrase-file", anaFile); !strings.Contains(out, "Ana Cho signs in on cayo-laptop-07") {
		t.Fatalf("person add said %q", out)
	}
	// The next person is added by someone signed in here.
	fails(t, "", []string{"adding a person", "--as NAME"}, "person", "add", "--data", data, "--name", "Rosa Tzul", "--new-person-passphrase-file", anaFile)
	failsEnv(t, []string{"LIFELINE_NEW_PERSON_PASSPHRASE=hurricane"}, "", []string{"at least 12"}, "person", "add", "--data", data, "--name", "Rosa Tzul", "--as", "Ana Cho", "--person-passphrase-file", anaFile)
	if out := ok(t, "", "person", "list", "--data", data); !strings.Contains(out, "Ana Cho") || strings.Contains(out, "Rosa") {
		t.Fatalf("person list said %q", out)
	}

	fails(t, report, []string{"sign in to change records", "--as NAME"}, "record", "add", "--data", data, "--type", "missing-person")
	fails(t, report, []string{"--as names who you are"}, "record", "add", "--data", data, "--type", "missing-person", "--as", "Ana Cho", "--author", "Someone", "--person-passphrase-file", anaFile)
	fails(t, report, []string{"wrong passphrase"}, "record", "add", "--data", data, "--type", "missing-person", "--as", "ana cho", "--person-passphrase-file", writeFile(t, dir, "wrong", "not her passphrase at all\n"))
	fails(t, report, []string{"Rosa Tzul", "no person of that name"}, "record", "add", "--data", data, "--type", "missing-person", "--as", "Rosa Tzul", "--person-passphrase-file", anaFile)
	fails(t, report, []string{"--person-passphrase-file", "LIFELINE_PERSON_PASSPHRASE"}, "record", "add", "--data", data, "--type", "missing-person", "--as", "Ana Cho")

	id := strings.TrimSpace(lifelineOK(t, []string{"LIFELINE_PERSON=ana cho", "LIFELINE_PERSON_PASSPHRASE=mango trees by the river"},
		"record", "add", "--data", data, "--type", "missing-person", "--file", writeFile(t, dir, "report.json", report)))
	var shown struct {
		History []struct {
			Author string `json:"author"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", data, "--id", lastWord(id), "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if len(shown.History) != 1 || shown.History[0].Author != "Ana Cho" {
		t.Fatalf("the record's history shows %+v", shown.History)
	}
	if out := ok(t, "", "record", "list", "--data", data); strings.Count(out, "\n") != 3 {
		t.Fatalf("refused adds saved records:\n%s", out)
	}
}

func lastWord(s string) string {
	f := strings.Fields(s)
	return f[len(f)-1]
}
