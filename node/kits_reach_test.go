package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/ledger"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// A kit HQ publishes reaches a field laptop, which is no member of the
// ledger, in its next session's hello, and from it a laptop that never met
// HQ. A kit a laptop signs, or HQ's with its file altered, is refused.
func TestPublishedKitReachesEveryLaptop(t *testing.T) {
	c := nodetest.New(t)
	hq, _ := voters(t, c, 0, true)
	laptop := c.Add("cayo-07", syncproto.RoleField, "Cayo", nil)
	far := c.Add("cayo-31", syncproto.RoleField, "Cayo", nil)
	ctx := context.Background()
	cur, next := kitVersion(laptop.Node, "missing-persons"), mpAfter(t, 1, 0)
	update := mpAs(t, next, "en: Missing persons", "en: Missing and sought persons")
	if _, err := hq.Node.PublishKit(ctx, "missing-persons.yaml", update); err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, 10*time.Second, "HQ applies its kit and keeps it to pass on", func() bool {
		l, err := node.KitNotices(hq.Node, ctx)
		return err == nil && len(l) == 1 && kitVersion(hq.Node, "missing-persons") == next
	})
	if v := kitVersion(laptop.Node, "missing-persons"); v != cur {
		t.Fatalf("the laptop has %s before any session", v)
	}
	res, err := laptop.Node.Sync(ctx, hq.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kits != 1 || kitVersion(laptop.Node, "missing-persons") != next {
		t.Fatalf("the laptop took %d kits and has %s", res.Kits, kitVersion(laptop.Node, "missing-persons"))
	}
	k, _ := laptop.Node.Kits().Kit("missing-persons")
	if k.Title.In("en") != "Missing and sought persons" {
		t.Fatalf("the laptop's kit is titled %q", k.Title.In("en"))
	}
	if _, err := far.Node.Sync(ctx, laptop.Addr); err != nil {
		t.Fatal(err)
	}
	if v := kitVersion(far.Node, "missing-persons"); v != next {
		t.Fatalf("a laptop that met only another has %s", v)
	}

	// A laptop's own "decision", and HQ's with its file altered.
	newer := mpAfter(t, 2, 0)
	forged, err := ledger.Sign(ledger.CmdKit, &ledger.Kit{Name: "missing-persons", Version: newer, Body: mpAs(t, newer)}, time.Now(),
		laptop.Node.Credentials().Cert.Raw, laptop.Node.Key().Signer())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := node.KitNotices(hq.Node, ctx)
	if err != nil {
		t.Fatal(err)
	}
	altered := []byte(strings.Replace(string(signed[0]), "Missing and sought persons", "Missing and sought people!", 1))
	taken, err := node.AddKits(far.Node, ctx, [][]byte{forged, altered, signed[0]})
	if err != nil {
		t.Fatal(err)
	}
	if taken != 0 || kitVersion(far.Node, "missing-persons") != next {
		t.Fatalf("forged or altered kits: %d taken, version %s", taken, kitVersion(far.Node, "missing-persons"))
	}
}
