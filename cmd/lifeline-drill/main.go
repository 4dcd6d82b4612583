// Command lifeline-drill runs the hurricane drill against real lifeline
// processes on this machine (as root) and prints its report; it exits 1
// when anything was lost, diverged or crashed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"lifeline/drill"
)

func main() {
	os.Exit(run())
}

func run() int {
	exe, _ := os.Executable()
	bin := flag.String("bin", filepath.Join(filepath.Dir(exe), "lifeline"), "the lifeline binary the nodes run")
	short := flag.Bool("short", false, "the short drill (what make test runs)")
	steps := flag.String("steps", "", "run only these steps, comma separated: "+strings.Join(drill.Steps, ", "))
	reportFile := flag.String("report", "drill-report.txt", "write the report here too")
	dir := flag.String("dir", "", "folder for the nodes' data and logs (default: a new temporary folder, removed if the drill passes)")
	flag.Parse()
	work := *dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "lifeline-drill"); err != nil {
			fmt.Fprintln(os.Stderr, "lifeline-drill:", err)
			return 2
		}
	}
	var only []string
	if *steps != "" {
		only = strings.Split(*steps, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := drill.Run(ctx, drill.Config{Bin: *bin, Dir: work, Short: *short, Steps: only, Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lifeline-drill:", err)
		if r == nil {
			return 2
		}
	}
	r.Write(os.Stdout)
	if f, ferr := os.Create(*reportFile); ferr == nil {
		r.Write(f)
		f.Close()
		fmt.Printf("\nreport written to %s; nodes' data and logs in %s\n", *reportFile, work)
	}
	if err != nil || !r.OK() {
		return 1
	}
	if *dir == "" {
		os.RemoveAll(work)
	}
	return 0
}
