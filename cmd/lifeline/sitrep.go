package main

import (
	"context"
	"fmt"
	"time"

	"lifeline/node"
	"lifeline/sitrep"
)

// writeSituationReport writes n's situation report, a PDF, to path.
func writeSituationReport(ctx context.Context, e *env, n *node.Node, path string, personal bool) error {
	if err := sitrep.Write(ctx, n, path, sitrep.Options{Personal: personal, Now: time.Now(), Loc: time.Local}); err != nil {
		return fmt.Errorf("situation report %s: %w", path, err)
	}
	fmt.Fprintf(e.stderr, "wrote the situation report to %s", path)
	if personal {
		fmt.Fprint(e.stderr, ", personal data included: keep the file where only the response team reads it")
	}
	fmt.Fprintln(e.stderr)
	return nil
}
