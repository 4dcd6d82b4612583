//go:build !unix

package node

// checkDataDir leaves the folder to the system's access lists where files
// have no Unix owner and modes.
func checkDataDir(string) error { return nil }
