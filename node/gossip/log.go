package gossip

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// warnLines is how many of memberlist's warnings and errors are logged one
// by one in a second. memberlist logs one for each packet or connection it
// refuses, and anyone who reaches the gossip port may send those, gossip
// key or not: the rest of the second's are counted, and logged as one
// line, with count, when the second ends, as the port does with its
// refusals.
const warnLines = 10

// msgUnlogged is the line that counts the warnings and errors of a second
// past warnLines.
const msgUnlogged = "gossip: memberlist: more warnings and errors, not logged one by one"

// logWriter turns memberlist's log lines ("[WARN] memberlist: ...") into
// slog records at the level they name, so that the node's log has one
// format and one level filter.
type logWriter struct {
	log *slog.Logger

	mu       sync.Mutex
	start    time.Time // of the second being counted
	lines    int       // warnings and errors logged in it
	unlogged int
	flushing *time.Timer
}

var mlLevels = []struct {
	prefix string
	level  slog.Level
}{
	{"[DEBUG]", slog.LevelDebug}, {"[INFO]", slog.LevelInfo}, {"[WARN]", slog.LevelWarn}, {"[ERR]", slog.LevelError},
}

func (w *logWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	level := slog.LevelInfo
	for _, l := range mlLevels {
		if rest, ok := strings.CutPrefix(line, l.prefix); ok {
			line, level = strings.TrimSpace(rest), l.level
			break
		}
	}
	if !strings.HasPrefix(line, "memberlist: ") {
		line = "memberlist: " + line
	}
	if level < slog.LevelWarn || w.take() {
		w.log.Log(context.Background(), level, "gossip: "+line)
	}
	return len(p), nil
}

// take reports whether a warning or error may be logged this second, and
// counts it if not.
func (w *logWriter) take() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.flushing == nil && now.Sub(w.start) >= time.Second {
		w.start, w.lines = now, 0
	}
	if w.lines < warnLines {
		w.lines++
		return true
	}
	w.unlogged++
	if w.flushing == nil {
		w.flushing = time.AfterFunc(time.Until(w.start.Add(time.Second)), w.flush)
	}
	return false
}

// flush logs the count of the second's warnings and errors not logged,
// and starts a new second.
func (w *logWriter) flush() {
	w.mu.Lock()
	n := w.unlogged
	w.start, w.lines, w.unlogged, w.flushing = time.Now(), 0, 0, nil
	w.mu.Unlock()
	w.log.Warn(msgUnlogged, "count", n)
}
