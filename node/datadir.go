package node

import "errors"

// ErrDataDirUnsafe means someone other than the user the node runs as
// may change its data folder (checkDataDir).
var ErrDataDirUnsafe = errors.New("others may change this data folder")
