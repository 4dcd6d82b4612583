package drill

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// badBundles hands HQ bundles a USB stick could carry and nobody should
// trust: one cut short, one with a byte altered, one of random bytes, one
// written by a node of another authority. HQ must refuse each.
func (a *intruder) badBundles(ctx context.Context) error {
	d := a.d
	dir := filepath.Join(d.cfg.Dir, "bad-bundles")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	laptop := d.node("cayo-1")
	good := filepath.Join(dir, "good.bundle")
	if _, err := laptop.lifeline(ctx, "", "bundle", "export", "--data", laptop.Dir, "--out", good); err != nil {
		return err
	}
	body, err := os.ReadFile(good)
	if err != nil {
		return err
	}
	if len(body) < 64 {
		return fmt.Errorf("the laptop's bundle is only %d bytes", len(body))
	}
	noise := make([]byte, len(body))
	rand.Read(noise)
	altered := bytes.Clone(body)
	altered[len(altered)/2] ^= 0x20
	// The intruder's node (made by otherAuthority) seals its bundle with a
	// key HQ does not trust.
	foreign := filepath.Join(dir, "foreign.bundle")
	if _, err := a.node.lifeline(ctx, "", "bundle", "export", "--data", a.node.Dir, "--out", foreign); err != nil {
		return err
	}
	bad := map[string][]byte{"cut short": body[:len(body)*2/3], "with a byte altered": altered, "of random bytes": noise}
	var refused []string
	for what, b := range bad {
		path := filepath.Join(dir, strings.ReplaceAll(what, " ", "-")+".bundle")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
		if err := a.refusedBundle(ctx, what, path); err != nil {
			return err
		}
		refused = append(refused, what)
	}
	if err := a.refusedBundle(ctx, "from another authority", foreign); err != nil {
		return err
	}
	refused = append(refused, "from another authority")
	a.s.Injected = append(a.s.Injected, "bundles imported at hq: "+strings.Join(refused, ", "))
	a.observe("hq refused all %d bad bundles whole (an import is one transaction: all of a bundle or nothing)", len(refused))
	return nil
}

// refusedBundle imports a bundle at HQ and expects a refusal.
func (a *intruder) refusedBundle(ctx context.Context, what, path string) error {
	d := a.d
	_, err := d.hq.lifeline(ctx, "", "bundle", "import", "--data", d.hq.Dir, path)
	if err == nil {
		return fmt.Errorf("hq imported a bundle %s", what)
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i < 300 {
		msg = msg[i+2:]
	}
	a.observe("a bundle %s refused by hq: %s", what, msg)
	return nil
}
