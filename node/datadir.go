package node

import "errors"

// ErrDataDirUnsafe means someone other than the user the node runs as
// may change its data folder, or read its key or its database
// (checkDataDir).
var ErrDataDirUnsafe = errors.New("the data folder is not its user's alone")

// ErrRunning means another process, or another Start, runs the node of
// this data folder: one node runs on a folder at a time, and the
// commands that only read or write records open it beside it.
var ErrRunning = errors.New("the node of this data folder runs already")

// RunLockFile is the file of the data folder a running node holds locked
// (lockRun).
const RunLockFile = "run.lock"
