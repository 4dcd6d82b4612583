package main

import (
	"context"
	"fmt"
	"sort"
)

func init() {
	register(command{name: "status", summary: "show the node's identity and what it holds", run: runStatus})
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "status", "--data DIR [--json]")
	nf := addNodeFlags(fs, e)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	n, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	st, err := n.Status(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, st)
	}
	fmt.Fprintf(e.stdout, "node %s: %s, %s district, id %s\n", st.Name, st.Role, st.District, st.Node)
	types := make([]string, 0, len(st.Records))
	total := 0
	for t, c := range st.Records {
		types = append(types, t)
		total += c
	}
	sort.Strings(types)
	fmt.Fprintf(e.stdout, "%d records", total)
	for i, t := range types {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(e.stdout, "%s%d %s", sep, st.Records[t], t)
	}
	fmt.Fprintln(e.stdout)
	fmt.Fprintf(e.stdout, "%d in conflict, %d deleted, %d changes from %d nodes", st.Conflicts, st.Deleted, st.Changes, st.Origins)
	if st.Held > 0 {
		fmt.Fprintf(e.stdout, ", %d held (stamped ahead of this clock)", st.Held)
	}
	fmt.Fprintln(e.stdout)
	return nil
}
