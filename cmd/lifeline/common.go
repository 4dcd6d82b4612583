package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"lifeline/node"
	"lifeline/syncproto"
)

// nodeFlags are the flags every command on a data folder takes.
type nodeFlags struct {
	data string
	lang string
	// clockOffset is $LIFELINE_CLOCK_OFFSET: a wrong clock, for drills.
	clockOffset time.Duration
	clockErr    error
}

func addNodeFlags(fs *flag.FlagSet, e *env) *nodeFlags {
	nf := &nodeFlags{}
	def := node.DefaultConfig()
	if d := e.getenv("LIFELINE_DATA"); d != "" {
		def.DataDir = d
	}
	fs.StringVar(&nf.data, "data", def.DataDir, "the node's data folder (or $LIFELINE_DATA)")
	fs.StringVar(&nf.lang, "lang", def.Lang, "language of labels: en or es")
	if off := e.getenv("LIFELINE_CLOCK_OFFSET"); off != "" {
		d, err := time.ParseDuration(off)
		if err != nil {
			// Flags are not parsed yet: the first use of the node says it.
			nf.clockErr = fmt.Errorf("LIFELINE_CLOCK_OFFSET %q: a duration such as 24h or -90m", off)
		}
		nf.clockOffset = d
	}
	return nf
}

func (nf *nodeFlags) config() node.Config {
	c := node.DefaultConfig()
	c.DataDir, c.Lang, c.ClockOffset = nf.data, nf.lang, nf.clockOffset
	return c
}

func (nf *nodeFlags) open(ctx context.Context) (*node.Node, error) {
	if nf.clockErr != nil {
		return nil, nf.clockErr
	}
	return node.Open(ctx, nf.config())
}

// authorFlag is who the operator is: --author, else $LIFELINE_OPERATOR, else
// the node's name.
func authorFlag(fs *flag.FlagSet) *string {
	return fs.String("author", "", "the operator making the change (default $LIFELINE_OPERATOR, else the node's name)")
}

func author(e *env, flagValue string, n *node.Node) string {
	if flagValue != "" {
		return flagValue
	}
	if op := e.getenv("LIFELINE_OPERATOR"); op != "" {
		return op
	}
	return n.Self().Name
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// readInput reads a JSON object from a file or, with no file, standard input.
func readInput(e *env, file string) ([]byte, error) {
	if file != "" && file != "-" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	if e.isTerminal(e.stdin) {
		fmt.Fprintln(e.stderr, "reading the record's JSON from standard input; end with Ctrl-D")
	}
	return io.ReadAll(io.LimitReader(e.stdin, node.MaxLineBytes+1))
}

func isTerminal(f any) bool {
	if fd, ok := f.(interface{ Fd() uintptr }); ok {
		return term.IsTerminal(int(fd.Fd()))
	}
	return false
}

func parseID(s string) (syncproto.RecordID, error) {
	if s == "" {
		return syncproto.RecordID{}, usagef("--id is required")
	}
	id, err := syncproto.ParseRecordID(strings.TrimSpace(s))
	if err != nil {
		return id, usagef("--id: %v", err)
	}
	return id, nil
}

func printCompact(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return err
}
