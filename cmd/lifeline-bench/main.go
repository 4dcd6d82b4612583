// Command lifeline-bench measures Lifeline on the shared benchmark workload
// (docs/bench.md says what each workload is) and prints the figures. Each
// workload runs in a child process of its own, so that its peak resident
// memory is its own.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// workload is one measurement, run in a child process. It returns its
// figures; the parent adds the child's peak RSS.
type workload struct {
	name string
	what string
	run  func(ctx context.Context, w *env) (result, error)
	// across runs the workload in this process, driving several
	// processes; it returns one result per line of the table.
	across func(ctx context.Context, w *env) ([]namedResult, error)
	// rows runs the workload in a child process, as run does, and returns
	// one result per line of the table; each line shows the child's peak
	// RSS.
	rows func(ctx context.Context, w *env) ([]namedResult, error)
}

type namedResult struct {
	name, what string
	result
}

// childRow is a namedResult as a child reports it.
type childRow struct {
	Name string `json:"name"`
	What string `json:"what"`
	result
}

type result struct {
	Records int           `json:"records"`
	Elapsed time.Duration `json:"elapsed"`
	Extra   string        `json:"extra,omitempty"`
	RSSKiB  int64         `json:"rss_kib"`
}

type env struct {
	workload string // the benchmark's NDJSON(.gz) file
	tmp      string // a folder the workload may fill
	damage   string // lines 1 to 50,000 of the workload, uncompressed
}

var workloads []workload

func register(w workload) { workloads = append(workloads, w) }

func main() {
	file := flag.String("workload", "fieldkits/testdata/workload.ndjson.gz", "the benchmark workload")
	only := flag.String("run", "", "run only the workloads whose names contain this")
	child := flag.String("child", "", "internal: run one workload and print its result as JSON")
	tmp := flag.String("tmp", "", "folder for the nodes' data (default: a new temporary folder)")
	flag.IntVar(&syncScale, "scale", 1, "W1 to W3 sync this many times the 50,000 records (copies with new ids)")
	withPersonal := flag.Bool("personal", false, "give every damage assessment a head of household and a phone number, the kit's personal fields, which the nodes seal")
	flag.Parse()
	if *child != "" {
		os.Exit(runChild(*child, *file, *tmp))
	}
	if *tmp == "" {
		dir, err := os.MkdirTemp("", "lifeline-bench")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(dir)
		*tmp = dir
	}
	// The children read the records from a plain file, so that their peak
	// memory is the node's, not the workload's.
	lines, err := readLines(*file, 1, 50000)
	if err != nil {
		fail(err)
	}
	if *withPersonal {
		for i, l := range lines {
			lines[i] = withPersonalFields(l, i)
		}
	}
	if err := os.WriteFile(filepath.Join(*tmp, damageFile), append(bytes.Join(lines, []byte("\n")), '\n'), 0o600); err != nil {
		fail(err)
	}
	lines = nil
	fmt.Printf("%-16s %8s %9s %10s %10s  %s\n", "workload", "records", "time", "records/s", "peak RSS", "what")
	failed := false
	for _, w := range workloads {
		if *only != "" && !strings.Contains(w.name, *only) {
			continue
		}
		if w.across != nil || w.rows != nil {
			var rows []namedResult
			var err error
			if w.across != nil {
				rows, err = w.across(context.Background(), &env{workload: *file, tmp: *tmp, damage: filepath.Join(*tmp, damageFile)})
			} else {
				rows, err = spawnRows(w.name, *file, *tmp)
			}
			for _, r := range rows {
				printRow(r.name, r.what, r.result)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", w.name, err)
				failed = true
			}
			continue
		}
		r, err := spawn(w.name, *file, *tmp)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", w.name, err)
			failed = true
			continue
		}
		printRow(w.name, w.what, r)
	}
	if failed {
		os.Exit(1)
	}
}

