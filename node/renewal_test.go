package node_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

const day = 24 * time.Hour

// reenroll gives m a certificate of the same claims valid from notBefore
// to notAfter, as headquarters renews a laptop's each season.
func reenroll(t *testing.T, c *nodetest.Cluster, m *nodetest.Member, notBefore, notAfter time.Time) {
	t.Helper()
	req, err := m.Node.EnrollmentRequest()
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := c.CA.SignAt(req, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	install(t, m, bundle)
}

// enrolledAt gives m, in place of the certificate it was enrolled with
// today, one of the same claims valid from notBefore to notAfter: the
// laptop was enrolled then. A node refuses a file whose certificate ends
// before the one it holds.
func enrolledAt(t *testing.T, c *nodetest.Cluster, m *nodetest.Member, notBefore, notAfter time.Time) {
	t.Helper()
	m.Stop()
	if err := os.Remove(filepath.Join(m.Config.DataDir, identity.CertFile)); err != nil {
		t.Fatal(err)
	}
	reenroll(t, c, m, notBefore, notAfter)
}

// A field laptop's certificate lasts a season and is renewed: what the
// laptop wrote in its first season still merges on a node that first
// hears of it after the renewal, which holds only the newer certificate.
// A change stamped long before the deployment began is still refused.
func TestChangesWrittenBeforeARenewalStillMerge(t *testing.T) {
	now := time.Now()
	c := nodetest.New(t)
	ca, err := identity.NewCAAt("Test CA", now.Add(-300*day))
	if err != nil {
		t.Fatal(err)
	}
	c.CA = ca
	hq, _ := voters(t, c, 0, true)
	ctx := context.Background()

	// Enrolled 200 days ago, it wrote 150 days ago, and was renewed today.
	cayo := laptop(c, "cayo-31", "Cayo", func(cfg *node.Config) { cfg.ClockOffset = -150 * day })
	enrolledAt(t, c, cayo, now.Add(-200*day), now.Add(time.Hour))
	damage := mustAdd(t, cayo.Node, "damage-assessment", assessment)
	reenroll(t, c, cayo, now.Add(-time.Minute), now.Add(120*day))
	if _, err := cayo.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if !holds(hq, damage) {
		qs, _ := hq.Node.Quarantine(ctx, 0)
		t.Fatalf("HQ does not hold the assessment written in the laptop's first season; kept aside: %+v", qs)
	}

	// Stamped 400 days ago, 100 before the deployment's CA.
	early := laptop(c, "cayo-32", "Cayo", func(cfg *node.Config) { cfg.ClockOffset = -400 * day })
	old := mustAdd(t, early.Node, "damage-assessment", assessment)
	if _, err := early.Node.Sync(ctx, hq.Addr); err != nil {
		t.Fatal(err)
	}
	if holds(hq, old) {
		t.Fatal("HQ holds an assessment stamped 100 days before the deployment began")
	}
	qs, err := hq.Node.Quarantine(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || !strings.Contains(qs[0].Reason, "long before") {
		t.Fatalf("kept aside at HQ: %+v", qs)
	}
}

// A voting relay's certificate is renewed, signed at HQ without --voter,
// as a laptop's is: the person renewing means a new season, not a vote
// taken. The relay still votes; a vote is taken by a decision of its own
// (ledger member). Before, the renewal made it a non-voter, and a ledger
// of three voters was left with two, neither of which could then be lost.
func TestARenewalKeepsAVotersVote(t *testing.T) {
	c := nodetest.New(t)
	hq, relays := voters(t, c, 1, true)
	relay := relays[0]
	ctx := context.Background()
	if err := c.CA.Save(filepath.Join(hq.Config.DataDir, node.CADir), testPassphrase); err != nil {
		t.Fatal(err)
	}
	ca, err := node.OpenAuthority(hq.Config.DataDir, passphrase(testPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	req, err := relay.Node.EnrollmentRequest()
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := hq.Node.SignEnrollment(ctx, ca, req, node.SignOptions{Role: syncproto.RoleRelay, District: "Cayo", Validity: 400 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	renewed, _ := pem.Decode(bundle)
	nodetest.Eventually(t, 10*time.Second, "the ledger enrolls the renewed certificate", func() bool {
		known, _ := hq.Node.KnownNodes(ctx)
		for _, k := range known {
			if k.Node == relay.Node.Self().ID && bytes.Equal(k.Cert, renewed.Bytes) {
				return true
			}
		}
		return false
	})
	ms, err := node.LedgerMembers(hq.Node, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := ms[relay.Node.Self().ID]; !ok || !m.Voter {
		t.Fatalf("after its renewal the relay is member %v, voter %v; want it to vote still", ok, m.Voter)
	}
}
