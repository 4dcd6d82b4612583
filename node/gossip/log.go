package gossip

import (
	"context"
	"log/slog"
	"strings"

	"lifeline/node/internal/loglimit"
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
type warnings = loglimit.Limiter

// newWarnings is the warnings of a Gossip logging to log.
func newWarnings(log *slog.Logger) *warnings {
	return &warnings{Log: log, Lines: warnLines, Msg: msgUnlogged}
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
		l.w.Log.Log(context.Background(), level, "gossip: "+line)
	} else {
		l.w.LogAt(level, "gossip: "+line)
	}
	return len(p), nil
}
