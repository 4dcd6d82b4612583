package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Photos travel between real processes in sync sessions: headquarters
// takes the laptop's thumbnails and full images, after which the laptop's
// status no longer says they wait; another laptop takes the thumbnail
// alone, and the full image when photo get --fetch asks for it.
func TestPhotosSyncBetweenProcesses(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	field := d.node(t, "cayo-07", "field", "Cayo")
	other := d.node(t, "cayo-08", "field", "Cayo")
	src := photoFile(t, t.TempDir(), 900, 700, 5)
	var hash string
	for _, h := range added(t, ok(t, "", "photo", "add", "--data", field, src)) {
		hash = h
	}
	rec := strings.Replace(assessment, `"reported_by"`, fmt.Sprintf(`"photos":[%q],"reported_by"`, hash), 1)
	ok(t, rec, "record", "add", "--data", field, "--type", "damage-assessment")
	if st := ok(t, "", "status", "--data", field); !strings.Contains(st, "1 photos wait to reach headquarters") {
		t.Fatalf("status before sync says:\n%s", st)
	}

	addr := serve(t, d.hq)
	ok(t, "", "sync", "--data", field, "--peer", addr)
	want := photoList(t, field)[hash]
	if got := photoList(t, d.hq)[hash]; !got.Thumb || got.Bytes != want.Bytes || want.Bytes == 0 {
		t.Fatalf("headquarters holds %+v of the laptop's %+v", got, want)
	}
	if st := ok(t, "", "status", "--data", field); strings.Contains(st, "wait to reach headquarters") {
		t.Fatalf("status after headquarters took the photo says:\n%s", st)
	}

	ok(t, "", "sync", "--data", other, "--peer", addr)
	if got := photoList(t, other)[hash]; !got.Thumb || got.Bytes != 0 {
		t.Fatalf("another laptop holds %+v; want the thumbnail alone", got)
	}
	out := filepath.Join(t.TempDir(), "full.jpg")
	fails(t, "", []string{"no such photo"}, "photo", "get", "--data", other, "--hash", hash, "--out", out)
	ok(t, "", "photo", "get", "--data", other, "--hash", hash, "--out", out, "--fetch")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != hash {
		t.Fatal("the photo fetched does not match its hash")
	}
}
