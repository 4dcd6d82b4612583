package match

// NameWeightAndBound is what the names of a and b weigh together, and the
// bound compareAbove takes for them (nameBound).
func NameWeightAndBound(a, b Person) (w, bound float64) {
	fa, fb := newFeatures(&a), newFeatures(&b)
	w, _ = compareNames(fa, fb, false)
	return w, nameBound(fa, fb)
}

// SetBounds sets x's MaxBlock and MaxPairs, so that a test floods it with
// fewer records than the real bounds take.
func SetBounds(x *Index, block, pairs int) { x.maxBlock, x.maxPairs = block, pairs }
