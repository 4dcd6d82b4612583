// Command lifeline runs a Lifeline node and works on its data folder from
// the command line. Each subcommand is a function in a file of its own or
// beside its kin, listed in commands; all of them call package node and
// nothing else of Lifeline's internals.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"

	"lifeline/node"
)

// command is one subcommand: its name as typed ("record add"), its
// arguments as -h shows them, a one-line summary, and its entry point,
// which is handed the command's flag set, made with the flags every command
// takes.
type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, env *env, fs *flagSet, args []string) error
}

// env is what a command may touch besides its arguments: tests run commands
// in-process with their own streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	isTerminal     func(f any) bool
}

// commands is every subcommand; help lists them by name.
var commands = []command{
	{name: "init", usage: "--data DIR --role field|relay|hq --district NAME --name NAME [--seal]", summary: "make a new node (key pair and empty store) in a data folder; --seal seals its key with a passphrase", run: runInit},
	{name: "key seal", usage: "--data DIR [--passphrase-file FILE]", summary: "seal the node's key (made in the clear) with a new passphrase, which every command on it then needs", run: runKeySeal},
	{name: "key passphrase", usage: "--data DIR [--passphrase-file FILE] [--new-passphrase-file FILE]", summary: "change the passphrase the node's key is sealed with", run: runKeyPassphrase},
	{name: "person add", usage: "--data DIR --name NAME [--new-person-passphrase-file FILE] [--as NAME]", summary: "let a person sign in on this node with a passphrase (added by someone signed in, once anyone signs in); from then on every change made here needs someone signed in (--as)", run: runPersonAdd},
	{name: "person list", usage: "--data DIR [--json]", summary: "list the people who sign in on this node", run: runPersonList},
	{name: "person passphrase", usage: "--data DIR --name NAME [--person-passphrase-file FILE] [--new-person-passphrase-file FILE]", summary: "change a person's passphrase", run: runPersonPassphrase},
	{name: "person remove", usage: "--data DIR --name NAME", summary: "stop a person signing in on this node", run: runPersonRemove},
	{name: "person revoke", usage: "--data HQDIR --node NODE --name NAME [--reason TEXT]", summary: "revoke a person on a laptop, without revoking the laptop (at headquarters)", run: runPersonRevoke},
	{name: "run", usage: "--data DIR [--sync-addr HOST:PORT [--advertise-addr HOST:PORT]] [--gossip-addr HOST:PORT [--gossip-advertise HOST:PORT]] [--join ADDR,...] [--gossip-profile lan|wan|satellite] [--bootstrap] [--sync-every DURATION] [--sync-idle DURATION] [--api-addr HOST:PORT --api-cert FILE --api-key FILE] [--role ROLE --district NAME --name NAME]", summary: "run the node: show its kits and records, then follow changes as they arrive", run: runRun},
	{name: "status", usage: "--data DIR [--json]", summary: "show the node's identity and what it holds", run: runStatus},
	{name: "check", usage: "--data DIR", summary: "check the store file whole (SQLite's integrity check); exit 1 if it is damaged", run: runCheck},
	{name: "digest", usage: "--data DIR [--scope national,DISTRICT|kept]", summary: "print one hex line that is equal on two nodes exactly when their records (of those scopes) are", run: runDigest},
	{name: "quarantine", usage: "--data DIR [--limit N] [--json]", summary: "list the changes from peers kept aside: their kit or the write policy refuses them", run: runQuarantine},
	{name: "record add", usage: "--data DIR --type TYPE [--file F] [--author NAME | --as NAME]", summary: "save a new record from a JSON object of its fields", run: runRecordAdd},
	{name: "record update", usage: "--data DIR --id ID [--file F] [--author NAME | --as NAME]", summary: "change the fields a JSON object gives on a record", run: runRecordUpdate},
	{name: "record list", usage: "--data DIR [--type TYPE] [--conflicts] [--deleted] [--review STATE] [--written-on NODE] [--limit N] [--json]", summary: "list records", run: runRecordList},
	{name: "record show", usage: "--data DIR --id ID [--json]", summary: "show a record's fields, conflicts and history", run: runRecordShow},
	{name: "record review", usage: "--data DIR --id ID --decision approved|needs-correction|rejected [--reason TEXT]", summary: "review a record, at HQ or a relay of its district: the decision reaches its author's laptop at its next sync", run: runRecordReview},
	{name: "record delete", usage: "--data DIR --id ID [--author NAME | --as NAME]", summary: "mark a record deleted (it and its history are kept)", run: runRecordDelete},
	{name: "record restore", usage: "--data DIR --id ID [--author NAME | --as NAME]", summary: "undo a delete", run: runRecordRestore},
	{name: "record import", usage: "--data DIR --type TYPE FILE [--author NAME | --as NAME]", summary: "save the records of an NDJSON file (.gz too) in one durable batch", run: runRecordImport},
	{name: "report", usage: "--data DIR [--json] [--pdf FILE [--personal]]", summary: "count per district what HQ reads first: damage, displaced, shelters, missing persons; --pdf writes the situation report in English and Spanish", run: runReport},
	{name: "record export", usage: "--data DIR --type TYPE --format csv|geojson [--out FILE] [--personal] [--photos DIR] | --format gpkg --out FILE [--type TYPE] [--personal] [--photos DIR]", summary: "write the records of a type as CSV or GeoJSON, or of every type (or one) as a GeoPackage for QGIS and ArcGIS", run: runRecordExport},
	{name: "kits list", usage: "[--data DIR] [--json] [--lang en|es]", summary: "list the field kits and their record types", run: runKitsList},
	{name: "kits show", usage: "KIT [--data DIR] [--json] [--lang en|es]", summary: "show a kit's record types and fields", run: runKitsShow},
	{name: "kits import", usage: "FORM.xlsx --out KIT.yaml [--kit NAME] [--district-field NAME] [--data DIR]", summary: "convert an XLSForm (ODK, Kobo) into a kit file, listing what it does not carry", run: runKitsImport},
	{name: "sync", usage: "--data DIR --peer HOST:PORT [--timeout DURATION] [--sync-idle DURATION]", summary: "run one sync session with a peer and exit (0 when both ended equal)", run: runSync},
	{name: "vector", usage: "--data DIR --out FILE", summary: "write the node's version vector, for a peer to export a bundle of what it lacks", run: runVector},
	{name: "bundle export", usage: "--data DIR --out FILE [--for PEER_VECTOR_FILE] [--to hq|relay:DISTRICT|NODE,...] [--photos none|thumbs|full]", summary: "write what a peer lacks (or everything) to a sealed file encrypted for its readers (HQ by default), for a USB stick", run: runBundleExport},
	{name: "bundle import", usage: "--data DIR FILE", summary: "check a bundle whole and apply it", run: runBundleImport},
	{name: "snapshot export", usage: "--data DIR --to NODE[,...] [--district DISTRICT] --out FILE", summary: "write what a new field laptop of a district keeps, encrypted for it, for it to start from (on a relay or HQ)", run: runSnapshotExport},
	{name: "snapshot import", usage: "--data DIR FILE", summary: "start a node from a snapshot, checked whole against headquarters' receipts", run: runSnapshotImport},
	{name: "enroll", usage: "--data DIR --ca CADIR|HQDIR [--hq] [--voter] [--member-addr HOST:PORT] [--ca-passphrase-file FILE]", summary: "enroll a node with a CA folder, or HQ's folder, on this machine", run: runEnroll},
	{name: "enroll request", usage: "--data DIR --out FILE [--district DISTRICT]", summary: "write a node's enrollment request, to carry to headquarters (--district: the responder moved there)", run: runEnrollRequest},
	{name: "enroll install", usage: "--data DIR --cert FILE", summary: "install the certificate headquarters signed", run: runEnrollInstall},
	{name: "ca init", usage: "--data HQDIR [--out CADIR] [--name NAME] [--ca-passphrase-file FILE]", summary: "make the deployment's certificate authority, its key sealed with a passphrase (at headquarters)", run: runCAInit},
	{name: "ca sign", usage: "--request FILE --out FILE --role ROLE --district DISTRICT [--hq] (--ca CADIR | --data HQDIR | both) [--voter] [--member-addr HOST:PORT] [--validity DURATION] [--ca-passphrase-file FILE]", summary: "show a node's enrollment request and sign it if it claims what you expect", run: runCASign},
	{name: "ca seal", usage: "(--ca CADIR | --data HQDIR) [--ca-passphrase-file FILE]", summary: "seal with a passphrase the key of a CA folder made before keys were sealed", run: runCASeal},
	{name: "revoke", usage: "--data HQDIR --node ID|NAME --reason TEXT", summary: "revoke a node (at headquarters): every node refuses it", run: runRevoke},
	{name: "ledger member", usage: "--data HQDIR --node ID|NAME (--voter | --nonvoter | --remove) [--member-addr HOST:PORT]", summary: "make a relay a voter or a non-voter of the ledger, or no member (at headquarters)", run: runLedgerMember},
	{name: "kits publish", usage: "--data HQDIR FILE.yaml", summary: "publish a kit file to every relay and HQ through the ledger (at headquarters)", run: runKitsPublish},
	{name: "gossip rotate", usage: "--data HQDIR [--step DURATION]", summary: "replace the deployment's gossip key without a restart (at a running HQ)", run: runGossipRotate},
	{name: "ledger log", usage: "--data DIR [--after POSITION] [--limit N] [--json]", summary: "list what the ledger committed, in commit order (relays and HQ)", run: runLedgerLog},
}

func init() { commands = append(commands, peopleCommands...) }

// usageError is a mistake in how a command was called: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, isTerminal: isTerminal}
	stopProfile := startProfile(os.Getenv("LIFELINE_CPUPROFILE"), os.Args[1:])
	code := run(ctx, e, os.Args[1:])
	stopProfile()
	os.Exit(code)
}

// startProfile writes a CPU profile of this process to dir when dir is set
// (LIFELINE_CPUPROFILE, for measuring a command run by the benchmarks), in a
// file named after the command and the process. It returns what stops it.
func startProfile(dir string, args []string) func() {
	if dir == "" {
		return func() {}
	}
	name := "lifeline"
	if len(args) > 0 {
		name += "-" + args[0]
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, os.Getpid())))
	if err != nil {
		fmt.Fprintf(os.Stderr, "lifeline: CPU profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "lifeline: CPU profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
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
	err := c.run(ctx, e, flags(e, c.name, c.usage), rest)
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
