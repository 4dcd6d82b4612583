package match_test

import (
	"testing"

	"lifeline/node/match"
	"lifeline/node/match/matchtest"
)

// BenchmarkAdd measures adding a person to an index of 30,000 reports and
// registrations, blocks and comparisons included.
func BenchmarkAdd(b *testing.B) {
	s := matchtest.Generate(matchtest.Options{Seed: 7, Missing: 10000, Sheltered: 20000})
	extra := matchtest.Generate(matchtest.Options{Seed: 8, Missing: 5000, Sheltered: 0})
	x, err := match.NewIndex(match.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range s.People {
		if _, err := x.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	before := x.Compared
	defer func() { b.ReportMetric(float64(x.Compared-before)/float64(b.N), "pairs/op") }()
	for i := 0; i < b.N; i++ {
		p := extra.People[i%len(extra.People)]
		p.ID = p.ID + "-" + string(rune('a'+i/len(extra.People)%26)) + itoa(i)
		if _, err := x.Add(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompare measures scoring one pair.
func BenchmarkCompare(b *testing.B) {
	a := match.Person{ID: "a", Record: match.Missing, FullName: "POP COC, MARIA", Sex: "female", Age: 25, AgeKnown: true, Village: "San Antonio", District: "Toledo"}
	c := match.Person{ID: "b", Record: match.Sheltered, FullName: "María Pop", Sex: "female", Age: 24, AgeKnown: true, Village: "San Antonio", District: "Toledo"}
	cfg := match.DefaultConfig()
	for i := 0; i < b.N; i++ {
		match.Compare(a, c, cfg)
	}
}

func itoa(i int) string {
	var buf [20]byte
	n := len(buf)
	for {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	return string(buf[n:])
}
