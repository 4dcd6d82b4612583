package main

// The people commands reconcile missing-person reports with each other and
// with people in shelters (node/reconcile.go); the person commands, apart,
// are the responders who sign in on a laptop.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/node/match"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// peopleCommands are the people subcommands, listed in commands.
var peopleCommands = []command{
	{name: "people match", usage: "--data DIR [--min-score S] [--json [--set-aside]]", summary: "list the missing-person reports that may be one person, and the missing people who may be in a shelter (HQ and relays)", run: runPeopleMatch},
	{name: "people link", usage: "--data DIR --a ID --b ID [--different]", summary: "decide through the ledger that two people records are one person (or, --different, two)", run: runPeopleLink},
	{name: "people unlink", usage: "--data DIR --a ID --b ID", summary: "withdraw through the ledger a decision on two people records", run: runPeopleUnlink},
	{name: "people confirm-found", usage: "--data DIR --id MISSING_ID --shelter-record ID [--author NAME | --as NAME]", summary: "write into a missing person's report that they are safe in the shelter of a linked registration", run: runPeopleConfirmFound},
}

// idFlag is a record id flag called name.
func idFlag(fs *flagSet, name, usage string) *syncproto.RecordID {
	s := fs.String(name, "", usage)
	id := new(syncproto.RecordID)
	fs.checks = append(fs.checks, func() error {
		if *s == "" {
			return usagef("--%s is required", name)
		}
		var err error
		if *id, err = syncproto.ParseRecordID(strings.TrimSpace(*s)); err != nil {
			return usagef("--%s: %v", name, err)
		}
		return nil
	})
	return id
}

// peopleError says what to do about a record this node does not hold.
func peopleError(n *node.Node, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w on %s: sync with the node that holds it first (lifeline record list shows the records here)", err, node.Printable(n.Self().Name))
	}
	return err
}

func runPeopleMatch(ctx context.Context, e *env, fs *flagSet, args []string) error {
	minScore := fs.Float64("min-score", 0.5, "list the pairs scored at least this, from 0 to 1")
	asJSON := fs.Bool("json", false, "print a JSON array of {a, b, kind, score, reasons, decision}")
	setAside := fs.Bool("set-aside", false, "with --json, also the pairs set aside for a stronger match of one of their records, after the others, each with \"set_aside\": true")
	fs.checks = append(fs.checks, func() error {
		if !(*minScore >= 0 && *minScore <= 1) {
			return usagef("--min-score %v: give a score from 0 to 1, e.g. 0.5", *minScore)
		}
		if *setAside && !*asJSON {
			return usagef("--set-aside is for --json: without it, each pair is printed with those set aside beside it")
		}
		return nil
	})
	return fs.onNode(ctx, args, func(n *node.Node) error {
		m, err := n.Matching(ctx, *minScore)
		if err != nil {
			return err
		}
		if m.Withheld > 0 {
			fmt.Fprintf(e.stderr, "%d people records were not matched: their names are personal data of a district whose key %s does not hold\n", m.Withheld, node.Printable(n.Self().Name))
		}
		if m.Crowded > 0 {
			fmt.Fprintf(e.stderr, "%d people were not compared with all their namesakes: more records of one name, age and place than any event gives (over %d in one block, or over %d pairs for one record); look for the laptop or the import that wrote them\n",
				m.Crowded, match.MaxBlock, match.MaxPairs)
		}
		if *asJSON {
			out := append([]node.Match{}, m.Matches...)
			if *setAside {
				out = append(out, m.SetAside...)
			}
			return printJSON(e.stdout, out)
		}
		if len(m.Matches) == 0 {
			fmt.Fprintf(e.stdout, "no pairs scored %v or more\n", *minScore)
			return nil
		}
		// The pairs set aside, by their records: each is printed beside
		// the pairs of either record, so that namesakes are seen together.
		aside := map[string][]node.Match{}
		for _, p := range m.SetAside {
			aside[p.A] = append(aside[p.A], p)
			aside[p.B] = append(aside[p.B], p)
		}
		// A record of several pairs is read once.
		views := map[string]node.RecordView{}
		read := func(side string) (node.RecordView, error) {
			if v, ok := views[side]; ok {
				return v, nil
			}
			id, err := syncproto.ParseRecordID(side)
			if err != nil {
				return node.RecordView{}, err
			}
			v, err := n.RecordBrief(ctx, id)
			if err == nil {
				views[side] = v
			}
			return v, err
		}
		for _, p := range m.Matches {
			fmt.Fprintf(e.stdout, "%.2f  %-9s  %s  %s", p.Score, p.Kind, p.A, p.B)
			if p.Decision != "" {
				fmt.Fprintf(e.stdout, "  [%s]", p.Decision)
			}
			fmt.Fprintln(e.stdout)
			printPair(ctx, e, n, p, "      ", read)
			shown := map[string]bool{}
			for _, side := range []string{p.A, p.B} {
				for _, o := range aside[side] {
					k := o.A + " " + o.B + " " + o.Member
					if shown[k] {
						continue
					}
					shown[k] = true
					fmt.Fprintf(e.stdout, "    beside it, %.2f  %-9s  %s  %s\n", o.Score, o.Kind, o.A, o.B)
					printPair(ctx, e, n, o, "        ", read)
				}
			}
		}
		return nil
	})
}

