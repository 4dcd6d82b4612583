package node_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"os/exec"
	"path/filepath"
	"testing"

	"lifeline/node"
	"lifeline/node/photos"
	"lifeline/syncproto"
)

func openNew(t *testing.T, name string) (*node.Node, node.Config) {
	t.Helper()
	ctx := context.Background()
	cfg := node.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), name)
	if err := node.Init(ctx, cfg, node.Identity{Name: name, Role: syncproto.RoleField, District: "Cayo"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, cfg
}

// A node's photos open again after a restart, with its key; copied to
// another node's folder they open to no one.
func TestPhotosSealedWithTheNodesKey(t *testing.T) {
	ctx := context.Background()
	n, cfg := openNew(t, "cayo-07")
	var src bytes.Buffer
	jpeg.Encode(&src, image.NewGray(image.Rect(0, 0, 640, 480)), nil)
	p, err := n.AddPhoto(ctx, bytes.NewReader(src.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 640 || p.Height != 480 || !p.Thumb || p.Bytes == 0 {
		t.Fatalf("added %+v", p)
	}
	n.Close()
	again, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	list, err := again.Photos()
	if err != nil || len(list) != 1 || list[0].Hash != p.Hash {
		t.Fatalf("after a restart: %+v, %v", list, err)
	}
	rc, err := again.Photo(p.Hash, false)
	if err != nil {
		t.Fatal(err)
	}
	full, err := io.ReadAll(rc)
	rc.Close()
	if sum := sha256.Sum256(full); err != nil || hex.EncodeToString(sum[:]) != p.Hash {
		t.Fatalf("the full image does not hash to its id (%v)", err)
	}

	other, ocfg := openNew(t, "cayo-08")
	if out, err := exec.Command("cp", "-r", filepath.Join(cfg.DataDir, node.PhotosDir), ocfg.DataDir).CombinedOutput(); err != nil {
		t.Fatal(string(out))
	}
	rc, err = other.Photo(p.Hash, true)
	if err == nil {
		_, err = io.ReadAll(rc)
		rc.Close()
	}
	if !errors.Is(err, photos.ErrDamaged) {
		t.Fatalf("another node read this one's photo: %v", err)
	}
}
