package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"lifeline/node/store"
	"lifeline/schemas"
)

// MaxLineBytes bounds one line of an import file.
const MaxLineBytes = 1 << 20

// ImportProgress reports how far an import has read.
type ImportProgress func(lines int, bytes int64)

// LineError is a bad line of an import file.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Import saves the records of an NDJSON stream (one JSON object per line,
// blank lines ignored) in one durable transaction: every record, or, at the
// first bad line, none. A line whose "id" is already here is skipped, so an
// import can be run again. Lines are checked on every core while the store
// writes.
func (n *Node) Import(ctx context.Context, typeName string, r io.Reader, author string, progress ImportProgress) (store.ImportResult, error) {
	t, err := n.Type(typeName)
	if err != nil {
		return store.ImportResult{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := n.parseChunks(ctx, t, r, author, progress)
	edits := func(yield func(store.Edit, error) bool) {
		for c := range chunks {
			<-c.done
			if c.err != nil {
				yield(store.Edit{}, c.err)
				return
			}
			for _, e := range c.edits {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
	res, err := n.store.Import(ctx, edits)
	cancel()
	for range chunks { // let the reader finish
	}
	return res, err
}

type chunk struct {
	first int // line number of lines[0]
	buf   []byte
	lines [][]byte // slices of buf
	edits []store.Edit
	err   error
	done  chan struct{}
}

// A chunk is checked once it holds chunkLines lines or chunkBytes bytes:
// lines may be long (MaxLineBytes, and JSON takes any run of spaces), and
// several chunks are held at once while the store writes.
const (
	chunkLines = 256
	chunkBytes = 4 << 20
)

// parseChunks reads lines in chunks, checks each chunk on a worker, and
// hands the chunks back in file order.
func (n *Node) parseChunks(ctx context.Context, t *schemas.Type, r io.Reader, author string, progress ImportProgress) <-chan *chunk {
	ordered := make(chan *chunk, 2*runtime.GOMAXPROCS(0))
	work := make(chan *chunk, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				c.edits, c.err = n.parseChunk(ctx, t, c, author)
				close(c.done)
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer func() { close(work); wg.Wait() }()
		br := bufio.NewReaderSize(r, 1<<20)
		var read int64
		line := 0
		c := &chunk{first: 1, buf: make([]byte, 0, 64<<10), done: make(chan struct{})}
		send := func() bool {
			select {
			case work <- c:
			case <-ctx.Done():
				return false
			}
			select {
			case ordered <- c:
			case <-ctx.Done():
				return false
			}
			if progress != nil {
				progress(line, read)
			}
			c = &chunk{first: line + 1, buf: make([]byte, 0, len(c.buf)+len(c.buf)/8), done: make(chan struct{})}
			return true
		}
		for {
			var b []byte
			var err error
			c.buf, b, err = readLine(br, c.buf)
			if len(b) > 0 || err == nil {
				line++
				read += int64(len(b)) + 1
				c.lines = append(c.lines, b)
				if (len(c.lines) == chunkLines || len(c.buf) >= chunkBytes) && !send() {
					return
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				c.err = &LineError{Line: line + 1, Err: err}
				close(c.done)
				select {
				case ordered <- c:
				case <-ctx.Done():
				}
				return
			}
		}
		if len(c.lines) > 0 {
			send()
		}
	}()
	return ordered
}

// readLine appends one line, without its newline, to buf and returns it as
// a slice of buf, refusing lines over MaxLineBytes. A chunk's lines share
// one buffer: one allocation for many lines.
func readLine(br *bufio.Reader, buf []byte) ([]byte, []byte, error) {
	start := len(buf)
	for {
		frag, err := br.ReadSlice('\n')
		buf = append(buf, frag...)
		if len(buf)-start > MaxLineBytes+2 {
			return buf[:start], nil, fmt.Errorf("line longer than %d bytes", MaxLineBytes)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line := buf[start:]
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
		}
		if len(line) > MaxLineBytes {
			return buf[:start], nil, fmt.Errorf("line longer than %d bytes", MaxLineBytes)
		}
		return buf, line[:len(line):len(line)], err
	}
}

func (n *Node) parseChunk(ctx context.Context, t *schemas.Type, c *chunk, author string) ([]store.Edit, error) {
	edits := make([]store.Edit, 0, len(c.lines))
	today := schemas.Today(time.Now())
	for i, b := range c.lines {
		if isBlank(b) {
			continue
		}
		in, err := t.ParseJSON(b, schemas.Create)
		if err == nil {
			err = t.Apply(nil, &in, schemas.Create, today)
		}
		if err == nil {
			var e store.Edit
			e, err = n.edit(ctx, t, in, true, author, "")
			edits = append(edits, e)
		}
		if err != nil {
			return nil, &LineError{Line: c.first + i, Err: err}
		}
	}
	return edits, nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
