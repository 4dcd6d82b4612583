package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runLogged starts `lifeline run` with its output and errors in a file of
// logs, as a service manager keeps them, and returns its sync address.
func runLogged(t *testing.T, dir, logs string, env []string, args ...string) (addr string, stop func()) {
	t.Helper()
	log := filepath.Join(logs, filepath.Base(dir)+".log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"run", "--data", dir}, args...)...)
	cmd.Env = append(append(os.Environ(), "LIFELINE_OPERATOR=", "LIFELINE_DATA=", "LIFELINE_PASSPHRASE="), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	stop = sync.OnceFunc(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	t.Cleanup(stop)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(log)
		if _, rest, ok := bytes.Cut(b, []byte("serving sync on ")); ok {
			if addr, _, ok := bytes.Cut(rest, []byte("\n")); ok {
				return string(addr), stop
			}
		}
	}
	b, _ := os.ReadFile(log)
	t.Fatalf("%s did not serve:\n%s", dir, b)
	return "", nil
}

// The canary: distinctive personal values (a name, a phone number, notes)
// saved on a laptop whose key is sealed, synced to HQ, put on a stick,
// and typed into the logs' reach. Once the processes stopped, no file of
// the laptop's data folder, HQ's, the stick, the logs or the temporary
// folder holds a canary's bytes; with the passphrase, every value reads
// back exactly, on the laptop and at HQ.
func TestCanaryIsNowhereInTheClear(t *testing.T) {
	// Its processes mostly wait (for sessions, gossip, elections):
	// it runs beside other such tests.
	t.Parallel()
	d := newDeployment(t)
	tmp, logs, stick := t.TempDir(), t.TempDir(), t.TempDir()
	pass := writeFile(t, t.TempDir(), "pass", testNodePassphrase+"\n")
	laptop := filepath.Join(d.dir, "cayo-07")
	sealed := []string{"TMPDIR=" + tmp, "LIFELINE_PASSPHRASE=" + testNodePassphrase}
	lifelineOK(t, []string{"TMPDIR=" + tmp}, "init", "--data", laptop, "--role", "field", "--district", "Cayo", "--name", "cayo-07", "--seal", "--passphrase-file", pass)
	lifelineOK(t, sealed, "enroll", "--data", laptop, "--ca", d.hq)
	hq, stopHQ := runLogged(t, d.hq, logs, []string{"TMPDIR=" + tmp}, "--sync-addr", "127.0.0.1:0")

	// The laptop meets HQ, which grants it Cayo's key.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(lifelineOK(t, sealed, "status", "--data", laptop), "readable here: Cayo (key 1)") {
		if time.Now().After(deadline) {
			t.Fatal("the laptop never got Cayo's key")
		}
		lifelineOK(t, sealed, "sync", "--data", laptop, "--peer", hq)
		time.Sleep(200 * time.Millisecond)
	}

	const name, phone, notes = "Zenaida Quixchan-Ortega", "+501 622-4917", "insulin at 7 and 19, blue cooler"
	report := `{"full_name":"` + name + `","district":"Cayo","last_seen_place":"San Ignacio market","status":"missing",` +
		`"reporter_name":"Ana Cho","reporter_phone":"` + phone + `","medical_conditions":"` + notes + `","reported_at":"2026-11-20T09:00:00-06:00"}`
	var outputs bytes.Buffer
	r := lifelineEnv(t, sealed, report, "record", "add", "--data", laptop, "--type", "missing-person")
	if r.code != 0 {
		t.Fatalf("record add: %s", r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	outputs.WriteString(r.stderr)
	for _, args := range [][]string{
		{"sync", "--data", laptop, "--peer", hq},
		{"bundle", "export", "--data", laptop, "--out", filepath.Join(stick, "cayo.bundle")},
		{"status", "--data", laptop},
	} {
		r := lifelineEnv(t, sealed, "", args...)
		if r.code != 0 {
			t.Fatalf("%v: %s", args, r.stderr)
		}
		outputs.WriteString(r.stdout + r.stderr)
	}

	for _, dir := range []string{laptop, d.hq} {
		var s shown
		if err := json.Unmarshal([]byte(lifelineOK(t, sealed, "record", "show", "--data", dir, "--id", id, "--json")), &s); err != nil {
			t.Fatal(err)
		}
		if s.Fields["full_name"] != name || s.Fields["reporter_phone"] != phone || s.Fields["medical_conditions"] != notes {
			t.Fatalf("%s reads %v", filepath.Base(dir), s.Fields)
		}
	}
	// Stopped: every file of every place a value could land.
	stopHQ()
	if err := os.WriteFile(filepath.Join(logs, "commands.log"), outputs.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, where := range []string{laptop, d.hq, stick, logs, tmp} {
		filepath.WalkDir(where, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{name, "Quixchan", phone, notes} {
				if bytes.Contains(b, []byte(c)) {
					t.Errorf("%s holds %q in the clear", path, c)
				}
			}
			return nil
		})
	}
}
