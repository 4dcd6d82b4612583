package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"lifeline/node"
	"lifeline/node/match"
	"lifeline/node/match/matchtest"
)

// M1 and M2: matching people (docs/matching.md). M1 measures the matcher's
// quality on generated reports and registrations whose truth is known; M2
// its speed, 100,000 missing-person reports against 200,000 people in
// shelters, then one new report more.
func init() {
	register(workload{name: "M1-match-quality", rows: matchQuality})
	register(workload{name: "M2-match-speed", rows: matchSpeed})
	register(workload{name: "M2-match-flood", rows: matchFlood})
}

func matchQuality(ctx context.Context, e *env) ([]namedResult, error) {
	var rows []namedResult
	for _, set := range []struct {
		name, what string
		o          matchtest.Options
	}{
		{"M1-national", "5,000 reports, 10,000 registrations, the whole country", matchtest.Options{Seed: 11, Missing: 5000, Sheltered: 10000}},
		{"M1-south", "5,000 reports, 10,000 registrations, Toledo and Stann Creek", matchtest.Options{Seed: 12, Missing: 5000, Sheltered: 10000,
			Districts: map[string]float64{"Toledo": 0.6, "Stann Creek": 0.4}}},
		// A smaller event's: fewer records, fewer namesakes.
		{"M1-1500", "500 reports, 1,000 registrations, the whole country", matchtest.Options{Seed: 531, Missing: 500, Sheltered: 1000}},
		{"M1-1500-south", "500 reports, 1,000 registrations, Toledo and Stann Creek", matchtest.Options{Seed: 531, Missing: 500, Sheltered: 1000,
			Districts: map[string]float64{"Toledo": 0.6, "Stann Creek": 0.4}}},
	} {
		s := matchtest.Generate(set.o)
		start := time.Now()
		x, err := match.NewIndex(match.DefaultConfig())
		if err != nil {
			return rows, err
		}
		for _, p := range s.People {
			if _, err := x.Add(p); err != nil {
				return rows, err
			}
		}
		cands := x.Candidates()
		grouped, aside := x.GroupAside(cands, match.DefaultConfig().Threshold, nil)
		elapsed := time.Since(start)
		// Before and after the pairs are taken together (Index.Group), as
		// HQ's matching takes them.
		measure := func(cands []match.Candidate) (p, r float64) {
			tp, fp := 0, 0
			for _, c := range cands {
				if _, ok := s.Truth[matchtest.Pair{A: c.A, B: c.B}]; ok {
					tp++
				} else {
					fp++
				}
			}
			return float64(tp) / float64(tp+fp), float64(tp) / float64(len(s.Truth))
		}
		p0, r0 := measure(cands)
		p, r := measure(grouped)
		// What the person deciding sees: the pairs, and beside them those
		// set aside for a stronger match of one of their records.
		_, inView := measure(append(slices.Clone(grouped), aside...))
		// The wrong pairs that are a parent and a child named one after
		// the other: of those, the ones whose record of no age is all
		// its person has in the set, which no matcher could refuse; and
		// those of two other people of one name.
		records := map[int]int{}
		for _, n := range s.Of {
			records[n]++
		}
		byID := map[string]match.Person{}
		for _, p := range s.People {
			byID[p.ID] = p
		}
		wrong, namesakes, kin, alone := 0, 0, 0, 0
		for _, c := range grouped {
			if _, ok := s.Truth[matchtest.Pair{A: c.A, B: c.B}]; ok {
				continue
			}
			wrong++
			a, b := s.Of[c.A], s.Of[c.B]
			if !s.Kin[[2]int{min(a, b), max(a, b)}] {
				if s.Names[a] == s.Names[b] {
					namesakes++
				}
				continue
			}
			kin++
			if !byID[c.A].AgeKnown && records[a] == 1 || !byID[c.B].AgeKnown && records[b] == 1 {
				alone++
			}
		}
		rows = append(rows, namedResult{name: set.name, what: set.what, result: result{Records: len(s.People), Elapsed: elapsed,
			Extra: fmt.Sprintf("; precision %.3f, recall %.3f, F1 %.3f at score %.2f (%d pairs true); the pairs alone, not grouped, %.3f, %.3f; "+
				"with the %d pairs set aside beside them, %.3f of the true pairs in view; of the %d pairs wrongly taken together, %d are a parent "+
				"and a child of one village named one after the other, %d of them a record of no age that is all its person has in the set, and %d two other people of one name",
				p, r, 2*p*r/(p+r), match.DefaultConfig().Threshold, len(s.Truth), p0, r0, len(aside), inView, wrong, kin, alone, namesakes)}})
	}
	return rows, nil
}

