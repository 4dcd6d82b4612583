package featureapi

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// untokenedLines is how many lines the server logs in a second of the
// requests it answers before it knows their token: those refused for it,
// or when the tokens cannot be read. Anyone who reaches the port may send
// them, and over HTTP/2 hundreds on one connection: the rest of the
// second's are counted, and logged as one line, with count, when the
// second ends, as the port does with its refusals.
const untokenedLines = 10

// msgUntokened is the line that counts a second's lines past
// untokenedLines.
const msgUntokened = "feature API: more requests without a good token, not logged one by one"

// untokened logs what requests without a good token make the server log,
// untokenedLines a second.
type untokened struct {
	log *slog.Logger

	mu       sync.Mutex
	start    time.Time // of the second being counted
	lines    int       // logged in it
	unlogged int
	flushing *time.Timer
}

// logAt logs a line, unless this second has logged untokenedLines
// already; then it counts it.
func (u *untokened) logAt(level slog.Level, msg string, args ...any) {
	u.mu.Lock()
	now := time.Now()
	if u.flushing == nil && now.Sub(u.start) >= time.Second {
		u.start, u.lines = now, 0
	}
	if u.lines < untokenedLines {
		u.lines++
		u.mu.Unlock()
		u.log.Log(context.Background(), level, msg, args...)
		return
	}
	u.unlogged++
	if u.flushing == nil {
		u.flushing = time.AfterFunc(time.Until(u.start.Add(time.Second)), u.flush)
	}
	u.mu.Unlock()
}

// flush logs the count of the second's lines not logged, and starts a
// new second.
func (u *untokened) flush() {
	u.mu.Lock()
	n := u.unlogged
	u.start, u.lines, u.unlogged, u.flushing = time.Now(), 0, 0, nil
	u.mu.Unlock()
	u.log.Warn(msgUntokened, "count", n)
}

// stop logs at once what the second counted so far: the server stopped.
func (u *untokened) stop() {
	u.mu.Lock()
	t := u.flushing
	u.mu.Unlock()
	if t != nil && t.Stop() {
		u.flush()
	}
}
