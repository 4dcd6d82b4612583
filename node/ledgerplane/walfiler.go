package ledgerplane

import (
	"github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
)

// truncatedFiler is raft-wal's segment filer, but a segment that a
// truncation of the log's tail sealed is read by scanning its frames.
//
// Raft clears the tail of a member's log when a new leader's entries
// conflict with ones it never committed: after a change of leader, or a
// stolen voter's entries. raft-wal (v0.4.0, its issue #31) then marks the
// tail segment sealed without writing its index block, and on the next
// start cannot read it ("sealed segment has no index block"): Raft panics,
// and the member never starts again. Read as a tail is recovered after a
// crash, the segment's frames give its entries back; the WAL reads from it
// only the entries up to where the truncation ended it.
type truncatedFiler struct{ *segment.Filer }

func newTruncatedFiler(dir string) truncatedFiler {
	return truncatedFiler{segment.NewFiler(dir, fs.New())}
}

// Open opens a sealed segment for reading.
func (f truncatedFiler) Open(info types.SegmentInfo) (types.SegmentReader, error) {
	if info.IndexStart == 0 && !info.SealTime.IsZero() {
		return f.Filer.RecoverTail(info)
	}
	return f.Filer.Open(info)
}