// printRow prints one line of the table. A result that counts no records
// (a time to converge) shows "-" for records and rate.
func printRow(name, what string, r result) {
	if r.Records == 0 {
		fmt.Printf("%-16s %8s %8.3fs %10s %6.1f MiB  %s\n", name, "-", r.Elapsed.Seconds(), "-", float64(r.RSSKiB)/1024, what+r.Extra)
		return
	}
	rate := float64(r.Records) / r.Elapsed.Seconds()
	fmt.Printf("%-16s %8d %8.3fs %10.0f %6.1f MiB  %s\n", name, r.Records, r.Elapsed.Seconds(), rate, float64(r.RSSKiB)/1024, what+r.Extra)
}

const damageFile = "damage.ndjson"

// spawn runs one workload in a child process and reads its result.
func spawn(name, file, tmp string) (result, error) {
	cmd := exec.Command(os.Args[0], "-child", name, "-workload", file, "-tmp", tmp)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return result{}, fmt.Errorf("child said %q: %w", out, err)
	}
	return r, nil
}

// spawnRows runs a workload of several lines in a child process and reads
// its lines.
func spawnRows(name, file, tmp string) ([]namedResult, error) {
	cmd := exec.Command(os.Args[0], "-child", name, "-workload", file, "-tmp", tmp)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	var rows []childRow
	if jerr := json.Unmarshal(out, &rows); jerr != nil && err == nil {
		err = fmt.Errorf("child said %q: %w", out, jerr)
	}
	var named []namedResult
	for _, r := range rows {
		named = append(named, namedResult{name: r.Name, what: r.What, result: r.result})
	}
	return named, err
}

func runChild(name, file, tmp string) int {
	for _, w := range workloads {
		if w.name != name {
			continue
		}
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		e := &env{workload: file, tmp: dir, damage: filepath.Join(tmp, damageFile)}
		if w.rows != nil {
			// The lines measured before a failure are printed too.
			named, err := w.rows(context.Background(), e)
			rss := peakRSS()
			rows := []childRow{}
			for _, r := range named {
				// A line that measured its own window's peak keeps it.
				if r.RSSKiB == 0 {
					r.RSSKiB = rss
				}
				rows = append(rows, childRow{Name: r.name, What: r.what, result: r.result})
			}
			json.NewEncoder(os.Stdout).Encode(rows)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			return 0
		}
		r, err := w.run(context.Background(), e)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		r.RSSKiB = peakRSS()
		json.NewEncoder(os.Stdout).Encode(r)
		return 0
	}
	fmt.Fprintf(os.Stderr, "no workload %q\n", name)
	return 2
}

// readLines reads the workload's lines from first to last (1-based,
// inclusive).
func readLines(file string, first, last int) ([][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("the benchmark workload: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(file, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		r = z
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	var out [][]byte
	for n := 1; sc.Scan() && n <= last; n++ {
		if n >= first {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) != last-first+1 {
		return nil, fmt.Errorf("%s has %d of lines %d to %d", file, len(out), first, last)
	}
	return out, nil
}

// peakRSS is this process's peak resident memory in KiB (VmHWM). Unlike
// getrusage's ru_maxrss, it does not carry over the parent's memory from
// before exec.
func peakRSS() int64 { return procHWM(os.Getpid()) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "lifeline-bench:", err)
	os.Exit(1)
}

// median of durations, for workloads that repeat.
func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// withPersonalFields adds to a damage assessment's JSON line the personal
// fields its kit declares, with values as long as real ones: a name of
// two given names and two surnames, and a Belizean phone number.
func withPersonalFields(line []byte, i int) []byte {
	given := []string{"Maria", "José", "Ana", "Luis", "Rosa", "Carlos", "Elena", "Andrés"}
	family := []string{"Chun", "Pop", "Cocom", "Tzul", "Sho", "Coc", "Bol", "Choc"}
	name := fmt.Sprintf("%s %s %s %s", given[i%8], given[(i/8)%8], family[(i/64)%8], family[(i/512)%8])
	extra := fmt.Sprintf(`,"head_of_household":%q,"phone":"+501 6%02d-%04d"}`, name, i%100, i%10000)
	body := bytes.TrimRight(line, " \n")
	return append(bytes.TrimSuffix(body, []byte("}")), extra...)
}
