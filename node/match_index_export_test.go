package node

// PeopleIndexBuilds is how many times n built its people index from the
// records, rather than bringing it up to date with the records written since.
func PeopleIndexBuilds(n *Node) int {
	n.peopleIdx.mu.Lock()
	defer n.peopleIdx.mu.Unlock()
	return n.peopleIdx.builds
}
