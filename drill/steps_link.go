package drill

import (
	"context"
	"errors"
)

// thinLink, fillDisk, walkBundle and jumpClock are written in this file.

func (d *Drill) thinLink(ctx context.Context, s *StepReport) error {
	return errors.New("not written yet")
}

func (d *Drill) fillDisk(ctx context.Context, s *StepReport) error {
	return errors.New("not written yet")
}

func (d *Drill) walkBundle(ctx context.Context, s *StepReport) error {
	return errors.New("not written yet")
}

func (d *Drill) jumpClock(ctx context.Context, s *StepReport) error {
	return errors.New("not written yet")
}
