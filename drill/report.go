package drill

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Report is what the drill did and what survived.
type Report struct {
	Started time.Time
	Took    time.Duration
	Short   bool
	Steps   []*StepReport
}

// StepReport is one step: what was injected and what survived it.
type StepReport struct {
	Name string
	// Injected says what the step did to the deployment.
	Injected []string
	// Observed is what the step saw happen (e.g. the order life-safety
	// records arrived in).
	Observed []string
	// Converged is how long after the step (writers paused) every node
	// held the same records.
	Converged time.Duration
	Diverged  bool
	// Acked counts the records the laptops' tool said it saved, so far;
	// AtHQ those of them HQ holds; Held those a laptop with a wrong clock
	// wrote, kept at the others until their time comes; Lost the rest.
	Acked, AtHQ, Held, Lost int
	LostIDs                 []string
	Conflicts               int
	// Crashes are processes that stopped by themselves; Panics, panics and
	// fatal errors in the logs.
	Crashes []string
	Panics  int
	// Integrity lists stores whose integrity check was not "ok".
	Integrity []string
	// Refusals counts, by kind, what the nodes refused and logged.
	Refusals map[string]int
	// KeptAside counts the changes HQ kept aside during the step: the
	// write policy, a kit or a revocation refused them.
	KeptAside int
	// Failures are the step's expectations that did not hold.
	Failures []string
	Took     time.Duration

	checked bool
}

// OK reports whether the step lost, diverged and crashed nothing.
func (s *StepReport) OK() bool {
	return s.Lost == 0 && !s.Diverged && len(s.Crashes) == 0 && s.Panics == 0 && len(s.Integrity) == 0 && len(s.Failures) == 0
}

func (s *StepReport) summary() string {
	verdict := "ok"
	if !s.OK() {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s: equal after %.1fs, %d acknowledged, %d at HQ, %d held, %d lost, %d crashes, %d panics",
		verdict, s.Converged.Seconds(), s.Acked, s.AtHQ, s.Held, s.Lost, len(s.Crashes), s.Panics)
}

// OK reports whether every step lost, diverged and crashed nothing.
func (r *Report) OK() bool {
	for _, s := range r.Steps {
		if !s.OK() {
			return false
		}
	}
	return len(r.Steps) > 0
}

// Totals sums the steps' losses, divergences and crashes.
func (r *Report) Totals() (lost, diverged, crashed int) {
	for _, s := range r.Steps {
		lost = max(lost, s.Lost) // each step counts every record so far
		if s.Diverged {
			diverged++
		}
		crashed += len(s.Crashes) + s.Panics
	}
	return
}

// Write prints the report for people.
func (r *Report) Write(w io.Writer) {
	kind := "full"
	if r.Short {
		kind = "short"
	}
	fmt.Fprintf(w, "Lifeline hurricane drill (%s), %s, %.0fs\n\n", kind, r.Started.UTC().Format(time.RFC3339), r.Took.Seconds())
	for _, s := range r.Steps {
		verdict := "ok"
		if !s.OK() {
			verdict = "FAILED"
		}
		fmt.Fprintf(w, "== %s: %s (%.0fs)\n", s.Name, verdict, s.Took.Seconds())
		for _, x := range s.Injected {
			fmt.Fprintf(w, "   injected:  %s\n", x)
		}
		for _, x := range s.Observed {
			fmt.Fprintf(w, "   observed:  %s\n", x)
		}
		fmt.Fprintf(w, "   equal digests %.1fs after the step; records acknowledged %d, at HQ %d, held %d, lost %d; conflicts kept %d\n",
			s.Converged.Seconds(), s.Acked, s.AtHQ, s.Held, s.Lost, s.Conflicts)
		integrity := "ok on every node"
		if len(s.Integrity) > 0 {
			integrity = strings.Join(s.Integrity, "; ")
		}
		fmt.Fprintf(w, "   crashes %d, panics %d; integrity_check %s\n", len(s.Crashes), s.Panics, integrity)
		if len(s.Refusals) > 0 {
			var kinds []string
			for k := range s.Refusals {
				kinds = append(kinds, k)
			}
			slices.Sort(kinds)
			var parts []string
			for _, k := range kinds {
				parts = append(parts, fmt.Sprintf("%s %d", k, s.Refusals[k]))
			}
			fmt.Fprintf(w, "   refusals logged: %s\n", strings.Join(parts, ", "))
		}
		if s.KeptAside > 0 {
			fmt.Fprintf(w, "   changes kept aside at HQ: %d\n", s.KeptAside)
		}
		for _, c := range s.Crashes {
			fmt.Fprintf(w, "   CRASH: %s\n", c)
		}
		if len(s.LostIDs) > 0 {
			fmt.Fprintf(w, "   LOST (first): %s\n", strings.Join(s.LostIDs, ", "))
		}
		for _, f := range s.Failures {
			fmt.Fprintf(w, "   FAILED: %s\n", f)
		}
	}
	lost, diverged, crashed := r.Totals()
	verdict := "PASSED"
	if !r.OK() {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "\n%s: lost %d, diverged %d, crashed %d\n", verdict, lost, diverged, crashed)
}
