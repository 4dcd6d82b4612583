package match

// Assign is the one-to-one step: a missing person is registered in a
// shelter once, so of the registrations a report is found in, only the
// best stands as found; the others are the report's namesakes (a Maria Pop
// of 8 and one of 60 for a report of a Maria Pop of no age). Two reports
// of one person are not constrained: a person may be reported many times.
// Candidates are given in any order and returned in theirs, less those
// dropped; which stand does not depend on the order (ties go to the pair
// of lower ids, as sortCandidates orders them).
func Assign(cands []Candidate) []Candidate {
	best := map[string]int{} // report id → index of its best found pair
	for i, c := range cands {
		if c.Kind != Found {
			continue
		}
		if j, ok := best[c.Report]; !ok || better(c, cands[j]) {
			best[c.Report] = i
		}
	}
	out := make([]Candidate, 0, len(cands))
	for i, c := range cands {
		if c.Kind == Found && best[c.Report] != i {
			continue
		}
		out = append(out, c)
	}
	return out
}
