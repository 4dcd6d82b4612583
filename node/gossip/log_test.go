package gossip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// counting is a slog handler that counts the records of memberlist's
// warnings and errors, and what their count attributes add.
type counting struct {
	mu           sync.Mutex
	lines, total int
}

func (c *counting) Enabled(context.Context, slog.Level) bool { return true }
func (c *counting) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *counting) WithGroup(string) slog.Handler            { return c }
func (c *counting) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines++
	n := 1
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "count" {
			n = int(a.Value.Int64())
		}
		return true
	})
	c.total += n
	return nil
}

func (c *counting) counts() (lines, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lines, c.total
}

// Anyone on a shelter's network, without the gossip key, can open
// connections to a node's gossip port, and memberlist logs an error for
// each that does not carry the deployment's label and encryption. 500 of
// them are logged in a few lines, with the count of the rest: before, they
// made 500 lines, and a flood as many as it liked on a laptop's disk.
func TestAFloodOnTheGossipPortIsLoggedInAFewLines(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), KeyFile)
	if err := WriteKeyFile(keyFile, [][]byte{mustKey(t)}); err != nil {
		t.Fatal(err)
	}
	log := &counting{}
	g, err := Start(Config{BindAddr: "127.0.0.1:0", KeyFile: keyFile, Profile: Test, Log: slog.New(log),
		Meta: func() Meta { return testMeta("hq") }})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown()
	const flood = 500
	for range flood {
		c, err := net.Dial("tcp", g.Addr())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
		c.Close()
	}
	eventually(t, 10*time.Second, "every connection refused, logged or counted", func() error {
		if _, total := log.counts(); total < flood {
			return fmt.Errorf("%d of %d", total, flood)
		}
		return nil
	})
	if lines, _ := log.counts(); lines > 50 {
		t.Fatalf("%d connections without the gossip key made %d lines of log", flood, lines)
	}
}
