package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// bin is the lifeline binary built once for these tests: they run it as a
// real process, the way scripts and people do.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lifeline-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "lifeline")
	// The lifelinetest tag makes the binary seal with a cheap Argon2id
	// (node/identity/kdf_lifelinetest.go): nothing these tests check
	// depends on its cost, and each run of the real one costs a second.
	if out, err := exec.Command("go", "build", "-tags", "lifelinetest", "-o", bin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// testPassphrase is the CA's passphrase commands find in
// $LIFELINE_CA_PASSPHRASE unless a test says otherwise.
const testPassphrase = "correct horse battery staple"

func lifeline(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return lifelineEnv(t, nil, stdin, args...)
}

// lifelineEnv is lifeline with env added to the command's environment.
func lifelineEnv(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(append(os.Environ(), "LIFELINE_OPERATOR=", "LIFELINE_DATA=", "LIFELINE_PASSPHRASE=", "LIFELINE_NEW_PASSPHRASE=", "LIFELINE_CA_PASSPHRASE="+testPassphrase), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// ok runs a command that must succeed and returns its output.
func ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := lifeline(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("lifeline %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must fail with a one-line reason containing
// every one of want.
func fails(t *testing.T, stdin string, want []string, args ...string) result {
	t.Helper()
	return failsEnv(t, nil, stdin, want, args...)
}

// failsEnv is fails with env added to the command's environment.
func failsEnv(t *testing.T, env []string, stdin string, want []string, args ...string) result {
	t.Helper()
	r := lifelineEnv(t, env, stdin, args...)
	if r.code == 0 {
		t.Fatalf("lifeline %s succeeded, want a failure", strings.Join(args, " "))
	}
	if strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("lifeline %s: the reason is not one line: %q", strings.Join(args, " "), r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Fatalf("lifeline %s: %q does not say %q", strings.Join(args, " "), r.stderr, w)
		}
	}
	return r
}

func newNode(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "node")
	out := ok(t, "", "init", "--data", dir, "--role", "field", "--district", "cayo", "--name", "cayo-07")
	if !strings.Contains(out, "field node cayo-07 (Cayo") {
		t.Fatalf("init said %q", out)
	}
	return dir
}

const assessment = `{"district":"Cayo","village":"San Ignacio","lat":17.1588,"lon":-89.0696,
 "structure_type":"concrete block","damage_level":2,"household_size":5,"displaced":false,
 "needs":["water","tarpaulin"],"reported_by":"vol-007","reported_at":"2024-11-18T14:05:00-06:00"}`

type shown struct {
	ID        string                       `json:"id"`
	Type      string                       `json:"type"`
	Fields    map[string]any               `json:"fields"`
	Conflicts map[string][]json.RawMessage `json:"conflicts"`
	History   []struct {
		Author string         `json:"author"`
		Fields map[string]any `json:"fields"`
	} `json:"history"`
}

func show(t *testing.T, dir, id string) shown {
	t.Helper()
	var s shown
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", dir, "--id", id, "--json")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKitsListJSON(t *testing.T) {
	var kits []struct {
		Name, Version, Title string
		Types                []string
	}
	if err := json.Unmarshal([]byte(ok(t, "", "kits", "list", "--json")), &kits); err != nil {
		t.Fatal(err)
	}
	if len(kits) != 6 {
		t.Fatalf("%d kits, want 6", len(kits))
	}
	for _, k := range kits {
		if k.Name == "" || k.Version == "" || k.Title == "" || len(k.Types) == 0 {
			t.Fatalf("incomplete kit %+v", k)
		}
	}
	es := ok(t, "", "kits", "list", "--lang", "es")
	if !strings.Contains(es, "Personas desaparecidas") {
		t.Fatalf("Spanish titles missing:\n%s", es)
	}
}

func TestAddUpdateShowList(t *testing.T) {
	dir := newNode(t)
	id := strings.TrimSpace(ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment", "--author", "Rosa Tzul"))
	if len(id) != 36 {
		t.Fatalf("record add printed %q, want an id", id)
	}
	s := show(t, dir, id)
	if s.ID != id || s.Type != "damage-assessment" || s.Fields["village"] != "San Ignacio" || s.Fields["damage_level"] != 2.0 {
		t.Fatalf("shown %+v", s)
	}
	// Times are kept in UTC; the kit's labels are not in the data.
	if s.Fields["reported_at"] != "2024-11-18T20:05:00Z" {
		t.Fatalf("reported_at %v", s.Fields["reported_at"])
	}
	if len(s.History) != 1 || s.History[0].Author != "Rosa Tzul" {
		t.Fatalf("history %+v", s.History)
	}

	file := filepath.Join(t.TempDir(), "update.json")
	os.WriteFile(file, []byte(`{"damage_level": 3, "needs": null}`), 0o600)
	ok(t, "", "record", "update", "--data", dir, "--id", id, "--file", file)
	s = show(t, dir, id)
	if s.Fields["damage_level"] != 3.0 || s.Fields["village"] != "San Ignacio" || s.Fields["needs"] != nil {
		t.Fatalf("after update %+v", s.Fields)
	}
	if len(s.History) != 2 || len(s.History[1].Fields) != 2 {
		t.Fatalf("the update should be one change of two fields: %+v", s.History)
	}

	missing := `{"full_name":"Maria Pop","district":"Toledo","last_seen_place":"Punta Gorda market","status":"missing","reporter_name":"Ana Cho","reported_at":"2024-11-18T09:00:00Z"}`
	ok(t, missing, "record", "add", "--data", dir, "--type", "missing-person")
	var all []struct {
		ID, Type string
		Fields   map[string]any
	}
	if err := json.Unmarshal([]byte(ok(t, "", "record", "list", "--data", dir, "--json")), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("listed %d records, want 2", len(all))
	}
	var some []struct{ ID, Type string }
	json.Unmarshal([]byte(ok(t, "", "record", "list", "--data", dir, "--type", "missing-person", "--json")), &some)
	if len(some) != 1 || some[0].Type != "missing-person" {
		t.Fatalf("--type filter gave %+v", some)
	}
	text := ok(t, "", "record", "list", "--data", dir)
	if !strings.Contains(text, "San Ignacio") || !strings.Contains(text, "Maria Pop") {
		t.Fatalf("list does not summarise the records:\n%s", text)
	}
	if out := ok(t, "", "record", "show", "--data", dir, "--id", id, "--lang", "es"); !strings.Contains(out, "Bloque de concreto") {
		t.Fatalf("show in Spanish:\n%s", out)
	}
}

// Every kind of bad input gets a one-line reason naming what and where, a
// non-zero exit, and leaves the store as it was.
func TestBadInputRefusedAndNothingWritten(t *testing.T) {
	dir := newNode(t)
	ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment")
	before := ok(t, "", "digest", "--data", dir)
	with := func(edit func(map[string]any)) string {
		var m map[string]any
		json.Unmarshal([]byte(assessment), &m)
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	add := []string{"record", "add", "--data", dir, "--type", "damage-assessment"}
	for _, tc := range []struct {
		name  string
		input string
		args  []string
		want  []string
	}{
		{"unknown type", assessment, []string{"record", "add", "--data", dir, "--type", "house"}, []string{"unknown record type", `"house"`, "damage-assessment"}},
		{"unknown field", with(func(m map[string]any) { m["roof_colour"] = "red" }), add, []string{"damage-assessment.roof_colour", "rule unknown"}},
		{"wrong type", with(func(m map[string]any) { m["damage_level"] = "bad" }), add, []string{"damage-assessment.damage_level", "whole number", "rule type"}},
		{"out of bounds", with(func(m map[string]any) { m["damage_level"] = 7 }), add, []string{"damage-assessment.damage_level", "above the maximum 4", "rule max"}},
		{"bad choice", with(func(m map[string]any) { m["district"] = "Petén" }), add, []string{"damage-assessment.district", "rule choices"}},
		{"missing required", with(func(m map[string]any) { delete(m, "village") }), add, []string{"damage-assessment.village", "is required", "rule required"}},
		{"wrong kit", with(func(m map[string]any) { m["kit"] = "missing-persons" }), add, []string{"kit", "damage-assessment"}},
		{"bad id", with(func(m map[string]any) { m["id"] = "42" }), add, []string{"not a UUID"}},
		{"malformed JSON", `{"district": "Cayo",`, add, []string{"malformed JSON at byte"}},
		{"not an object", `[1,2]`, add, []string{"expected a JSON object"}},
		{"no data folder", assessment, []string{"record", "add", "--data", filepath.Join(t.TempDir(), "none"), "--type", "damage-assessment"}, []string{"no Lifeline node", "lifeline init"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fails(t, tc.input, tc.want, tc.args...)
			if after := ok(t, "", "digest", "--data", dir); after != before {
				t.Fatal("a refused record changed the store")
			}
		})
	}
	r := lifeline(t, "", "record", "add", "--data", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "--type is required") {
		t.Fatalf("usage error: exit %d, %q", r.code, r.stderr)
	}
	r = lifeline(t, "", "records", "lits")
	if r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Fatalf("unknown command: exit %d, %q", r.code, r.stderr)
	}
	id := strings.TrimSpace(ok(t, assessment, add...))
	fails(t, `{"village": null}`, []string{"damage-assessment.village", "required"}, "record", "update", "--data", dir, "--id", id)
	fails(t, `{"village": "x"}`, []string{"no such record"}, "record", "update", "--data", dir, "--id", "01890a5d-ac96-774b-bcce-b302099a8057")
}

func TestImportTwiceAddsNothingAndBadLineAddsNothing(t *testing.T) {
	dir := newNode(t)
	file := filepath.Join(t.TempDir(), "batch.ndjson")
	var lines []string
	for i, v := range []string{"Hopkins", "Dangriga", "Sittee River"} {
		lines = append(lines, strings.Replace(strings.ReplaceAll(assessment, "\n", ""), `"district"`,
			`"id":"01890a5d-ac96-774b-bcce-b302099a805`+string(rune('0'+i))+`","kit":"damage-assessment","district"`, 1))
		lines[i] = strings.Replace(lines[i], "San Ignacio", v, 1)
	}
	os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n\n"), 0o600)
	out := ok(t, "", "record", "import", "--data", dir, "--type", "damage-assessment", file)
	if !strings.Contains(out, "imported 3 records, 0 already here") {
		t.Fatalf("first import: %q", out)
	}
	digest := ok(t, "", "digest", "--data", dir)
	out = ok(t, "", "record", "import", "--data", dir, "--type", "damage-assessment", file)
	if !strings.Contains(out, "imported 0 records, 3 already here") || ok(t, "", "digest", "--data", dir) != digest {
		t.Fatalf("second import changed something: %q", out)
	}
	if s := show(t, dir, "01890a5d-ac96-774b-bcce-b302099a8051"); s.Fields["village"] != "Dangriga" {
		t.Fatalf("the id in the file is not the record's id: %+v", s)
	}
	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	good := strings.Replace(lines[0], "805", "905", 1)
	os.WriteFile(bad, []byte(good+"\n"+strings.Replace(good, `"damage_level":2`, `"damage_level":9`, 1)+"\n"), 0o600)
	fails(t, "", []string{"line 2", "damage_level", "nothing was imported"}, "record", "import", "--data", dir, "--type", "damage-assessment", bad)
	if ok(t, "", "digest", "--data", dir) != digest {
		t.Fatal("a refused import wrote its good lines")
	}
}

func TestDamagedAndForeignStores(t *testing.T) {
	dir := newNode(t)
	ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment")
	db := filepath.Join(dir, "lifeline.db")
	data, _ := os.ReadFile(db)
	os.WriteFile(db, data[:len(data)/3], 0o600)
	os.Remove(db + "-wal")
	fails(t, "", []string{"damaged", "cut short", db}, "record", "list", "--data", dir)
	os.WriteFile(db, []byte("SQLite format 3\x00 but not really: text pretending to be a database file, long enough to have a whole header of one hundred bytes and more"), 0o600)
	fails(t, "", []string{"another program"}, "digest", "--data", dir)
}

// A copy of a node's folder has the same digest; one more record changes it.
func TestDigest(t *testing.T) {
	dir := newNode(t)
	ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment")
	d1 := strings.TrimSpace(ok(t, "", "digest", "--data", dir))
	if len(d1) != 64 {
		t.Fatalf("digest %q is not one hex line", d1)
	}
	cp := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-r", dir, cp).CombinedOutput(); err != nil {
		t.Fatal(string(out))
	}
	if d2 := strings.TrimSpace(ok(t, "", "digest", "--data", cp)); d2 != d1 {
		t.Fatal("a copy has another digest")
	}
	ok(t, assessment, "record", "add", "--data", cp, "--type", "damage-assessment")
	if d3 := strings.TrimSpace(ok(t, "", "digest", "--data", cp)); d3 == d1 {
		t.Fatal("the digest did not change with a new record")
	}
}

// A running node notices records another process writes into its folder.
func TestRunPicksUpRecordsWrittenByOtherProcesses(t *testing.T) {
	dir := newNode(t)
	cmd := exec.Command(bin, "run", "--data", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	wait := func(want string) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case l, open := <-lines:
				if !open {
					t.Fatalf("run ended before saying %q", want)
				}
				if strings.Contains(l, want) {
					return
				}
			case <-deadline:
				t.Fatalf("run did not say %q in 20s", want)
			}
		}
	}
	wait("Following changes")
	id := strings.TrimSpace(ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment", "--author", "vol-007"))
	wait("vol-007, via cayo-07 added damage-assessment " + id)
	ok(t, `{"damage_level":4}`, "record", "update", "--data", dir, "--id", id, "--author", "vol-008")
	wait("vol-008, via cayo-07 updated damage-assessment " + id)
}

// check says a sound store is sound.
func TestCheck(t *testing.T) {
	dir := newNode(t)
	ok(t, assessment, "record", "add", "--data", dir, "--type", "damage-assessment")
	if out := strings.TrimSpace(ok(t, "", "check", "--data", dir)); out != "ok" {
		t.Fatalf("check says %q", out)
	}
}

// A laptop whose clock is a day ahead (LIFELINE_CLOCK_OFFSET, for drills)
// stamps its changes a day ahead; a wrong offset is refused in words.
func TestClockOffset(t *testing.T) {
	dir := newNode(t)
	run := func(offset string, args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(assessment)
		cmd.Env = append(os.Environ(), "LIFELINE_CLOCK_OFFSET="+offset, "LIFELINE_DATA=")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	out, stderr, err := run("24h", "record", "add", "--data", dir, "--type", "damage-assessment")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	var rec struct{ Updated string }
	if err := json.Unmarshal([]byte(ok(t, "", "record", "show", "--data", dir, "--id", strings.TrimSpace(out), "--json")), &rec); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339, rec.Updated)
	if err != nil {
		t.Fatal(err)
	}
	if ahead := time.Until(at); ahead < 23*time.Hour || ahead > 25*time.Hour {
		t.Fatalf("stamped %v ahead, want a day", ahead)
	}
	if _, stderr, err := run("tomorrow", "record", "list", "--data", dir); err == nil || !strings.Contains(stderr, "LIFELINE_CLOCK_OFFSET") {
		t.Fatalf("a wrong offset: %v %q", err, stderr)
	}
}

// TestUsageNamesEveryFlag reads each command's -h: its usage line names
// every flag the command takes, and no flag it does not, besides those every
// command takes (--data, --lang, --passphrase-file) and the passphrase of a
// person signing in, which goes with --as.
func TestUsageNamesEveryFlag(t *testing.T) {
	flagName := regexp.MustCompile(`--([a-z][a-z0-9-]*)`)
	defined := regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`)
	for _, c := range commands {
		out := ok(t, "", append(strings.Fields(c.name), "-h")...)
		usage, _, _ := strings.Cut(out, "\n")
		named := map[string]bool{}
		for _, m := range flagName.FindAllStringSubmatch(usage, -1) {
			named[m[1]] = true
		}
		takes := map[string]bool{}
		for _, m := range defined.FindAllStringSubmatch(out, -1) {
			takes[m[1]] = true
			switch {
			case m[1] == "data" || m[1] == "lang" || m[1] == "passphrase-file":
			case m[1] == "person-passphrase-file" && named["as"]:
			case !named[m[1]]:
				t.Errorf("lifeline %s takes --%s, which its usage line %q does not name", c.name, m[1], usage)
			}
		}
		for name := range named {
			if !takes[name] {
				t.Errorf("lifeline %s: its usage line %q names --%s, which it does not take", c.name, usage, name)
			}
		}
	}
}
