package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"

	"lifeline/node"
	"lifeline/syncproto"
)

// who says who makes a change: on a node whose people sign in, the
// person --as names, once their passphrase checks; elsewhere --author,
// else $LIFELINE_OPERATOR, else the node's name.
type who struct {
	author, as, passFile string
}

// authorFlag registers the flags that say who makes a change.
func authorFlag(fs *flagSet) *who {
	w := &who{}
	fs.StringVar(&w.author, "author", "", "the operator making the change, on a node where no one signs in (default $LIFELINE_OPERATOR, else the node's name)")
	fs.StringVar(&w.as, "as", "", "sign in as this person, on a node whose people sign in (default $LIFELINE_PERSON)")
	fs.StringVar(&w.passFile, personSecret.flag, "", "a file whose first line is the passphrase of the person signing in (default $LIFELINE_PERSON_PASSPHRASE, else it is asked on the terminal)")
	return w
}

// author is who the change is by: the person signed in, where the node's
// people sign in.
func author(e *env, w *who, n *node.Node) (string, error) {
	ctx := context.Background()
	signs, err := n.SignsIn(ctx)
	if err != nil {
		return "", err
	}
	as := cmp.Or(w.as, e.getenv("LIFELINE_PERSON"))
	if !signs {
		if as != "" {
			return "", fmt.Errorf("no one signs in on this node (lifeline person add adds someone); name the operator with --author")
		}
		return cmp.Or(w.author, e.getenv("LIFELINE_OPERATOR"), n.Self().Name), nil
	}
	if as == "" {
		return "", fmt.Errorf("%w: name yourself with --as NAME (lifeline person list shows who may)", node.ErrSignIn)
	}
	if w.author != "" {
		return "", errors.New("--author names the operator on a node where no one signs in; here, --as names who you are")
	}
	pass, err := personSecret.ask(e, func() string { return w.passFile }, false)()
	if err != nil {
		return "", err
	}
	return n.SignIn(ctx, as, pass)
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
	return node.PrintableAuthor(author) + ", via " + node.Printable(who)
}

// nodeLabel is a node as a list shows it: the name on its certificate, or
// its id when this node does not hold it.
func nodeLabel(name, id string) string {
	if name == "" {
		return "node " + id
	}
	return node.Printable(name)
}

// view is a command that looks one thing up on the node and prints it: as
// JSON with --json, else as text people read.
func view[T any](ctx context.Context, e *env, fs *flagSet, args []string, look func(*node.Node) (T, error), text func(io.Writer, *node.Node, T) error) error {
	asJSON := fs.Bool("json", false, "print JSON")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		v, err := look(n)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, v)
		}
		return text(e.stdout, n, v)
	})
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
		f, err := node.OpenFile(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		// A record is one JSON object: a file larger than a line of an
		// import may be is another file, and is not read whole.
		b, err := io.ReadAll(io.LimitReader(f, node.MaxLineBytes+1))
		if err == nil && len(b) > node.MaxLineBytes {
			err = fmt.Errorf("%s: larger than the %d KiB a record may be: is it the record's JSON?", file, node.MaxLineBytes>>10)
		}
		return b, err
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

// recordID is --id, the record a command works on: parse reads it, and
// refuses the command line without it or with one that is no record id.
func recordID(fs *flagSet) *syncproto.RecordID {
	s := fs.String("id", "", "the record's id")
	id := new(syncproto.RecordID)
	fs.checks = append(fs.checks, func() error {
		if *s == "" {
			return usagef("--id is required")
		}
		var err error
		if *id, err = syncproto.ParseRecordID(strings.TrimSpace(*s)); err != nil {
			return usagef("--id: %v", err)
		}
		return nil
	})
	return id
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
