package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"lifeline/fieldkits"
	"lifeline/fieldkits/xlsform"
	"lifeline/node"
	"lifeline/schemas"
)

// runKitsImport converts an XLSForm into a kit file and prints what the kit
// does not carry. The kit is checked by the loader every node uses, and
// against the kits this binary carries (or the node in --data holds), so
// that the file written is one lifeline kits publish takes.
func runKitsImport(ctx context.Context, e *env, fs *flagSet, args []string) error {
	out := fs.required("out", "the kit file to write")
	kit := fs.String("kit", "", "name the kit and its record type (default: the form's form_id)")
	district := fs.String("district-field", "", "the form's question that holds the district, when it is not called district")
	pos, err := fs.parse(args, "FORM.xlsx")
	if err != nil {
		return err
	}
	f, err := node.OpenFile(pos[0])
	if err != nil {
		return err
	}
	k, rep, err := xlsform.Convert(f, xlsform.Options{Kit: *kit, DistrictField: *district, FileName: filepath.Base(pos[0])})
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	data, err := k.YAML(filepath.Base(pos[0]))
	if err != nil {
		return err
	}
	// The kits to fit are the node's, if there is one here; and its data
	// folder is no place for the kit file, which would replace its
	// database or key.
	var cat *fieldkits.Catalogue
	if node.Initialised(fs.cfg.DataDir) {
		err = fs.withNode(ctx, func(n *node.Node) error {
			cat = n.Kits()
			return n.CheckExportPath(*out)
		})
	} else {
		cat, err = fieldkits.Embedded()
	}
	if err != nil {
		return err
	}
	parsed, err := cat.ParseUpdate(filepath.Base(*out), data)
	if err != nil {
		return fmt.Errorf("%s cannot become a kit here: %w", pos[0], err)
	}
	if _, err := cat.With([]*schemas.Kit{parsed}); err != nil {
		return fmt.Errorf("%s cannot become a kit here: %w", pos[0], err)
	}
	if err := writeWhole(*out, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return err
	}
	// The form is a district's text: printed as such.
	fmt.Fprintf(e.stdout, "wrote kit %s %s to %s: %d fields\n", node.Printable(k.Name), node.Printable(k.Version), *out, countFields(k))
	if len(rep.Notes) > 0 {
		fmt.Fprintf(e.stdout, "\nNot carried, or changed (%d):\n", len(rep.Notes))
		for _, l := range rep.Lines() {
			fmt.Fprintf(e.stdout, "  %s\n", node.Printable(l))
		}
	}
	return nil
}

func countFields(k *xlsform.Kit) int {
	n := 0
	for _, t := range k.Types {
		for _, f := range t.Fields {
			n += 1 + len(f.Fields)
		}
	}
	return n
}
