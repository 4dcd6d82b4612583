// Package loglimit logs what others may make a node log as often as they
// like (refused requests, junk on a port) a few lines a second: the rest
// of a second's lines are counted, and logged as one line, with count,
// when the second ends. Without it, anyone who reaches the port fills the
// node's log, and a laptop's disk, at will.
package loglimit

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Limiter logs Lines lines a second to Log; the rest of the second's it
// counts, and logs Msg with their count when the second ends.
type Limiter struct {
	Log   *slog.Logger
	Lines int
	Msg   string

	mu       sync.Mutex
	start    time.Time // of the second being counted
	lines    int       // logged in it
	unlogged int
	flushing *time.Timer
}

// LogAt logs a line, unless this second has logged Lines already; then it
// counts it.
func (l *Limiter) LogAt(level slog.Level, msg string, args ...any) {
	l.mu.Lock()
	now := time.Now()
	if l.flushing == nil && now.Sub(l.start) >= time.Second {
		l.start, l.lines = now, 0
	}
	if l.lines < l.Lines {
		l.lines++
		l.mu.Unlock()
		l.Log.Log(context.Background(), level, msg, args...)
		return
	}
	l.unlogged++
	if l.flushing == nil {
		l.flushing = time.AfterFunc(time.Until(l.start.Add(time.Second)), l.flush)
	}
	l.mu.Unlock()
}

// flush logs the count of the second's lines not logged, and starts a new
// second.
func (l *Limiter) flush() {
	l.mu.Lock()
	n := l.unlogged
	l.start, l.lines, l.unlogged, l.flushing = time.Now(), 0, 0, nil
	l.mu.Unlock()
	l.Log.Warn(l.Msg, "count", n)
}

// Stop logs at once what the second counted so far: what logged through
// it stopped, and logs nothing after.
func (l *Limiter) Stop() {
	l.mu.Lock()
	t := l.flushing
	l.mu.Unlock()
	if t != nil && t.Stop() {
		l.flush()
	}
}