// matchFlood adds to M1-1500's records 20,000 reports of one name, age and
// village, as a stolen laptop or an import run again and again writes
// them, and measures what the index keeps (match.MaxBlock, MaxPairs) and
// how well the records of other names are still matched.
func matchFlood(ctx context.Context, e *env) ([]namedResult, error) {
	const n = 20_000
	s := matchtest.Generate(matchtest.Options{Seed: 531, Missing: 500, Sheltered: 1000})
	people := slices.Clone(s.People[:len(s.People)/2])
	for i := range n {
		people = append(people, match.Person{ID: fmt.Sprintf("flood-%05d", i), Record: match.Missing, FullName: "Maria Pop", Sex: "female",
			Age: 30, AgeKnown: true, Village: "San Antonio", District: "Toledo"})
	}
	people = append(people, s.People[len(s.People)/2:]...)
	start := time.Now()
	x, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		return nil, err
	}
	if _, err := x.AddAll(people); err != nil {
		return nil, err
	}
	cands := x.Candidates()
	grouped := x.Group(cands, match.DefaultConfig().Threshold, nil)
	elapsed := time.Since(start)
	tp, fp := 0, 0
	for _, c := range grouped {
		if _, ok := s.Truth[matchtest.Pair{A: c.A, B: c.B}]; ok {
			tp++
		} else if _, ok := s.Of[c.A]; ok {
			if _, ok := s.Of[c.B]; ok {
				fp++
			}
		}
	}
	return []namedResult{{name: "M2-flood", what: fmt.Sprintf("M1-1500 with %d reports of one Maria Pop among them", n), result: result{Records: len(people), Elapsed: elapsed,
		Extra: fmt.Sprintf("; %d candidates, %d people crowded; the other records' precision %.3f, recall %.3f", len(cands), x.Crowded(),
			float64(tp)/float64(tp+fp), float64(tp)/float64(len(s.Truth)))}}}, nil
}

func matchSpeed(ctx context.Context, e *env) ([]namedResult, error) {
	s := matchtest.Generate(matchtest.Options{Seed: 21, Missing: 100_000, Sheltered: 200_000})
	more := matchtest.Generate(matchtest.Options{Seed: 22, Missing: 200, Sheltered: 0})
	start := time.Now()
	x, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		return nil, err
	}
	c, err := x.AddAll(s.People)
	if err != nil {
		return nil, err
	}
	found := len(c)
	paired := time.Since(start)
	grouped := len(x.Group(x.Candidates(), match.DefaultConfig().Threshold, nil))
	all := time.Since(start)
	rows := []namedResult{{name: "M2-300k", what: "100,000 reports and 200,000 registrations matched and grouped", result: result{Records: len(s.People), Elapsed: all,
		Extra: fmt.Sprintf("; %d candidates in %.1f s, %d pairs once grouped; %d pairs compared, largest block %d, %d people crowded", found, paired.Seconds(), grouped, x.Compared, x.LargestBlock(), x.Crowded())}}}
	var each []time.Duration
	for i, p := range more.People {
		p.ID = fmt.Sprintf("new-%d", i)
		t := time.Now()
		if _, err := x.Add(p); err != nil {
			return rows, err
		}
		each = append(each, time.Since(t))
	}
	slices.Sort(each)
	rows = append(rows, namedResult{name: "M2-one-more", what: "one new report against the 300,000", result: result{Elapsed: each[len(each)/2],
		Extra: fmt.Sprintf("; median of %d %.2f ms, slowest %.1f ms", len(each), float64(each[len(each)/2].Microseconds())/1000, float64(each[len(each)-1].Microseconds())/1000)}})
	return rows, nil
}

