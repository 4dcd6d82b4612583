package match

import (
	"errors"
	"fmt"
)

// ErrConfig is wrapped by Config.Validate's errors.
var ErrConfig = errors.New("match: invalid configuration")

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}
