package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"lifeline/fieldkits"
	"lifeline/node"
	"lifeline/schemas"
)

// catalogue is the kits of the node in the data folder, those the ledger
// published among them; with no node there, the kits every binary carries.
func catalogue(ctx context.Context, fs *flagSet) (*fieldkits.Catalogue, error) {
	if !node.Initialised(fs.cfg.DataDir) {
		return fieldkits.Embedded()
	}
	var cat *fieldkits.Catalogue
	err := fs.withNode(ctx, func(n *node.Node) error {
		cat = n.Kits()
		return nil
	})
	return cat, err
}

type kitJSON struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Title   string   `json:"title"`
	Types   []string `json:"types"`
}

func runKitsList(ctx context.Context, e *env, fs *flagSet, args []string) error {
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	lang := fs.cfg.Lang
	cat, err := catalogue(ctx, fs)
	if err != nil {
		return err
	}
	out := []kitJSON{}
	for _, k := range cat.Kits() {
		kj := kitJSON{Name: k.Name, Version: k.Version, Title: k.Title.In(lang)}
		for _, t := range k.Types {
			kj.Types = append(kj.Types, t.Name)
		}
		out = append(out, kj)
	}
	if *asJSON {
		return printJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIT\tVERSION\tTITLE\tRECORD TYPES")
	for _, k := range out {
		// A kit the ledger published is headquarters' text.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Name, node.Printable(k.Version), node.Printable(k.Title), strings.Join(k.Types, ", "))
	}
	return tw.Flush()
}

func runKitsShow(ctx context.Context, e *env, fs *flagSet, args []string) error {
	asJSON := fs.Bool("json", false, "print the kit as JSON")
	pos, err := fs.parse(args, "KIT")
	if err != nil {
		return err
	}
	lang := fs.cfg.Lang
	cat, err := catalogue(ctx, fs)
	if err != nil {
		return err
	}
	var kit *schemas.Kit
	var names []string
	for _, k := range cat.Kits() {
		names = append(names, k.Name)
		if k.Name == pos[0] {
			kit = k
		}
	}
	if kit == nil {
		return fmt.Errorf("no kit %q; the kits are %s", pos[0], strings.Join(names, ", "))
	}
	if *asJSON {
		return printJSON(e.stdout, kit)
	}
	fmt.Fprintf(e.stdout, "%s %s: %s\n", kit.Name, node.Printable(kit.Version), node.Printable(kit.Title.In(lang)))
	for _, t := range kit.Types {
		fmt.Fprintf(e.stdout, "\n%s (schema version %d, sync priority %d): %s\n", t.Name, t.Version, t.Priority, node.Printable(t.Title.In(lang)))
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  FIELD\tTYPE\tRULES\tLABEL")
		for _, f := range t.Fields {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Name, f.Type, node.Printable(rules(f)), node.Printable(f.Label.In(lang)))
		}
		tw.Flush()
	}
	return nil
}

func rules(f *schemas.Field) string {
	var r []string
	if f.Required.Always {
		r = append(r, "required")
	}
	if f.Personal {
		r = append(r, "personal")
	}
	if f.Min != nil {
		r = append(r, fmt.Sprintf("min %v", *f.Min))
	}
	if f.Max != nil {
		r = append(r, fmt.Sprintf("max %v", *f.Max))
	}
	if f.Ref != "" {
		r = append(r, "-> "+f.Ref)
	}
	if len(f.Choices) > 0 {
		vals := make([]string, 0, len(f.Choices))
		for _, c := range f.Choices {
			vals = append(vals, c.Value)
		}
		s := strings.Join(vals, "|")
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		r = append(r, s)
	}
	return strings.Join(r, ", ")
}