func init() {
	register(workload{name: "M2-node-kept", rows: matchKept})
	register(workload{name: "M1-node-quality", rows: matchNodeQuality})
}

// matchNodeQuality measures M1's whole-country set as HQ matches it: the
// generated people imported as records of the kits into an HQ node, then
// the pairs its Matches lists at the default score, against the truth. A
// record keeps its generated id in a field the matcher does not read
// (the reporter's name, the shelter's), by which its pairs are read back.
func matchNodeQuality(ctx context.Context, e *env) ([]namedResult, error) {
	n, err := newHQ(ctx, filepath.Join(e.tmp, "m1-node"))
	if err != nil {
		return nil, err
	}
	defer n.Close()
	s := matchtest.Generate(matchtest.Options{Seed: 11, Missing: 5000, Sheltered: 10000})
	lines, err := peopleLines(s.People, func(p match.Person) map[string]any {
		f := peopleFields(p)
		if p.Record == match.Missing {
			f["reporter_name"] = p.ID
		} else {
			f["shelter_name"] = p.ID
		}
		return f
	})
	if err != nil {
		return nil, err
	}
	if err := importPeople(ctx, n, lines); err != nil {
		return nil, err
	}
	generated := map[string]string{} // record id → generated id
	for _, typ := range []string{node.MissingPersonType, node.ShelteredPersonType} {
		for v, err := range n.Records(ctx, node.Query{Type: typ}) {
			if err != nil {
				return nil, err
			}
			id, _ := v.Fields["reporter_name"].(string)
			if typ == node.ShelteredPersonType {
				id, _ = v.Fields["shelter_name"].(string)
			}
			generated[v.ID] = id
		}
	}
	start := time.Now()
	ms, err := n.Matches(ctx, match.DefaultConfig().Threshold)
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	tp, fp := 0, 0
	for _, m := range ms {
		a, b := generated[m.A], generated[m.B]
		if _, ok := s.Truth[matchtest.Pair{A: min(a, b), B: max(a, b)}]; ok {
			tp++
		} else {
			fp++
		}
	}
	p, r := float64(tp)/float64(tp+fp), float64(tp)/float64(len(s.Truth))
	return []namedResult{{name: "M1-node", what: "M1's whole-country set as HQ's Matches lists it", result: result{Records: len(generated), Elapsed: elapsed,
		Extra: fmt.Sprintf("; precision %.3f, recall %.3f, F1 %.3f (%d pairs true); the first call reads and indexes every record", p, r, 2*p*r/(p+r), len(s.Truth))}}}, nil
}

