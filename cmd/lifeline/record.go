package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"lifeline/node"
)

func runRecordAdd(ctx context.Context, e *env, fs *flagSet, args []string) error {
	typ := fs.required("type", "the record type, e.g. damage-assessment (lifeline kits list shows them)")
	return writeInput(ctx, e, fs, args, "a file holding the JSON object (default: standard input)", func(n *node.Node, data []byte, author string) error {
		id, err := n.Add(ctx, *typ, data, author)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, id)
		return nil
	})
}

func runRecordUpdate(ctx context.Context, e *env, fs *flagSet, args []string) error {
	id := recordID(fs)
	return writeInput(ctx, e, fs, args, "a file holding the JSON object of fields to set (default: standard input)", func(n *node.Node, data []byte, author string) error {
		before, err := n.RecordBrief(ctx, *id)
		if err != nil {
			return err
		}
		if _, err := n.Update(ctx, *id, data, author); err != nil {
			return err
		}
		// Setting a field in conflict decides it: say which versions the
		// new value replaced, so that no one decides a conflict unseen.
		var set map[string]json.RawMessage
		if json.Unmarshal(data, &set) != nil {
			return nil
		}
		for _, name := range slices.Sorted(maps.Keys(set)) {
			vs := before.Conflicts[name]
			if len(vs) == 0 {
				continue
			}
			was := make([]string, len(vs))
			for i, v := range vs {
				was[i] = fmt.Sprintf("%q (%s)", node.Printable(v.Text), byline(v.Author, v.Via, v.Node))
			}
			fmt.Fprintf(e.stdout, "decided the conflict on %s: the value set replaces %s\n", node.Printable(name), strings.Join(was, ", "))
		}
		return nil
	})
}

// writeInput parses the flags of a command that writes a record from the
// JSON object --file holds, reads the object, and hands it to write on the
// node, with the change's author.
func writeInput(ctx context.Context, e *env, fs *flagSet, args []string, fileUsage string, write func(n *node.Node, data []byte, author string) error) error {
	file := fs.String("file", "", fileUsage)
	who := authorFlag(fs)
	if _, err := fs.parse(args); err != nil {
		return err
	}
	data, err := readInput(e, *file)
	if err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		by, err := author(e, who, n)
		if err != nil {
			return err
		}
		return write(n, data, by)
	})
}

func runRecordDelete(ctx context.Context, e *env, fs *flagSet, args []string) error {
	return setDeleted(ctx, e, fs, args, true)
}

func runRecordRestore(ctx context.Context, e *env, fs *flagSet, args []string) error {
	return setDeleted(ctx, e, fs, args, false)
}

func setDeleted(ctx context.Context, e *env, fs *flagSet, args []string, deleted bool) error {
	id := recordID(fs)
	who := authorFlag(fs)
	return fs.onNode(ctx, args, func(n *node.Node) error {
		by, err := author(e, who, n)
		if err != nil {
			return err
		}
		if deleted {
			return n.Delete(ctx, *id, by)
		}
		return n.Restore(ctx, *id, by)
	})
}

type recordJSON struct {
	ID        string                    `json:"id"`
	Type      string                    `json:"type"`
	Kit       string                    `json:"kit"`
	Deleted   bool                      `json:"deleted,omitempty"`
	Updated   string                    `json:"updated"`
	Fields    map[string]any            `json:"fields"`
	Conflicts map[string][]node.Version `json:"conflicts,omitempty"`
	Review    *node.RecordReview        `json:"review,omitempty"`
}

func runRecordList(ctx context.Context, e *env, fs *flagSet, args []string) error {
	typ := fs.String("type", "", "only records of this type")
	onlyConflicts := fs.Bool("conflicts", false, "only records with a field in conflict, deleted ones among them")
	withDeleted := fs.Bool("deleted", false, "include deleted records")
	review := reviewFilter(fs)
	writtenOn := fs.String("written-on", "", "only the records a change of this node created, edited or deleted (its id, or its name as this node knows it): after a laptop is revoked, what to review")
	limit := fs.Int("limit", 0, "list at most this many (0: all)")
	asJSON := fs.Bool("json", false, "print a JSON array")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		if *typ != "" {
			if _, err := n.Type(*typ); err != nil {
				return err
			}
		}
		q := node.Query{Type: *typ, OnlyConflict: *onlyConflicts, WithDeleted: *withDeleted}
		if *writtenOn != "" {
			var err error
			if q.WrittenBy, err = nodeID(ctx, n, *writtenOn); err != nil {
				return fmt.Errorf("--written-on: %w", err)
			}
		}
		if *asJSON {
			return listJSON(ctx, e.stdout, n, q, *review, *limit)
		}
		return list(ctx, e.stdout, n, q, *review, *limit)
	})
}

// list prints a table of the records, one a line. The table's columns are
// as wide as their widest cell, so nothing is printed before the last
// record is read; the rows wait in a table, which keeps only a few MiB of
// them in memory.
func list(ctx context.Context, w io.Writer, n *node.Node, q node.Query, review string, limit int) error {
	t := newTable()
	defer t.close()
	if err := t.row("ID", "TYPE", "UPDATED", "SUMMARY", "FLAGS"); err != nil {
		return err
	}
	count := 0
	for v, err := range n.Reviewed(ctx, q, review) {
		if err != nil {
			return err
		}
		var flagsCol []string
		if len(v.Conflicts) > 0 {
			flagsCol = append(flagsCol, fmt.Sprintf("%d in conflict", len(v.Conflicts)))
		}
		if v.Deleted {
			flagsCol = append(flagsCol, "deleted")
		}
		switch {
		case v.Review != nil && v.Review.Corrected:
			flagsCol = append(flagsCol, "corrected, to review again")
		case v.Review != nil:
			flagsCol = append(flagsCol, strings.ReplaceAll(v.Review.Decision, "-", " "))
		}
		if err := t.row(v.ID, node.Printable(v.Type), v.Updated, node.Printable(n.Summary(v)), strings.Join(flagsCol, ", ")); err != nil {
			return err
		}
		if count++; limit > 0 && count >= limit {
			break
		}
	}
	return t.writeTo(w)
}

