package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"lifeline/node"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// What a node may send as a value, a name or an error, and how it is shown.
var nasty = []struct{ in, want string }{
	{"\x1b[2J\x1b]0;owned\x07", `\x1b[2J\x1b]0;owned\x07`}, // clear the screen, retitle the terminal
	{"Ana Cho\x1b[8m hidden", `Ana Cho\x1b[8m hidden`},     // invisible text
	{"\u009b31mred", `\u009b31mred`},                       // CSI as one C1 character
	{"cayo-07\u202e70-oyac", `cayo-07\u202e70-oyac`},       // right-to-left override
	{"\u2066HQ\u2069 \u200fDirector\u200e", `\u2066HQ\u2069 \u200fDirector\u200e`},
	{"HQ\u200bDirector\ufeff", `HQ\u200bDirector\ufeff`},   // zero-width space, byte order mark
	{"x\u061cy", `x\u061cy`},                               // Arabic letter mark
	{"tag\U000e0041\U000e007f", `tag\U000e0041\U000e007f`}, // tag characters
	{"Maria\nDecided at HQ: found", `Maria\nDecided at HQ: found`},
	{"a\rb\tc\x00d\x7fe", `a\rb\tc\x00d\x7fe`},
	{"para\u2028graph\u2029", `para\u2028graph\u2029`},
	{"bad \xff\xfe bytes", `bad \xff\xfe bytes`},
	{"Pérez, Orange Walk — señora 日本 👍 \\u202e", "Pérez, Orange Walk — señora 日本 👍 \\u202e"},
	{"", ""},
}

func TestPrintable(t *testing.T) {
	for _, c := range nasty {
		got := node.Printable(c.in)
		if got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
		if again := node.Printable(got); again != got {
			t.Errorf("made printable twice, %q becomes %q", got, again)
		}
	}
}

// Every character that could drive a terminal or hide text is escaped, and
// text made printable stays so.
func FuzzPrintable(f *testing.F) {
	for _, c := range nasty {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := node.Printable(s)
		if !utf8.ValidString(p) {
			t.Fatalf("%q is not UTF-8", p)
		}
		for _, r := range p {
			if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
				t.Fatalf("%q keeps %U", p, r)
			}
		}
		if node.Printable(p) != p {
			t.Fatalf("%q changes when made printable again", p)
		}
		if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
		}) && p != s {
			t.Fatalf("%q, which hides nothing, became %q", s, p)
		}
	})
}

// JSON made printable holds no hidden character and decodes to the same
// values.
func TestPrintableJSON(t *testing.T) {
	in := map[string]any{}
	for i, c := range nasty {
		if utf8.ValidString(c.in) {
			in[strings.Repeat("k", i+1)] = c.in
		}
	}
	in["list"] = []any{"\u202e", "x\u0085y", "\U000e0041"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	p := node.PrintableJSON(b)
	for _, r := range string(p) {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			t.Fatalf("%U is left in %s", r, p)
		}
	}
	var out map[string]any
	if err := json.Unmarshal(p, &out); err != nil {
		t.Fatalf("%v: %s", err, p)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("decoded %v, want %v", out, in)
	}
	clean := []byte(`{"name":"señora Pérez"}`)
	if got := node.PrintableJSON(clean); string(got) != string(clean) {
		t.Fatalf("%s became %s", clean, got)
	}
}

// A node is shown by the name on its certificate: an author by the node
// that vouched for it, a peer by its certificate whatever it said of
// itself; peers not heard of for PeerExpiry are not shown.
func TestShownNamesComeFromCertificates(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, "hq-belmopan", syncproto.RoleHQ, "Cayo")
	id := conflict(t, n)
	v, err := n.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	via := map[string]string{}
	for _, ver := range v.Conflicts["damage_level"] {
		if ver.Author != "vol-193" {
			t.Fatalf("author %q", ver.Author)
		}
		via[ver.Via] = ver.Node
	}
	if len(via) != 2 || via["hq-belmopan"] == "" || via["cayo-02"] == "" {
		t.Fatalf("the versions are vouched for by %v, want hq-belmopan and cayo-02", via)
	}
	for _, h := range v.History {
		if h.Via == "" || via[h.Via] != h.Node {
			t.Fatalf("change %d of node %s is shown via %q", h.Seq, h.Node, h.Via)
		}
	}
	for r, err := range n.Records(ctx, node.Query{OnlyConflict: true}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, ver := range r.Conflicts["damage_level"] {
			if via[ver.Via] != ver.Node {
				t.Fatalf("a listed version of node %s is shown via %q", ver.Node, ver.Via)
			}
		}
	}

	laptop, err := syncproto.ParseNodeID(via["cayo-02"])
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	stranger, gone, synced := syncproto.NodeID{1}, syncproto.NodeID{2}, syncproto.NodeID{3}
	for _, p := range []store.Peer{
		// What a hello or gossip may claim, where the certificate says
		// otherwise.
		{Node: laptop, Name: "hq-belmopan (hq)", Role: syncproto.RoleHQ, District: "Belize", Seen: now},
		// A member gossip found, whose certificate is not known: gossip's
		// claims are not recorded.
		{Node: stranger, Seen: now.Add(-time.Hour)},
		{Node: gone, Name: "old-laptop", Seen: now.Add(-node.PeerExpiry - time.Hour)},
		{Node: synced, Name: "relay", Seen: now.Add(-2 * node.PeerExpiry), Synced: now.Add(-node.PeerExpiry + time.Hour)},
	} {
		if err := node.PutPeer(n, ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	st, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shown := map[syncproto.NodeID]node.PeerStatus{}
	for _, p := range st.Peers {
		id, _ := syncproto.ParseNodeID(p.Node)
		shown[id] = p
	}
	if p := shown[laptop]; p.Name != "cayo-02" || p.Role != syncproto.RoleField || p.District != "Cayo" {
		t.Errorf("the laptop is shown as %+v, want its certificate's name, role and district", p)
	}
	if p, ok := shown[stranger]; !ok || p.Name != "" || p.Role != syncproto.RoleField {
		t.Errorf("a peer whose certificate is not known is shown as %+v", p)
	}
	if _, ok := shown[gone]; ok {
		t.Error("a peer not heard of for longer than PeerExpiry is shown")
	}
	if _, ok := shown[synced]; !ok {
		t.Error("a peer synced with within PeerExpiry is not shown")
	}
}

// A peer's error text is kept printable and bounded.
func TestPeerErrorIsKeptPrintable(t *testing.T) {
	long := "peer says: \x1b]0;owned\x07" + strings.Repeat("é\u202e", 500)
	got := node.PeerError(errors.New(long))
	if len(got) > 4*300 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Fatalf("kept %d bytes: %q", len(got), got)
	}
	if node.Printable(got) != got || !strings.HasPrefix(got, `peer says: \x1b]0;owned\x07`) {
		t.Fatalf("kept %q", got)
	}
}