// printPair prints, under a pair of people match, its two records (as
// read reads them) and its reasons, each line indented by indent.
func printPair(ctx context.Context, e *env, n *node.Node, p node.Match, indent string, read func(id string) (node.RecordView, error)) {
	for _, side := range []string{p.A, p.B} {
		v, err := read(side)
		if err != nil {
			continue
		}
		fmt.Fprintf(e.stdout, "%s%s: %s\n", indent, side, node.Printable(n.Summary(v)))
		if v.Type == node.FamilyRegistrationType && p.Member != "" {
			// The pair is of one of the family's people.
			if m, err := n.Person(ctx, side+"/"+p.Member); err == nil {
				name, _ := m.Fields["full_name"].(string)
				fmt.Fprintf(e.stdout, "%s  member %s: %s\n", indent, p.Member, node.Printable(name))
			}
		}
	}
	fmt.Fprintf(e.stdout, "%s%s\n", indent, node.Printable(strings.Join(p.Reasons, "; ")))
}

func runPeopleLink(ctx context.Context, e *env, fs *flagSet, args []string) error {
	a := idFlag(fs, "a", "one record's id")
	b := idFlag(fs, "b", "the other record's id")
	different := fs.Bool("different", false, "decide they are two people, not one")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		decision := ledger.LinkLinked
		if *different {
			decision = ledger.LinkDifferent
		}
		kind, err := n.Link(ctx, *a, *b, decision)
		if err != nil {
			return peopleError(n, err)
		}
		fmt.Fprintf(e.stdout, "%s of %s and %s queued: the running node proposes it to the ledger\n", decision, *a, *b)
		if kind != node.MatchFound || decision != ledger.LinkLinked {
			return nil
		}
		p, err := n.ProposeFound(ctx, *a, *b)
		if err != nil {
			return err
		}
		printProposal(e.stdout, n, p)
		return nil
	})
}

// printProposal is what a link of a missing person with a person in a
// shelter proposes, and whom to tell.
func printProposal(w io.Writer, n *node.Node, p node.FoundProposal) {
	fmt.Fprintf(w, "proposed: missing person %s, status %s, found_at_place %q\n", p.Missing, p.Status, node.Printable(p.FoundAtPlace))
	fmt.Fprintf(w, "  once someone has checked it is them: lifeline people confirm-found --data DIR --id %s --shelter-record %s\n", p.Missing, p.Shelter)
	printReporter(w, n, "", p.ReporterName, p.ReporterPhone, p.ReporterRelationship, p.Withheld)
	printCautions(w, "", p.Cautions)
	printLinkedReports(w, n, p, false)
}

// printReporter says whom to tell of a report.
func printReporter(w io.Writer, n *node.Node, indent, name, phone, relationship string, withheld bool) {
	switch {
	case withheld:
		fmt.Fprintf(w, "%sreporter: personal data of a district whose key %s does not hold\n", indent, node.Printable(n.Self().Name))
	case name != "" || phone != "":
		fmt.Fprintf(w, "%sreporter: %s", indent, node.Printable(name))
		if phone != "" {
			fmt.Fprintf(w, ", %s", node.Printable(phone))
		}
		if relationship != "" {
			fmt.Fprintf(w, " (%s)", node.Printable(relationship))
		}
		fmt.Fprintln(w)
	}
}

// printLinkedReports lists the person's other reports, each with whom to
// tell: as proposed, or as confirm-found wrote them.
func printLinkedReports(w io.Writer, n *node.Node, p node.FoundProposal, confirmed bool) {
	for _, l := range p.Linked {
		switch {
		case confirmed && l.Status == "missing":
			fmt.Fprintf(w, "record %s, linked: status %s, found at %s\n", l.ID, p.Status, node.Printable(p.FoundAtPlace))
		case confirmed:
			fmt.Fprintf(w, "record %s, linked: status %s, left as it is\n", l.ID, node.Printable(l.Status))
		default:
			what := "written " + p.Status + " too once confirmed"
			if l.Status != "missing" {
				what = "left as it is"
			}
			fmt.Fprintf(w, "linked report of the same person: %s", l.ID)
			if l.Case != "" {
				fmt.Fprintf(w, " (%s)", l.Case)
			}
			fmt.Fprintf(w, ", status %s: %s\n", node.Printable(l.Status), what)
		}
		printReporter(w, n, "  ", l.ReporterName, l.ReporterPhone, l.ReporterRelationship, l.Withheld)
		printCautions(w, "  ", l.Cautions)
	}
}

