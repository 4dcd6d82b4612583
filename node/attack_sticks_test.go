package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lifeline/node/nodetest"
	"lifeline/node/peersync"
	"lifeline/syncproto"
)

// stickOf is a plain bundle a member writes and seals by hand: its hello,
// then the frames given, then done and the seal over them all.
func stickOf(t *testing.T, writer *nodetest.Member, frames ...any) string {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(peersync.BundleMagic)
	hello := syncproto.NewHello(writer.Node.Self().ID, syncproto.Vector{})
	write := func(typ syncproto.MsgType, msg any) {
		if _, err := syncproto.WriteFrame(&buf, typ, msg); err != nil {
			t.Fatal(err)
		}
	}
	write(syncproto.MsgHello, &hello)
	for _, f := range frames {
		switch m := f.(type) {
		case *syncproto.Certs:
			write(syncproto.MsgCerts, m)
		case *syncproto.Receipts:
			write(syncproto.MsgReceipts, m)
		default:
			t.Fatalf("a frame of %T", f)
		}
	}
	write(syncproto.MsgDone, &syncproto.Done{Vector: hello.Vector})
	sum := sha256.Sum256(buf.Bytes())
	write(syncproto.MsgSeal, &syncproto.Seal{Hash: sum, Node: hello.Node, Sig: ed25519.Sign(writer.Node.Key().Signer(), syncproto.SealMessage(sum))})
	path := filepath.Join(t.TempDir(), "stick.bundle")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A bundle is written with one frame of certificates and at most one of
// receipts. One that repeats them (a thief's stick can hold 4 GiB of its
// own certificate, each copy checked against the CA and the store, and
// all kept in memory until the seal is read) is refused as it is read,
// nothing of it applied, and a bundle of one of each is taken.
func TestAStickThatRepeatsItsCertificatesIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := nodetest.New(t)
	relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", nil)
	thief := laptop(c, "cayo-66", "Cayo", nil)
	cert := thief.Node.Credentials().Cert.Raw
	certs := func() *syncproto.Certs { return &syncproto.Certs{Certs: [][]byte{cert, cert}} }
	receipts := func() *syncproto.Receipts { return &syncproto.Receipts{} }
	if _, err := relay.Node.ImportBundle(ctx, stickOf(t, thief, certs(), receipts())); err != nil {
		t.Fatalf("a bundle of one frame of certificates and one of receipts: %v", err)
	}
	for _, f := range []struct {
		what   string
		frames []any
		says   string
	}{
		{"certificates twice", []any{certs(), certs()}, "certificates"},
		{"receipts twice", []any{certs(), receipts(), receipts()}, "receipts"},
	} {
		_, err := relay.Node.ImportBundle(ctx, stickOf(t, thief, f.frames...))
		if err == nil || !strings.Contains(err.Error(), "second") || !strings.Contains(err.Error(), f.says) {
			t.Errorf("a bundle of %s: %v; want it refused, saying so", f.what, err)
		}
	}
}
