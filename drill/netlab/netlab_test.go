package netlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The test binary is also the lab's server and client, run inside its
// namespaces: NETLAB_LISTEN=ADDR answers "ok" to every connection,
// NETLAB_DIAL=ADDR prints what the server answers.
func TestMain(m *testing.M) {
	if addr := os.Getenv("NETLAB_LISTEN"); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(1)
			}
			c.Write([]byte("ok"))
			c.Close()
		}
	}
	if addr := os.Getenv("NETLAB_DIAL"); addr != "" {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c.SetDeadline(time.Now().Add(time.Second))
		b, _ := io.ReadAll(c)
		fmt.Print(string(b))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// namespaces lists the namespaces whose name begins with prefix.
func namespaces(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, line := range strings.Split(string(out), "\n") {
		if name, _, _ := strings.Cut(line, " "); strings.HasPrefix(name, prefix) {
			found = append(found, name)
		}
	}
	return found
}

// Two hosts on two sites joined by an uplink reach each other; a cut
// uplink or host link stops them, a restored one lets them through again;
// Close leaves no namespace behind, even after a step that failed.
func TestLab(t *testing.T) {
	l, err := New("nt")
	if errors.Is(err, ErrUnavailable) {
		Skip(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			l.Close()
		}
	})
	if _, err := exec.LookPath("tc"); err != nil {
		Skip(t, "uplinks need tc (Debian package iproute2)")
	}
	for _, s := range []string{"hq", "tol"} {
		if err := l.Site(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Uplink("tol", "hq", Shape{Rate: "4mbit", Burst: "32kbit", Latency: "400ms"}); err != nil {
		t.Fatal(err)
	}
	a, err := l.Host("a", "hq", "10.99.0.1/16")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Host("b", "tol", "10.99.0.2/16")
	if err != nil {
		t.Fatal(err)
	}

	server := Command(context.Background(), b, os.Args[0])
	server.Env = append(os.Environ(), "NETLAB_LISTEN=10.99.0.2:7000")
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Process.Kill(); server.Wait() })
	reaches := func() bool {
		dial := Command(context.Background(), a, os.Args[0])
		dial.Env = append(os.Environ(), "NETLAB_DIAL=10.99.0.2:7000")
		out, _ := dial.Output()
		return string(out) == "ok"
	}
	within := func(what string, want bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); reaches() != want; {
			if time.Now().After(deadline) {
				t.Fatalf("not within 10s: %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	within("a reaches b over the uplink", true)
	if err := l.SetUplink("tol", false); err != nil {
		t.Fatal(err)
	}
	within("the cut uplink stops a reaching b", false)
	if err := l.SetUplink("tol", true); err != nil {
		t.Fatal(err)
	}
	within("the restored uplink lets a reach b", true)
	if err := l.SetHostLink("a", false); err != nil {
		t.Fatal(err)
	}
	within("a's cut link stops it reaching b", false)
	if err := l.SetHostLink("a", true); err != nil {
		t.Fatal(err)
	}
	within("a's restored link lets it reach b", true)

	if _, err := exec.LookPath("nft"); err == nil {
		if err := l.Thin("a", Shape{Rate: "64kbit", Burst: "16kbit", Latency: "600ms"}, 10); err != nil {
			t.Fatal(err)
		}
		within("a thin link still carries", true)
		l.Unthin("a")
		l.Unthin("a") // a second time finds nothing to undo
		within("a restored link carries", true)

		if err := l.Restrict("a", 7000, "10.99.0.9"); err != nil {
			t.Fatal(err)
		}
		within("a restricted to another address stops reaching b at that port", false)
		l.Unrestrict("a")
		l.Unrestrict("a")
		within("a no longer restricted reaches b", true)
		if err := l.Restrict("a", 7000, "10.99.0.2"); err != nil {
			t.Fatal(err)
		}
		within("a restricted to b's address reaches b", true)
		l.Unrestrict("a")
	}

	if _, err := l.Host("c", "no-such-site", "10.99.0.3/16"); err == nil {
		t.Fatal("a host was plugged into a site that does not exist")
	}
	if got := namespaces(t, l.Prefix); len(got) != 4 {
		t.Fatalf("namespaces %q, want the switch's and three hosts'", got)
	}
	server.Process.Kill()
	server.Wait()
	l.Close()
	closed = true
	if got := namespaces(t, l.Prefix); len(got) != 0 {
		t.Fatalf("namespaces %q left after Close", got)
	}
}
