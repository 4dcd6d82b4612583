//go:build unix

package desktop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"lifeline/syncproto"
)

// Records imported from a file, behind the window: the job line says how
// many lines are read; Cancel stops the import and nothing of the file is
// saved, no record half-written (a file is saved whole or not at all, so
// that importing it again adds each record once). Imported again to the
// end, every record of it is saved, and the line says how far it got on
// the way.
func TestJobImportFileCancelSavesNothingHalf(t *testing.T) {
	u, th := newJobTestUI(t, syncproto.RoleField, "Cayo", nil)
	dir := t.TempDir()
	// A pipe stands for a slow stick: the import reads what the test
	// writes, when it writes it.
	pipe := filepath.Join(dir, "damage.ndjson")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	cancelled := make(chan struct{})
	wrote := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(pipe, os.O_WRONLY, 0)
		if err != nil {
			wrote <- err
			return
		}
		_, err = f.WriteString(strings.Repeat(damageRecord+"\n", 300))
		<-cancelled
		if err == nil {
			_, err = f.WriteString(strings.Repeat(damageRecord+"\n", 100))
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		wrote <- err
	}()

	v := u.screens.sync
	v.importFile("damage-assessment", pipe)
	th.ui.until(t, "the job line says how many lines are read", 30*time.Second, func() bool {
		return lineSays(u) == "Importing damage.ndjson… 256 lines read"
	})
	if top := u.win.Canvas().Overlays().Top(); top != nil {
		t.Fatalf("something covers the window while importing: %T", top)
	}
	test.Tap(u.jobs.cancel)
	close(cancelled)
	th.ui.until(t, "the job line says the import was cancelled", 30*time.Second, func() bool {
		return strings.HasPrefix(lineSays(u), "Import of damage.ndjson cancelled: no record of it was saved")
	})
	th.settle(t, u)
	if err := <-wrote; err != nil && !strings.Contains(err.Error(), "broken pipe") {
		t.Fatal(err)
	}
	if n := len(records(t, u, "damage-assessment")); n != 0 {
		t.Fatalf("a cancelled import saved %d records, want none", n)
	}
	if v.result.Text != lineSays(u) {
		t.Fatalf("the Sync screen says %q, the line %q", v.result.Text, lineSays(u))
	}

	file := filepath.Join(dir, "damage-all.ndjson")
	if err := os.WriteFile(file, []byte(strings.Repeat(damageRecord+"\n", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	test.Tap(u.jobs.close)
	v.importFile("damage-assessment", file)
	var seen []string
	th.ui.until(t, "the job line says the import is done", 30*time.Second, func() bool {
		if s := lineSays(u); len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
		return strings.HasPrefix(lineSays(u), "Imported ")
	})
	th.settle(t, u)
	if got := lineSays(u); got != "Imported damage-all.ndjson: 400 new records, 0 already here." {
		t.Fatalf("the line says %q", got)
	}
	if !strings.Contains(strings.Join(seen, "\n"), "Importing damage-all.ndjson… 256 lines read (") {
		t.Fatalf("on the way the line said:\n%s", strings.Join(seen, "\n"))
	}
	if n := len(records(t, u, "damage-assessment")); n != 400 {
		t.Fatalf("%d records saved, want 400", n)
	}
}

// A bundle read from a stick too slow to wait for: Cancel stops it and
// nothing of it is applied (a bundle is applied whole or not at all);
// read again to the end, it brings its record.
func TestJobBundleReadCancelAppliesNothing(t *testing.T) {
	ctx := context.Background()
	u, th := newJobTestUI(t, syncproto.RoleField, "Cayo", nil)
	ca := enrollTestUI(t, u)
	peer := enrolledPeer(t, ca, "cayo-laptop-03", "Cayo")
	theirs, err := peer.Add(ctx, "damage-assessment", []byte(damageRecord), "vol-2")
	if err != nil {
		t.Fatal(err)
	}
	bundle := bundleOf(t, peer)
	whole, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	pipe := filepath.Join(t.TempDir(), "cayo-laptop-03.bundle")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	cancelled := make(chan struct{})
	wrote := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(pipe, os.O_WRONLY, 0)
		if err != nil {
			wrote <- err
			return
		}
		_, err = f.Write(whole[:len(whole)/2])
		<-cancelled
		f.Close()
		wrote <- err
	}()

	v := u.screens.sync
	v.importBundle(pipe)
	if got := lineSays(u); got != "Reading the bundle…" {
		t.Fatalf("the job line says %q", got)
	}
	test.Tap(u.jobs.cancel)
	close(cancelled)
	th.ui.until(t, "the job line says reading the bundle was cancelled", 30*time.Second, func() bool {
		return strings.HasPrefix(lineSays(u), "Reading the bundle cancelled: nothing of it was applied")
	})
	th.settle(t, u)
	if err := <-wrote; err != nil && !strings.Contains(err.Error(), "broken pipe") {
		t.Fatal(err)
	}
	if _, err := u.node.Record(ctx, theirs); err == nil {
		t.Fatal("a cancelled bundle brought its record")
	}

	test.Tap(u.jobs.close)
	v.importBundle(bundle)
	th.ui.until(t, "the job line says the bundle is read", 30*time.Second, func() bool {
		return lineSays(u) == "Read the bundle: 1 changes new here."
	})
	th.settle(t, u)
	if _, err := u.node.Record(ctx, theirs); err != nil {
		t.Fatalf("the bundle read to the end did not bring its record: %v", err)
	}
}
