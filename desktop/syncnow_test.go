package desktop

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lifeline/syncproto"
)

// "Sync now" with a relay's address typed: the app syncs with the peer
// at it over mutual TLS, says what went each way by the peer's name,
// remembers the address for the next start, and keeps it over a
// language switch.
func TestSyncNowSaysWhatHappenedPerPeer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	ca := enrollTestUI(t, u)
	peer := enrolledPeer(t, ca, "cayo-laptop-03", "Cayo")
	if _, err := peer.Add(ctx, "damage-assessment", []byte(damageRecord), "vol-2"); err != nil {
		t.Fatal(err)
	}
	addrs := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- peer.Serve(ctx, "127.0.0.1:0", func(a net.Addr) { addrs <- a }, nil) }()
	defer func() { cancel(); <-served }()
	addr := (<-addrs).String()

	v := u.newSyncView()
	v.addr.SetText(addr)
	v.addr.OnSubmitted(addr) // Enter in the box
	u.bg.Wait()
	for _, want := range []string{"1 of 1 peers answered", "cayo-laptop-03: 0 sent, 1 received."} {
		if !strings.Contains(v.result.Text, want) {
			t.Fatalf("the app says %q, want %q in it", v.result.Text, want)
		}
	}
	if !strings.Contains(u.jobs.label.Text, "1 of 1 peers answered") || !u.jobs.box.Visible() {
		t.Fatalf("the status line says %q", u.jobs.label.Text)
	}
	b, err := os.ReadFile(filepath.Join(u.node.Config().DataDir, syncAddrsFile))
	if err != nil || !strings.Contains(string(b), addr) {
		t.Fatalf("the address is not remembered: %q, %v", b, err)
	}

	// A new window (a restart) starts with the address typed last.
	u.screens.sync = nil
	if again := u.newSyncView(); again.addr.Text != addr {
		t.Fatalf("after a restart the box holds %q, want %q", again.addr.Text, addr)
	}
	if err := u.SetLang("es"); err != nil {
		t.Fatal(err)
	}
	if got := u.screens.sync.addr.Text; got != addr {
		t.Fatalf("after a language switch the box holds %q, want %q", got, addr)
	}
}

// A peer that accepts the connection and says nothing is reported in
// plain words, never as "context deadline exceeded", and what was typed
// that is not an address is refused with how to write one.
func TestSyncWithSilentPeerSaysNoAnswer(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	enrollTestUI(t, u)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // says nothing until the test ends
		}
	}()
	v := u.newSyncView()
	v.addr.SetText(l.Addr().String())
	v.syncNow()
	u.bg.Wait()
	if !strings.Contains(v.result.Text, "no peer answered (1 tried)") || !strings.Contains(v.result.Text, l.Addr().String()+": no answer in ") ||
		strings.Contains(v.result.Text, "deadline") {
		t.Fatalf("the app says %q", v.result.Text)
	}

	v.addr.SetText("relay cayo")
	v.syncNow()
	u.bg.Wait()
	if !strings.Contains(v.result.Text, "Write it as host:port") {
		t.Fatalf("a wrong address: the app says %q", v.result.Text)
	}
}

// The file of remembered addresses is bounded and checked: a damaged one
// is refused, an entry that is not host:port left out.
func TestSyncAddrsFileIsChecked(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, syncAddrsFile), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"last":"10.0.0.1:7420","known":["hq:7420","rm -rf /","a:99999","relay-cayo:7420"]}`)
	a, err := loadSyncAddrs(dir)
	if err != nil || a.Last != "10.0.0.1:7420" || strings.Join(a.Known, ",") != "hq:7420,relay-cayo:7420" {
		t.Fatalf("read %+v, %v", a, err)
	}
	write(strings.Repeat(" ", maxSyncAddrsFile+1))
	if _, err := loadSyncAddrs(dir); err == nil {
		t.Fatal("a file over the bound was read")
	}
	write(`{"last":`)
	if _, err := loadSyncAddrs(dir); err == nil || !strings.Contains(err.Error(), syncAddrsFile) {
		t.Fatalf("a damaged file: %v", err)
	}
}
