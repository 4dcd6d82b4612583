package gossip

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// warnLines is how many warnings and errors about what others sent are
// logged one by one in a second. memberlist logs one for each packet or
// connection it refuses, which anyone who reaches the gossip port may
// send, key or not, and anyone holding the key may send messages and
// metadata by the thousand that the node refuses: the rest of the
// second's are counted, and logged as one line, with count, when the
// second ends, as the port does with its refusals.
const warnLines = 10

// msgUnlogged is the line that counts the warnings and errors of a second
// past warnLines.
const msgUnlogged = "gossip: more warnings and errors, not logged one by one"

// warnings logs warnings and errors, warnLines a second.
type warnings struct {
	log *slog.Logger

	mu       sync.Mutex
	start    time.Time // of the second being counted
	lines    int       // logged in it
	unlogged int
	flushing *time.Timer
}

// logAt logs a warning or an error, unless this second has logged
// warnLines already; then it counts it.
func (w *warnings) logAt(level slog.Level, msg string, args ...any) {
	w.mu.Lock()
	now := time.Now()
	if w.flushing == nil && now.Sub(w.start) >= time.Second {
		w.start, w.lines = now, 0
	}
	if w.lines < warnLines {
		w.lines++
		w.mu.Unlock()
		w.log.Log(context.Background(), level, msg, args...)
		return
	}
	w.unlogged++
	if w.flushing == nil {
		w.flushing = time.AfterFunc(time.Until(w.start.Add(time.Second)), w.flush)
	}
	w.mu.Unlock()
}

// flush logs the count of the second's warnings and errors not logged,
// and starts a new second.
func (w *warnings) flush() {
	w.mu.Lock()
	n := w.unlogged
	w.start, w.lines, w.unlogged, w.flushing = time.Now(), 0, 0, nil
	w.mu.Unlock()
	w.log.Warn(msgUnlogged, "count", n)
}

// stop logs at once what the second counted so far: the Gossip shut down,
// and logs nothing after.
func (w *warnings) stop() {
	w.mu.Lock()
	t := w.flushing
	w.mu.Unlock()
	if t != nil && t.Stop() {
		w.flush()
	}
}

// logWriter turns memberlist's log lines ("[WARN] memberlist: ...") into
// slog records at the level they name, so that the node's log has one
// format and one level filter.
type logWriter struct{ w *warnings }

var mlLevels = []struct {
	prefix string
	level  slog.Level
}{
	{"[DEBUG]", slog.LevelDebug}, {"[INFO]", slog.LevelInfo}, {"[WARN]", slog.LevelWarn}, {"[ERR]", slog.LevelError},
}

func (l logWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	level := slog.LevelInfo
	for _, ml := range mlLevels {
		if rest, ok := strings.CutPrefix(line, ml.prefix); ok {
			line, level = strings.TrimSpace(rest), ml.level
			break
		}
	}
	if !strings.HasPrefix(line, "memberlist: ") {
		line = "memberlist: " + line
	}
	if level < slog.LevelWarn {
		l.w.log.Log(context.Background(), level, "gossip: "+line)
	} else {
		l.w.logAt(level, "gossip: "+line)
	}
	return len(p), nil
}
