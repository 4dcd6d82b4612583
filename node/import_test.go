package node_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"lifeline/node"
	"lifeline/node/nodetest"
)

// An import file's lines may each be up to a mebibyte, and JSON takes any
// run of spaces: a file of such lines, every one a valid record, is read
// and checked in pieces of a few mebibytes, not of 256 lines (256 MiB,
// held several at once while the store writes). The bytes read between two
// reports of progress are one piece.
func TestAnImportOfLongLinesIsCheckedInPieces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	n := laptop(c, "cayo-07", "Cayo", nil)
	line := strings.Replace(assessment, "{", "{"+strings.Repeat(" ", node.MaxLineBytes-len(assessment)-1), 1)
	const lines = 24
	var file bytes.Buffer
	for range lines {
		file.WriteString(line + "\n")
	}
	var read, most int64
	res, err := n.Node.Import(ctx, "damage-assessment", &file, "vol-1", func(_ int, bytes int64) {
		most = max(most, bytes-read)
		read = bytes
	})
	if err != nil || res.Added != lines {
		t.Fatalf("imported %+v, %v; want %d records", res, err, lines)
	}
	if most > 8<<20 {
		t.Fatalf("a piece of %d MiB was read before it was checked; want a few", most>>20)
	}
}
