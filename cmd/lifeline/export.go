package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"lifeline/node"
	"lifeline/node/atomicfile"
)

// writeOut writes a file a command makes for another place (an export, a
// bundle, a snapshot, a photo): never into the node's data folder, where a
// mistyped path would replace its database or key; whole or not at all;
// and readable by its owner only, whatever file it replaces, since it may
// carry personal data. A device or a pipe (/dev/stdout, a FIFO another
// program reads) is written to as it is: it has no file to replace.
func writeOut(n *node.Node, path string, write func(io.Writer) error) error {
	if err := n.CheckExportPath(path); err != nil {
		return err
	}
	return writeWhole(path, write)
}

// writeWhole is writeOut where no node's data folder is to be kept out of.
func writeWhole(path string, write func(io.Writer) error) error {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&(os.ModeDevice|os.ModeNamedPipe|os.ModeCharDevice) != 0 {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return atomicfile.WriteFunc(path, 0o600, write)
}

func runReport(ctx context.Context, e *env, fs *flagSet, args []string) error {
	pdf := fs.String("pdf", "", "also write the situation report, a PDF in English and Spanish, to this file")
	personal := fs.Bool("personal", false, "with --pdf: name the people still missing (personal data)")
	return view(ctx, e, fs, args, func(n *node.Node) (node.Report, error) {
		if *personal && *pdf == "" {
			return node.Report{}, usagef("--personal goes with --pdf: the report printed here holds no personal data")
		}
		if *pdf != "" {
			if err := writeSituationReport(ctx, e, n, *pdf, *personal); err != nil {
				return node.Report{}, err
			}
		}
		return n.Report(ctx)
	}, printReport)
}

// districtName is a report row's name as people read it.
func districtName(d node.DistrictReport) string {
	if d.District == "" {
		return "No district"
	}
	return d.District
}

// printReport is n's report as people read it.
func printReport(w io.Writer, n *node.Node, rep node.Report) error {
	fmt.Fprintf(w, "Report of %s at %s\n\n", node.Printable(n.Self().Name), rep.At)
	rows := append(slices.Clone(rep.Districts), rep.Total)
	name := func(i int) string {
		if i == len(rows)-1 {
			return "Total"
		}
		return districtName(rows[i])
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DISTRICT\tDAMAGE 0/1/2/3/4\tLEVELS 3-4\tDISPLACED\tSHELTERS OPEN\tOCCUPANCY/CAPACITY\tFAMILIES SHELTERED\tPEOPLE SHELTERED\tMISSING\tIN CONFLICT")
	for i, d := range rows {
		levels := make([]string, len(d.Damage))
		for l, c := range d.Damage {
			levels[l] = fmt.Sprint(c)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d/%d\t%d/%d\t%d\t%d\t%d\t%d\n", name(i), strings.Join(levels, "/"), d.Severe(), d.Displaced,
			d.SheltersOpen, d.Shelters, d.Occupancy, d.Capacity, d.Families, d.People, d.Missing, d.Conflicts)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nRecords per type:")
	types := n.Kits().TypeNames()
	for t := range rep.Total.Records {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "TYPE\t")
	for i := range rows {
		fmt.Fprintf(tw, "%s\t", name(i))
	}
	fmt.Fprintln(tw)
	for _, t := range types {
		fmt.Fprintf(tw, "%s\t", node.Printable(t))
		for _, d := range rows {
			fmt.Fprintf(tw, "%d\t", d.Records[t])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	return nil
}

func runRecordExport(ctx context.Context, e *env, fs *flagSet, args []string) error {
	typ := fs.String("type", "", "the record type, e.g. damage-assessment (lifeline kits list shows them); with gpkg, all types when absent")
	format := fs.String("format", "csv", "csv, geojson for the records that have a location, or gpkg (a GeoPackage for QGIS and ArcGIS)")
	out := fs.String("out", "", "the file to write (default: standard output; required for gpkg)")
	personal := fs.Bool("personal", false, "include the fields the kit marks personal (names, phone numbers, medical needs)")
	photoDir := fs.String("photos", "", "also write the photos of the records exported into this folder, each as HASH.jpg (HASH.thumb.jpg where only its thumbnail is here)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	var export func(*node.Node, context.Context, string, io.Writer, node.ExportOptions) (int, error)
	switch *format {
	case "csv":
		export = (*node.Node).ExportCSV
	case "geojson":
		export = (*node.Node).ExportGeoJSON
	case "gpkg":
		if *out == "" {
			return usagef("--out is required for --format gpkg: a GeoPackage is a file")
		}
		return exportGeoPackage(ctx, e, fs, *typ, *out, *personal, *photoDir)
	default:
		return usagef("--format %q: csv or geojson, or gpkg for a GeoPackage", *format)
	}
	if *typ == "" {
		return usagef("--type is required for --format %s", *format)
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		if _, err := n.Type(*typ); err != nil {
			return err
		}
		opts := node.ExportOptions{Personal: *personal}
		var refs []string
		if *photoDir != "" {
			opts.Photo = func(ref string) { refs = append(refs, ref) }
		}
		count := 0
		write := func(w io.Writer) (err error) {
			bw := bufio.NewWriter(w)
			if count, err = export(n, ctx, *typ, bw, opts); err != nil {
				return err
			}
			return bw.Flush()
		}
		where := "standard output"
		if *out == "" {
			if err := write(e.stdout); err != nil {
				return err
			}
		} else {
			if err := writeOut(n, *out, write); err != nil {
				return err
			}
			where = *out
		}
		fmt.Fprintf(e.stderr, "wrote %s to %s", counted(count, *typ+" record"), where)
		if *personal {
			fmt.Fprint(e.stderr, personalWarning)
		}
		fmt.Fprintln(e.stderr)
		if *photoDir == "" {
			return nil
		}
		return exportPhotos(ctx, e, n, refs, *photoDir)
	})
}

// personalWarning follows what an export with personal data says it wrote.
const personalWarning = ", personal data included: keep the file where only the response team reads it"

// counted is "1 thing" or "n things".
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// exportGeoPackage writes the records of a type, or of all types, as a
// GeoPackage (Node.ExportGeoPackage) and says what each table holds.
func exportGeoPackage(ctx context.Context, e *env, fs *flagSet, typ, out string, personal bool, photoDir string) error {
	return fs.withNode(ctx, func(n *node.Node) error {
		var types []string
		if typ != "" {
			types = []string{typ}
		}
		opts := node.ExportOptions{Personal: personal}
		var refs []string
		if photoDir != "" {
			opts.Photo = func(ref string) { refs = append(refs, ref) }
		}
		layers, err := n.ExportGeoPackage(ctx, out, types, opts)
		if err != nil {
			return err
		}
		var parts []string
		for _, l := range layers {
			switch {
			case l.Repeat != "":
				parts = append(parts, counted(l.Rows, l.Type+" "+l.Repeat+" row"))
			case l.Points:
				parts = append(parts, counted(l.Rows, l.Type+" record"))
			default:
				parts = append(parts, counted(l.Rows, l.Type+" record")+" (no location: a table without geometry)")
			}
		}
		fmt.Fprintf(e.stderr, "wrote %s to %s", strings.Join(parts, ", "), out)
		if personal {
			fmt.Fprint(e.stderr, personalWarning)
		}
		fmt.Fprintln(e.stderr)
		if photoDir == "" {
			return nil
		}
		return exportPhotos(ctx, e, n, refs, photoDir)
	})
}

// exportPhotos writes the photos refs name into dir (Node.ExportPhotos)
// and says what it wrote and what it could not.
func exportPhotos(ctx context.Context, e *env, n *node.Node, refs []string, dir string) error {
	res, err := n.ExportPhotos(ctx, refs, dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %d photos to %s: %d full images", res.Full+res.Thumbs, dir, res.Full)
	if res.Thumbs > 0 {
		fmt.Fprintf(e.stderr, ", %d thumbnails only (named HASH.thumb.jpg: the full image is not on this node)", res.Thumbs)
	}
	fmt.Fprintln(e.stderr)
	if len(res.Absent) > 0 {
		fmt.Fprintf(e.stderr, "%d photos named by the records are not on this node yet, not even as a thumbnail: %s\n", len(res.Absent), strings.Join(res.Absent, " "))
	}
	if len(res.NotIDs) > 0 {
		fmt.Fprintf(e.stderr, "%d photo references are file names, not photo ids, and name no photo this node holds: %s\n", len(res.NotIDs), strings.Join(res.NotIDs, " "))
	}
	return nil
}