// matchKept measures the index a node keeps (node/match_index.go): a
// laptop's store of 30,000 people records, the first match that builds the
// index from them, then a record saved and a new one typed, matched
// against the index brought up to date with the records written since.
func matchKept(ctx context.Context, e *env) ([]namedResult, error) {
	n, err := newNode(ctx, filepath.Join(e.tmp, "m2-kept"))
	if err != nil {
		return nil, err
	}
	defer n.Close()
	s := matchtest.Generate(matchtest.Options{Seed: 23, Missing: 10_000, Sheltered: 20_000})
	more := matchtest.Generate(matchtest.Options{Seed: 24, Missing: 101, Sheltered: 0})
	var people []match.Person
	for _, p := range s.People {
		if p.District != "" { // a report names its district; the generator leaves some out
			people = append(people, p)
		}
	}
	held := len(people)
	lines, err := peopleLines(people, peopleFields)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := importPeople(ctx, n, lines); err != nil {
		return nil, err
	}
	imported := time.Since(start)
	typed := func(p match.Person) map[string]any {
		f := peopleFields(p)
		if p.AgeKnown {
			f["age"] = int64(p.Age) // as the form gives it
		}
		return f
	}
	start = time.Now()
	if _, err := n.PossiblyReported(ctx, node.MissingPersonType, typed(more.People[0])); err != nil {
		return nil, err
	}
	first := time.Since(start)
	rows := []namedResult{{name: "M2-node-first", what: "a laptop's first match of a report typed, building its index of 30,000 people records", result: result{Records: held, Elapsed: first,
		Extra: fmt.Sprintf("; the records imported in %.1f s before", imported.Seconds())}}}
	var each []time.Duration
	for i, p := range more.People[1:] {
		if p.District == "" {
			continue
		}
		b, err := json.Marshal(peopleFields(p))
		if err != nil {
			return rows, err
		}
		if _, err := n.Add(ctx, node.MissingPersonType, b, "bench"); err != nil {
			return rows, fmt.Errorf("report %d: %w", i, err)
		}
		t := time.Now()
		if _, err := n.PossiblyReported(ctx, node.MissingPersonType, typed(more.People[(i+50)%len(more.People)])); err != nil {
			return rows, err
		}
		each = append(each, time.Since(t))
	}
	slices.Sort(each)
	rows = append(rows, namedResult{name: "M2-node-next", what: "a report saved, then one typed matched: the kept index reads the one record written since", result: result{Elapsed: each[len(each)/2],
		Extra: fmt.Sprintf("; median of %d %.2f ms, slowest %.1f ms", len(each), float64(each[len(each)/2].Microseconds())/1000, float64(each[len(each)-1].Microseconds())/1000)}})
	return rows, nil
}

// peopleLines are people as import reads them, a JSON line each of the
// fields fields gives, per record type.
func peopleLines(people []match.Person, fields func(match.Person) map[string]any) (map[match.Record]*bytes.Buffer, error) {
	lines := map[match.Record]*bytes.Buffer{match.Missing: {}, match.Sheltered: {}}
	for _, p := range people {
		b, err := json.Marshal(fields(p))
		if err != nil {
			return nil, err
		}
		lines[p.Record].Write(append(b, '\n'))
	}
	return lines, nil
}

// importPeople imports peopleLines into n, the reports first, so that the
// records' ids (which order ties) are the same from run to run.
func importPeople(ctx context.Context, n *node.Node, lines map[match.Record]*bytes.Buffer) error {
	for _, t := range []struct {
		rec match.Record
		typ string
	}{{match.Missing, node.MissingPersonType}, {match.Sheltered, node.ShelteredPersonType}} {
		if _, err := n.Import(ctx, t.typ, lines[t.rec], "bench", nil); err != nil {
			return fmt.Errorf("import %s: %w", t.typ, err)
		}
	}
	return nil
}

// peopleFields is a generated person as a record of the kits.
func peopleFields(p match.Person) map[string]any {
	f := map[string]any{"full_name": p.FullName}
	if p.Sex != "" {
		f["sex"] = p.Sex
	}
	if p.AgeKnown && p.Age <= 120 {
		f["age"] = p.Age
	}
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC).Format(time.RFC3339)
	if p.Record == match.Missing {
		f["district"], f["last_seen_place"], f["status"], f["reporter_name"], f["reported_at"] = p.District, "home", "missing", "bench", at
		if p.Village != "" {
			f["last_seen_village"] = p.Village
		}
	} else {
		f["shelter_name"], f["district"], f["arrived_at"] = "Bench Shelter", "Belize", at
		if p.Village != "" {
			f["home_village"] = p.Village
		}
		if p.District != "" {
			f["home_district"] = p.District
		}
	}
	return f
}
