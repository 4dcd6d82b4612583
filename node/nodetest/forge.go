package nodetest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"

	"lifeline/node/peersync"
	"lifeline/syncproto"
)

// ForgedBundle is a bundle sealed by its writer (whose key and
// certificate a thief holds) that carries one change of another origin's
// stream, at seq, with the writer's signature on it: what a stolen laptop
// can make to pass a change off as another responder's. The tests and the
// drill hand it to a node and expect the change never to merge.
func ForgedBundle(key ed25519.PrivateKey, writer syncproto.NodeID, cert []byte, victim syncproto.Stream, seq uint64, c syncproto.Change) ([]byte, error) {
	body, err := c.Encode()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(peersync.BundleMagic)
	hello := syncproto.NewHello(writer, syncproto.Vector{victim: seq})
	fake := ed25519.Sign(key, syncproto.HeadMessage(victim, seq, syncproto.ChainHash(syncproto.Hash{}, body)))
	batch, err := syncproto.NewBatch(1, []syncproto.Run{{Stream: victim, First: seq, Bodies: [][]byte{body}, Sig: fake}})
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		t   syncproto.MsgType
		msg any
	}{
		{syncproto.MsgHello, &hello},
		{syncproto.MsgCerts, &syncproto.Certs{Certs: [][]byte{cert}}},
		{syncproto.MsgBatch, batch},
		{syncproto.MsgDone, &syncproto.Done{Vector: hello.Vector}},
	} {
		if _, err := syncproto.WriteFrame(&buf, f.t, f.msg); err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	seal := syncproto.Seal{Hash: sum, Node: writer, Sig: ed25519.Sign(key, syncproto.SealMessage(sum))}
	if _, err := syncproto.WriteFrame(&buf, syncproto.MsgSeal, &seal); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
