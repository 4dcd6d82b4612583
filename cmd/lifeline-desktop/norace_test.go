//go:build !race

package main

// raceEnabled says the test runs under the race detector.
const raceEnabled = false
