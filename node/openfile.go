package node

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrNotAFile means a path given to read a file from (a bundle, a
// snapshot, a photo, a form) names a pipe, a device or a folder.
var ErrNotAFile = errors.New("not a file but a pipe, a device or a folder: it is not read")

// OpenFile opens a file a person pointed at, to read it, refusing one that
// is no regular file before reading a byte: opening a pipe waits for a
// writer, deaf to Ctrl-C, and a stick may hold one, or a link to one or to
// a device, under a bundle's or a photo's name. A link to a regular file
// is followed.
func OpenFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: %w", path, ErrNotAFile)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
