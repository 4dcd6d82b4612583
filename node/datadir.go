package node

import "errors"

// ErrDataDirUnsafe means someone other than the user the node runs as
// may change its data folder (checkDataDir).
var ErrDataDirUnsafe = errors.New("others may change this data folder")

// ErrRunning means another process, or another Start, runs the node of
// this data folder: one node runs on a folder at a time, and the
// commands that only read or write records open it beside it.
var ErrRunning = errors.New("the node of this data folder runs already")

// RunLockFile is the file of the data folder a running node holds locked
// (lockRun).
const RunLockFile = "run.lock"
