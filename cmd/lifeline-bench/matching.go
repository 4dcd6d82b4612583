package main

import (
	"context"
	"fmt"
	"slices"
	"time"

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
		elapsed := time.Since(start)
		tp, fp := 0, 0
		for _, c := range x.Candidates() {
			if _, ok := s.Truth[matchtest.Pair{A: c.A, B: c.B}]; ok {
				tp++
			} else {
				fp++
			}
		}
		p := float64(tp) / float64(tp+fp)
		r := float64(tp) / float64(len(s.Truth))
		rows = append(rows, namedResult{name: set.name, what: set.what, result: result{Records: len(s.People), Elapsed: elapsed,
			Extra: fmt.Sprintf("; precision %.3f, recall %.3f, F1 %.3f at score %.2f (%d pairs true)", p, r, 2*p*r/(p+r), match.DefaultConfig().Threshold, len(s.Truth))}})
	}
	return rows, nil
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
	all := time.Since(start)
	rows := []namedResult{{name: "M2-300k", what: "100,000 reports and 200,000 registrations matched", result: result{Records: len(s.People), Elapsed: all,
		Extra: fmt.Sprintf("; %d candidates, %d pairs compared, largest block %d", found, x.Compared, x.LargestBlock())}}}
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
