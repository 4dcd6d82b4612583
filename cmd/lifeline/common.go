package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"lifeline/node"
	"lifeline/syncproto"
)

// authorFlag is who the operator is: --author, else $LIFELINE_OPERATOR, else
// the node's name.
func authorFlag(fs *flagSet) *string {
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

// Every text another node chose (a value, a type or field name, an author,
// a peer's error) is printed through node.Printable, and JSON through
// node.PrintableJSON: such text cannot drive the terminal or hide itself.

// byline is who made a change: the author the writing node names, and that
// node by the name on its certificate ("Ana Cho, via cayo-laptop-07"), or
// by its id when this node does not hold its certificate.
func byline(author, via, nodeID string) string {
	who := via
	if who == "" {
		who = "node " + nodeID
	}
	if author == "" {
		return node.Printable(who)
	}
	return node.Printable(author) + ", via " + node.Printable(who)
}

// nodeLabel is a node as a list shows it: the name on its certificate, or
// its id when this node does not hold it.
func nodeLabel(name, id string) string {
	if name == "" {
		return "node " + id
	}
	return node.Printable(name)
}

func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(node.PrintableJSON(buf.Bytes()))
	return err
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
	_, err := w.Write(node.PrintableJSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))))
	return err
}
