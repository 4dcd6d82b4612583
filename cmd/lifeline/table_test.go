package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"text/tabwriter"

	"pgregory.net/rapid"
)

// A table lays out rows exactly as text/tabwriter does with the settings
// the record list used (padding 2, spaces, no flags), whether its rows
// stay in memory or go through a temporary file: the list's output is the
// same, byte for byte.
func TestTableLaysOutAsTabwriter(t *testing.T) {
	cell := rapid.StringOfN(rapid.SampledFrom([]rune("ab Z09-·\\éñ漢字🙂")), 0, 30, -1)
	rapid.Check(t, func(t *rapid.T) {
		cols := rapid.IntRange(1, 6).Draw(t, "cols")
		rows := rapid.SliceOfN(rapid.SliceOfN(cell, cols, cols), 0, 40).Draw(t, "rows")
		spool := rapid.IntRange(0, 400).Draw(t, "spool")

		var want bytes.Buffer
		tw := tabwriter.NewWriter(&want, 0, 4, 2, ' ', 0)
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		tw.Flush()

		tb := &table{spool: spool}
		defer tb.close()
		for _, r := range rows {
			if err := tb.row(r...); err != nil {
				t.Fatal(err)
			}
		}
		var got bytes.Buffer
		if err := tb.writeTo(&got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("table:\n%q\ntabwriter:\n%q", got.String(), want.String())
		}
	})
}

// A list long enough to spill to a file leaves no file with a name, and
// what its file holds is not the rows: a name in a row is nowhere in it.
func TestTableFileHidesItsRows(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	tb := &table{spool: 64}
	defer tb.close()
	const name = "Zenaida Quixchan-Ortega"
	for i := range 50 {
		if err := tb.row(fmt.Sprint(i), name); err != nil {
			t.Fatal(err)
		}
	}
	if tb.file == nil {
		t.Fatal("the rows did not go to a file: the test shows nothing")
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Fatalf("the table's file has a name in %s: %v", tmp, entries)
	}
	if err := tb.buf.Flush(); err != nil {
		t.Fatal(err)
	}
	on, err := os.ReadFile("/proc/self/fd/" + fmt.Sprint(tb.file.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if len(on) == 0 || bytes.Contains(on, []byte(name)) || bytes.Contains(on, []byte("Quixchan")) {
		t.Fatalf("the table's file (%d bytes) holds the rows in the clear", len(on))
	}
	var got bytes.Buffer
	if err := tb.writeTo(&got); err != nil {
		t.Fatal(err)
	}
	if strings.Count(got.String(), name) != 50 {
		t.Fatal("the rows do not read back")
	}
}
