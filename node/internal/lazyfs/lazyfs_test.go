package lazyfs

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// What a program wrote reads back through the mount at once, but reaches
// the folder only when the file is synced; a crash loses the rest, and an
// orderly unmount keeps it.
func TestUnsyncedWritesAreLostInACrash(t *testing.T) {
	dir := t.TempDir()
	lz, mnt := MountTest(t, dir)
	synced := bytes.Repeat([]byte("synced "), 1000)   // over a page
	later := bytes.Repeat([]byte("not synced "), 700) // overwrites part, extends
	f, err := os.Create(filepath.Join(mnt, "log"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(synced); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(later, 5000); err != nil {
		t.Fatal(err)
	}
	want := append(synced[:5000:5000], later...)
	if got := readFile(t, filepath.Join(mnt, "log")); !bytes.Equal(got, want) {
		t.Fatalf("read back through the mount: %d bytes, want the %d written", len(got), len(want))
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(want)) {
		t.Fatalf("size through the mount: %v %v, want %d", fi.Size(), err, len(want))
	}
	if got := readFile(t, filepath.Join(dir, "log")); !bytes.Equal(got, synced) {
		t.Fatalf("the folder holds %d bytes before the crash, want the %d synced", len(got), len(synced))
	}
	// A file written and never synced loses its contents, not its name.
	if err := os.WriteFile(filepath.Join(mnt, "draft"), []byte("lost"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if lz.Syncs() != 1 {
		t.Errorf("%d syncs counted, want 1", lz.Syncs())
	}
	if err := lz.Crash(nil); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "log")); !bytes.Equal(got, synced) {
		t.Fatalf("after the crash the folder holds %d bytes, want the %d synced", len(got), len(synced))
	}
	if got := readFile(t, filepath.Join(dir, "draft")); len(got) != 0 {
		t.Fatalf("after the crash, a file never synced holds %q", got)
	}

	// The same writes, then an orderly unmount: all of it stays.
	lz, mnt = MountTest(t, dir)
	if err := os.WriteFile(filepath.Join(mnt, "log"), want, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := lz.Unmount(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "log")); !bytes.Equal(got, want) {
		t.Fatalf("after an unmount the folder holds %d bytes, want the %d written", len(got), len(want))
	}
}

// A file cut short and grown again reads zeros where it was cut, through
// the mount and in the folder once synced.
func TestTruncateThenGrow(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), bytes.Repeat([]byte{'x'}, 3*pageSize), 0o600); err != nil {
		t.Fatal(err)
	}
	_, mnt := MountTest(t, dir)
	f, err := os.OpenFile(filepath.Join(mnt, "f"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(100); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("end"), 2*pageSize); err != nil {
		t.Fatal(err)
	}
	want := append(append(bytes.Repeat([]byte{'x'}, 100), make([]byte, 2*pageSize-100)...), "end"...)
	if got := readFile(t, filepath.Join(mnt, "f")); !bytes.Equal(got, want) {
		t.Fatalf("through the mount: %q...", got[:120])
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "f")); !bytes.Equal(got, want) {
		t.Fatalf("in the folder after sync: %d bytes, %q...", len(got), got[:120])
	}
}

const sqliteChildEnv = "LAZYFS_SQLITE_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(sqliteChildEnv); path != "" {
		sqliteChild(path, os.Getenv("LAZYFS_SYNCHRONOUS"))
		return
	}
	os.Exit(m.Run())
}

// sqliteChild commits rows one by one into the database at path, prints
// how many once SQLite has said each is committed, and waits to be killed.
func sqliteChild(path, synchronous string) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous="+synchronous)
	if err == nil {
		_, err = db.Exec(`CREATE TABLE t (n INTEGER)`)
	}
	for i := 0; err == nil && i < sqliteCommits; i++ {
		_, err = db.Exec(`INSERT INTO t VALUES (?)`, i)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(sqliteCommits)
	select {}
}

const sqliteCommits = 50

// The file system tells SQLite's settings apart: in WAL mode, commits made
// with synchronous OFF or NORMAL are lost when the power goes, and with
// FULL every one stays. This is what lets the store's own power-cut test
// fail when the store stops syncing.
func TestSQLiteCommitsSurviveOnlyWhenSynced(t *testing.T) {
	for _, c := range []struct {
		synchronous string
		lost        bool
	}{{"OFF", true}, {"NORMAL", true}, {"FULL", false}} {
		t.Run(c.synchronous, func(t *testing.T) {
			dir := t.TempDir()
			lz, mnt := MountTest(t, dir)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), sqliteChildEnv+"="+filepath.Join(mnt, "t.db"), "LAZYFS_SYNCHRONOUS="+c.synchronous)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			// The power goes while the database is open.
			cmd.Process.Kill()
			cmd.Wait()
			if line != fmt.Sprintln(sqliteCommits) {
				t.Fatalf("the writer said %q: %s", line, stderr.String())
			}
			if err := lz.Crash(nil); err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "t.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil && !c.lost {
				t.Fatal(err)
			}
			if c.lost && n == sqliteCommits {
				t.Fatalf("synchronous=%s: all %d commits survived the crash: the file system kept unsynced writes", c.synchronous, sqliteCommits)
			}
			if !c.lost && n != sqliteCommits {
				t.Fatalf("synchronous=%s: %d of %d commits survived the crash", c.synchronous, n, sqliteCommits)
			}
			t.Logf("synchronous=%s: %d of %d commits survived, %d syncs", c.synchronous, n, sqliteCommits, lz.Syncs())
		})
	}
}
