// Command mutants prints the table that ends make mutate: per package, the
// mutants gremlins killed, those that lived, those no test reaches, those
// that timed out, and the efficacy, killed / (killed + lived). Then every
// mutant that lived, where it is. It exits 1 when a package's efficacy is
// under -goal percent.
//
//	go run ./scripts/mutants -goal 90 syncproto=out/syncproto.json ...
//
// Each argument is a package's name and the file gremlins unleash
// --output wrote for it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
)

// report is the part of gremlins' --output file read here.
type report struct {
	Files []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

type counts struct {
	killed, lived, notCovered, timedOut, notViable int
}

func (c counts) efficacy() (float64, bool) {
	if c.killed+c.lived == 0 {
		return 0, false
	}
	return 100 * float64(c.killed) / float64(c.killed+c.lived), true
}

func main() {
	goal := flag.Float64("goal", 90, "the efficacy, in percent, every package must reach")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mutants [-goal percent] package=gremlins-output.json...")
		os.Exit(2)
	}
	var (
		total   counts
		lived   []string
		belowOf []string
	)
	fmt.Printf("%-16s %7s %6s %12s %10s %11s %9s\n",
		"package", "killed", "lived", "not covered", "timed out", "not viable", "efficacy")
	for _, arg := range flag.Args() {
		pkg, file, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "mutants: %q is not package=file\n", arg)
			os.Exit(2)
		}
		var r report
		b, err := os.ReadFile(file)
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "mutants: %s: %v\n", pkg, err)
			os.Exit(2)
		}
		var c counts
		for _, f := range r.Files {
			for _, m := range f.Mutations {
				switch m.Status {
				case "KILLED":
					c.killed++
				case "LIVED":
					c.lived++
					lived = append(lived, fmt.Sprintf("%s:%d:%d %s",
						path.Join(pkg, f.Name), m.Line, m.Column, m.Type))
				case "NOT COVERED":
					c.notCovered++
				case "TIMED OUT":
					c.timedOut++
				case "NOT VIABLE":
					c.notViable++
				}
			}
		}
		total.killed += c.killed
		total.lived += c.lived
		total.notCovered += c.notCovered
		total.timedOut += c.timedOut
		total.notViable += c.notViable
		fmt.Println(row(pkg, c))
		if e, ok := c.efficacy(); ok && e < *goal {
			belowOf = append(belowOf, pkg)
		}
	}
	fmt.Println(row("all", total))
	if len(lived) > 0 {
		sort.Strings(lived)
		fmt.Printf("\nlived (%d): each needs a test, or a line in docs/testing.md saying why it is equivalent\n", len(lived))
		for _, l := range lived {
			fmt.Println("  " + l)
		}
	}
	if len(belowOf) > 0 {
		fmt.Printf("\nefficacy under %.0f%%: %s\n", *goal, strings.Join(belowOf, ", "))
		os.Exit(1)
	}
}

func row(pkg string, c counts) string {
	eff := "-"
	if e, ok := c.efficacy(); ok {
		eff = fmt.Sprintf("%.1f%%", e)
	}
	return fmt.Sprintf("%-16s %7d %6d %12d %10d %11d %9s",
		pkg, c.killed, c.lived, c.notCovered, c.timedOut, c.notViable, eff)
}
