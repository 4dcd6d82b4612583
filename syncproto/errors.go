package syncproto

import "errors"

var (
	// ErrMalformed means bytes or text did not decode into a valid value.
	ErrMalformed = errors.New("malformed")
	// ErrNotCanonical means a value decoded but its bytes are not the
	// canonical encoding; such bytes would hash differently on every node.
	ErrNotCanonical = errors.New("not in canonical form")
	// ErrTooLarge means a size, count or depth bound was exceeded.
	ErrTooLarge = errors.New("too large")
)
