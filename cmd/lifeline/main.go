// Command lifeline runs a Lifeline node and works on its data folder from
// the command line. Each subcommand is one file; all of them call package
// node and nothing else of Lifeline's internals.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"lifeline/node"
)

// command is one subcommand: its name as typed ("record add"), a one-line
// summary, and its entry point.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch besides its arguments: tests run commands
// in-process with their own streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	isTerminal     func(f any) bool
}

var commands []command

func register(c command) { commands = append(commands, c) }

// usageError is a mistake in how a command was called: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, isTerminal: isTerminal}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run dispatches to a command and turns its error into a one-line reason on
// standard error and an exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(e.stdout)
		return 0
	}
	c, rest, ok := find(args)
	if !ok {
		fmt.Fprintf(e.stderr, "lifeline: unknown command %q (lifeline help lists them)\n", strings.Join(args[:min(len(args), 2)], " "))
		return 2
	}
	err := c.run(ctx, e, rest)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	// An error may quote another node (a peer's refusal, a value).
	fmt.Fprintf(e.stderr, "lifeline %s: %s\n", c.name, node.Printable(oneLine(err.Error())))
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// find picks the longest command name that the arguments start with.
func find(args []string) (command, []string, bool) {
	var best command
	bestLen := 0
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(words) <= len(args) && len(words) > bestLen && strings.Join(args[:len(words)], " ") == c.name {
			best, bestLen = c, len(words)
		}
	}
	return best, args[bestLen:], bestLen > 0
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "lifeline: disaster-response records that keep flowing when the network does not")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	sorted := append([]command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "lifeline COMMAND -h shows a command's flags.")
}
