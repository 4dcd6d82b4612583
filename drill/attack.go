package drill

import (
	"context"
	"errors"
)

func (d *Drill) attack(ctx context.Context, s *StepReport) error {
	return errors.New("not written yet")
}
