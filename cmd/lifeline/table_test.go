package main

import (
	"bytes"
	"fmt"
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
