//go:build !linux

package gps

import (
	"context"
	"errors"
	"fmt"
)

// Open is for Linux alone for now: elsewhere, read the receiver through
// gpsd, or pass an open stream to NewReader.
func Open(ctx context.Context, path string, baud int) (*Reader, error) {
	return nil, fmt.Errorf("open %s: %w: serial devices are opened on Linux only; use gpsd", path, errors.ErrUnsupported)
}

// Find lists nothing outside Linux.
func Find() []Device { return nil }
