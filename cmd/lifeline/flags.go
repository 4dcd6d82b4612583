package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"lifeline/node"
)

// flagSet is a command's flags: its own, and those every command takes
// (--data, --lang, --passphrase-file), which make the configuration of the
// node it works on.
type flagSet struct {
	*flag.FlagSet
	// cfg is the node's configuration: the data folder, the language and
	// the clock offset; a command may set more of it before opening the
	// node.
	cfg node.Config
	// clockErr says that $LIFELINE_CLOCK_OFFSET is not a duration. Flags
	// are not parsed when it is read: opening the node says it.
	clockErr error
	// needed names the flags the command cannot do without, in the order
	// its usage error names them.
	needed []string
	// checks read what the flags say further, once they are parsed, and
	// refuse the command line with a usage error.
	checks []func() error
	// passFile is --passphrase-file: the passphrase of the node's key, if
	// it is sealed (cfg.Passphrase reads it).
	passFile string
}

// flags makes a command's flag set. The flag package's own messages are
// silenced: a mistake is reported on one line like every other error, and
// -h prints the flags on standard output.
func flags(e *env, name, usage string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), cfg: node.DefaultConfig()}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "usage: lifeline %s %s\n", name, usage)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if d := e.getenv("LIFELINE_DATA"); d != "" {
		fs.cfg.DataDir = d
	}
	fs.StringVar(&fs.cfg.DataDir, "data", fs.cfg.DataDir, "the node's data folder (or $LIFELINE_DATA)")
	fs.StringVar(&fs.cfg.Lang, "lang", fs.cfg.Lang, "language of labels: en or es")
	fs.StringVar(&fs.passFile, nodeSecret.flag, "", "a file whose first line is the passphrase of the node's key, if it is sealed (default $LIFELINE_PASSPHRASE, else it is asked on the terminal)")
	fs.cfg.Passphrase = nodePassphrase(e, &fs.passFile, false)
	if off := e.getenv("LIFELINE_CLOCK_OFFSET"); off != "" {
		d, err := time.ParseDuration(off)
		if err != nil {
			fs.clockErr = fmt.Errorf("LIFELINE_CLOCK_OFFSET %q: a duration such as 24h or -90m", off)
		}
		fs.cfg.ClockOffset = d
	}
	return fs
}

// parse parses a command's flags and returns its positional arguments,
// which must number exactly want.
// Flags may come before or after the positional arguments.
func (fs *flagSet) parse(args []string, want ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	if len(pos) > len(want) {
		return nil, usagef("unexpected argument %q", pos[len(want)])
	}
	if len(pos) < len(want) {
		return nil, usagef("missing %s", want[len(pos)])
	}
	if slices.ContainsFunc(fs.needed, func(name string) bool { return fs.Lookup(name).Value.String() == "" }) {
		verb := "are"
		if len(fs.needed) == 1 {
			verb = "is"
		}
		return nil, usagef("--%s %s required", strings.Join(fs.needed, " and --"), verb)
	}
	for _, check := range fs.checks {
		if err := check(); err != nil {
			return nil, err
		}
	}
	return pos, nil
}

// required is a string flag the command cannot do without: parse refuses
// the command line when it, or another required flag, is empty.
func (fs *flagSet) required(name, usage string) *string {
	fs.needed = append(fs.needed, name)
	return fs.String(name, "", usage)
}

// given says whether the flag name was on the command line.
func (fs *flagSet) given(name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// open opens the node of the data folder; the caller closes it.
func (fs *flagSet) open(ctx context.Context) (*node.Node, error) {
	if fs.clockErr != nil {
		return nil, fs.clockErr
	}
	return node.Open(ctx, fs.cfg)
}

// onNode parses the flags of a command that takes no positional argument,
// then hands do the node of the data folder.
func (fs *flagSet) onNode(ctx context.Context, args []string, do func(*node.Node) error) error {
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return fs.withNode(ctx, do)
}

// withNode opens the node of the data folder, hands it to do and closes it.
func (fs *flagSet) withNode(ctx context.Context, do func(*node.Node) error) error {
	n, err := fs.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	return do(n)
}
