package match

// jaroWinkler is the Jaro–Winkler similarity of a and b (0 to 1), with the
// usual prefix scale of 0.1 over at most four letters. It reads bytes:
// folded names are ASCII but for the rare letter NFD leaves whole, and
// those compare as their bytes do.
func jaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	if a > b {
		a, b = b, a // greedy matching is not symmetric; the order of the pair is fixed
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	if la > 64 || lb > 64 {
		a, b = a[:min(la, 64)], b[:min(lb, 64)]
		la, lb = len(a), len(b)
	}
	window := max(la, lb)/2 - 1
	if window < 0 {
		window = 0
	}
	var ma, mb uint64 // matched positions
	m := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb-1, i+window)
		for j := lo; j <= hi; j++ {
			if mb&(1<<j) == 0 && a[i] == b[j] {
				ma |= 1 << i
				mb |= 1 << j
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, j := 0, 0
	for i := 0; i < la; i++ {
		if ma&(1<<i) == 0 {
			continue
		}
		for mb&(1<<j) == 0 {
			j++
		}
		if a[i] != b[j] {
			t++
		}
		j++
	}
	fm := float64(m)
	jaro := (fm/float64(la) + fm/float64(lb) + (fm-float64(t/2))/fm) / 3
	prefix := 0
	for prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// jaroWinklerAbove is jaroWinkler(a, b) when that may be least or more,
// and 0 when it surely is not: most pairs of names compared differ in
// most of their letters, and ruling them out by counting letters is much
// cheaper than matching them in their windows.
func jaroWinklerAbove(a, b string, least float64) float64 {
	if jaroWinklerCeil(a, b) < least {
		return 0
	}
	return jaroWinkler(a, b)
}

// jaroWinklerCeil is a bound jaroWinkler(a, b) never exceeds, from the
// letters the two have in common whatever their places (the matches Jaro
// counts are among them), no transpositions, and their common prefix.
func jaroWinklerCeil(a, b string) float64 {
	if a == b {
		return 1
	}
	a, b = a[:min(len(a), 64)], b[:min(len(b), 64)]
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	// Letters a to z counted each, any other byte in one of a few
	// shared counts: sharing can only raise the bound.
	var count [32]int8
	bucket := func(c byte) byte {
		if 'a' <= c && c <= 'z' {
			return c - 'a'
		}
		return 26 + c&3
	}
	for i := 0; i < la; i++ {
		count[bucket(a[i])]++
	}
	m := 0
	for i := 0; i < lb; i++ {
		if k := bucket(b[i]); count[k] > 0 {
			count[k]--
			m++
		}
	}
	if m == 0 {
		return 0
	}
	fm := float64(m)
	jaro := (fm/float64(la) + fm/float64(lb) + 1) / 3
	prefix := 0
	for prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// damerau is the optimal-string-alignment distance between a and b: the
// fewest insertions, deletions, substitutions and swaps of two neighbouring
// letters that turn one into the other. Names are short; longer strings are
// cut at 64 bytes.
func damerau(a, b string) int {
	a, b = a[:min(len(a), 64)], b[:min(len(b), 64)]
	la, lb := len(a), len(b)
	var rows [3][65]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= lb; j++ {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// oneEdit says whether a and b are at most one insertion, deletion,
// substitution or swap of neighbours apart: damerau(a, b) <= 1, without
// the table.
func oneEdit(a, b string) bool {
	la, lb := len(a), len(b)
	if la < lb {
		a, b, la, lb = b, a, lb, la
	}
	if la-lb > 1 {
		return false
	}
	i := 0
	for i < lb && a[i] == b[i] {
		i++
	}
	if i == lb {
		return true // equal, or a has one letter more at the end
	}
	if la == lb {
		if a[i+1:] == b[i+1:] {
			return true // one substitution
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	}
	return a[i+1:] == b[i:] // one letter more in a
}
