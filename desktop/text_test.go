package desktop

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every text the screens ask for by a literal key is registered, in English
// and in Spanish: a forgotten one would show its key to a responder.
func TestEveryTextHasBothLanguages(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`(?:\.T|text)\((?:[a-zA-Z.]+, )?"([a-z0-9_.-]+)"\)`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(src), -1) {
			seen++
			v, ok := texts[m[1]]
			if !ok {
				t.Errorf("%s: text %q is not registered", f, m[1])
				continue
			}
			if v[0] == "" || v[1] == "" {
				t.Errorf("%s: text %q lacks a language: %q", f, m[1], v)
			}
		}
	}
	if seen < 150 {
		t.Fatalf("found only %d uses of texts: the pattern no longer matches the code", seen)
	}
	// Keys the code builds from a node's values.
	for _, key := range []string{"role.field", "role.relay", "role.hq", "status.saved", "status.sent", "status.confirmed",
		"sync.gossip.alive", "sync.gossip.dead", "sync.gossip.left"} {
		if v, ok := texts[key]; !ok || v[0] == "" || v[1] == "" {
			t.Errorf("text %q: %q", key, v)
		}
	}
}