// listJSON streams the array so that a list of every record does not have to
// fit in memory twice.
func listJSON(ctx context.Context, w io.Writer, n *node.Node, q node.Query, review string, limit int) error {
	io.WriteString(w, "[")
	count := 0
	for v, err := range n.Reviewed(ctx, q, review) {
		if err != nil {
			return err
		}
		if count > 0 {
			io.WriteString(w, ",")
		}
		io.WriteString(w, "\n")
		if err := printCompact(w, recordJSON{ID: v.ID, Type: v.Type, Kit: v.Kit, Deleted: v.Deleted, Updated: v.Updated, Fields: v.Fields, Conflicts: v.Conflicts, Review: v.Review}); err != nil {
			return err
		}
		if count++; limit > 0 && count >= limit {
			break
		}
	}
	if count > 0 {
		io.WriteString(w, "\n")
	}
	_, err := io.WriteString(w, "]\n")
	return err
}

func runRecordShow(ctx context.Context, e *env, fs *flagSet, args []string) error {
	id := recordID(fs)
	return view(ctx, e, fs, args, func(n *node.Node) (shownRecord, error) {
		v, err := n.Record(ctx, *id)
		if err != nil {
			return shownRecord{}, err
		}
		s := shownRecord{RecordView: v}
		if n.Self().Role.InLedger() {
			if s.Linked, err = n.LinkedWith(ctx, *id); err != nil {
				return shownRecord{}, fmt.Errorf("the records linked with %s: %w", *id, err)
			}
		}
		return s, nil
	}, printRecord)
}

// shownRecord is a record as record show gives it: the record, and on a
// node of the ledger the records linked with it as one person.
type shownRecord struct {
	node.RecordView
	Linked []node.Linked
}

// MarshalJSON is the record's JSON with "linked", the records linked with
// it, last (left out when there are none).
func (s shownRecord) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(s.RecordView)
	if err != nil || len(s.Linked) == 0 {
		return b, err
	}
	l, err := json.Marshal(s.Linked)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("record %s: its JSON is not an object", s.ID)
	}
	sep := ","
	if len(b) == 2 {
		sep = ""
	}
	return fmt.Appendf(b[:len(b)-1:len(b)-1], "%s\"linked\":%s}", sep, l), nil
}

// printRecord is a record as people read it: its fields, its conflicts,
// HQ's decisions, the records linked with it, and its history.
func printRecord(w io.Writer, n *node.Node, s shownRecord) error {
	v := s.RecordView
	fmt.Fprintf(w, "%s  %s (%s)\n", v.ID, node.Printable(v.Title), node.Printable(v.Type))
	if v.Case != "" {
		fmt.Fprintf(w, "case %s\n", node.Printable(v.Case))
	}
	switch v.Status {
	case node.StatusConfirmed:
		fmt.Fprintln(w, "confirmed at HQ")
	case node.StatusSent:
		fmt.Fprintln(w, "sent; not confirmed at HQ yet")
	case node.StatusSaved:
		fmt.Fprintln(w, "saved here; not sent yet")
	}
	if v.Deleted {
		fmt.Fprintln(w, "DELETED")
	}
	printReview(w, v.Review)
	printLinked(w, s.Linked)
	fmt.Fprintf(w, "updated %s\n\n", v.Updated)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, name := range v.Order {
		mark := ""
		if _, c := v.Conflicts[name]; c {
			mark = "  [CONFLICT]"
		}
		fmt.Fprintf(tw, "%s\t%s%s\n", node.Printable(v.Labels[name]), node.Printable(v.Texts[name]), mark)
	}
	tw.Flush()
	if len(v.Conflicts) > 0 {
		fmt.Fprintln(w, "\nConflicts (the value shown first wins until someone decides; an update of the field resolves it):")
		names := make([]string, 0, len(v.Conflicts))
		for name := range v.Conflicts {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			label := v.Labels[name]
			if label == "" {
				label = name
			}
			fmt.Fprintf(w, "  %s:\n", node.Printable(label))
			for _, ver := range v.Conflicts[name] {
				fmt.Fprintf(w, "    %-30s by %s at %s", node.Printable(ver.Text), byline(ver.Author, ver.Via, ver.Node), ver.At)
				if ver.Ahead > 0 {
					fmt.Fprintf(w, " (stamped %s ahead of this node's clock: its clock may run fast)", ver.Ahead)
				}
				fmt.Fprintln(w)
			}
		}
	}
	if len(v.Decisions) > 0 {
		fmt.Fprintln(w, "\nDecided at HQ (recorded by the ledger):")
		for _, d := range v.Decisions {
			label := v.Labels[d.Field]
			if label == "" {
				label = d.Field
			}
			origin, _, _ := strings.Cut(d.Change, ":")
			fmt.Fprintf(w, "  %s by %s at %s (change %s)\n", node.Printable(label), byline(d.By, d.Via, origin), d.At, d.Change)
		}
	}
	fmt.Fprintln(w, "\nHistory:")
	for _, h := range v.History {
		names := make([]string, 0, len(h.Fields))
		for name := range h.Fields {
			names = append(names, name)
		}
		sort.Strings(names)
		fmt.Fprintf(w, "  %s  %s (change %d, %s): %s\n", h.At, byline(h.Author, h.Via, h.Node), h.Seq, h.Status, node.Printable(strings.Join(names, ", ")))
	}
	return nil
}