// printCautions says what to check before confirming a person found, and
// before telling the reporter where they are.
func printCautions(w io.Writer, indent string, cautions []node.Caution) {
	for _, c := range cautions {
		if c.Code == node.CautionStatus && len(c.Values) == 0 {
			continue // says nothing to print
		}
		what := map[string]string{
			"report":  "the report was",
			"contact": "the reporter's name, phone or relationship was last",
			"shelter": "the shelter's registration was",
			"place":   "the person's name or shelter in the shelter's registration was last",
		}[c.Of()]
		check := "check the report and the reporter before telling them anything"
		if c.Shelter {
			check = "check with the shelter that the person is there before confirming"
		}
		fmt.Fprint(w, indent)
		switch c.Code {
		case node.CautionChild:
			fmt.Fprintf(w, "caution: a child (%d): before telling the reporter where the child is, check that they are the child's parent or guardian, who they are and how they are related; hand the child over only to them\n", c.Age)
		case node.CautionContactChanged:
			fmt.Fprintf(w, "caution: the reporter's name, phone or relationship was changed after the report was written, on %s by %s: check it against the report as first written (record show) before telling anyone\n", node.Printable(c.Node), node.Printable(c.Person))
		case node.CautionRevokedNode:
			fmt.Fprintf(w, "caution: %s written on %s, which headquarters has since revoked: %s\n", what, node.Printable(c.Node), check)
		case node.CautionRevokedPerson:
			fmt.Fprintf(w, "caution: %s written by %s on %s, whom headquarters has since revoked there: %s\n", what, node.Printable(c.Person), node.Printable(c.Node), check)
		case node.CautionRevokedLinker:
			fmt.Fprintf(w, "caution: a link of these records, or of the reports linked with them, was made on %s, which headquarters has since revoked: check that they are one person (record show) before telling anyone\n", node.Printable(c.Node))
		case node.CautionStatus:
			was := node.Printable(c.Values[0])
			if len(c.Values) > 1 {
				was += " at " + node.Printable(c.Values[1])
			}
			fmt.Fprintf(w, "caution: the report says %s already: confirming writes found safe at the shelter over it; find out which is true first\n", was)
		case node.CautionConflict:
			values := make([]string, len(c.Values))
			for i, v := range c.Values {
				values[i] = strconv.Quote(node.Printable(v))
			}
			fmt.Fprintf(w, "caution: %s is in conflict on this report, %s: decide it on the record first (record show), or confirm-found is refused\n", node.Printable(c.Field), strings.Join(values, " or "))
		}
	}
}

func runPeopleUnlink(ctx context.Context, e *env, fs *flagSet, args []string) error {
	a := idFlag(fs, "a", "one record's id")
	b := idFlag(fs, "b", "the other record's id")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		if _, err := n.Link(ctx, *a, *b, ledger.LinkUnlinked); err != nil {
			return peopleError(n, err)
		}
		fmt.Fprintf(e.stdout, "unlink of %s and %s queued: the running node proposes it to the ledger\n", *a, *b)
		return nil
	})
}

func runPeopleConfirmFound(ctx context.Context, e *env, fs *flagSet, args []string) error {
	id := recordID(fs)
	shelter := idFlag(fs, "shelter-record", "the id of the person's record in the shelter (sheltered-person)")
	who := authorFlag(fs)
	return fs.onNode(ctx, args, func(n *node.Node) error {
		by, err := author(e, who, n)
		if err != nil {
			return err
		}
		p, _, err := n.ConfirmFound(ctx, *id, *shelter, by)
		if err != nil {
			return peopleError(n, err)
		}
		fmt.Fprintf(e.stdout, "record %s: status %s, found at %s\n", p.Missing, p.Status, node.Printable(p.FoundAtPlace))
		printReporter(e.stdout, n, "", p.ReporterName, p.ReporterPhone, p.ReporterRelationship, p.Withheld)
		printCautions(e.stdout, "", p.Cautions)
		printLinkedReports(e.stdout, n, p, true)
		return nil
	})
}

// printLinked lists, under a record shown, the records linked with it.
func printLinked(w io.Writer, linked []node.Linked) {
	if len(linked) == 0 {
		return
	}
	fmt.Fprintln(w, "linked (one person):")
	for _, l := range linked {
		fmt.Fprintf(w, "  %s", l.ID)
		if l.Case != "" {
			fmt.Fprintf(w, "  case %s", node.Printable(l.Case))
		}
		if l.Type != "" {
			fmt.Fprintf(w, "  (%s)", node.Printable(l.Type))
		}
		fmt.Fprintln(w)
	}
}
