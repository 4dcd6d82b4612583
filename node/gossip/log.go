package gossip

import (
	"context"
	"log/slog"
	"strings"
)

// logWriter turns memberlist's log lines ("[WARN] memberlist: ...") into
// slog records at the level they name, so that the node's log has one
// format and one level filter.
type logWriter struct{ log *slog.Logger }

var mlLevels = []struct {
	prefix string
	level  slog.Level
}{
	{"[DEBUG]", slog.LevelDebug}, {"[INFO]", slog.LevelInfo}, {"[WARN]", slog.LevelWarn}, {"[ERR]", slog.LevelError},
}

func (w logWriter) Write(p []byte) (int, error) {
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
	w.log.Log(context.Background(), level, "gossip: "+line)
	return len(p), nil
}
