package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"lifeline/node"
)

// photoFile writes a w×h JPEG made of noise that seed varies (noise
// compresses badly: the file is as large as a camera's) and returns its
// path.
func photoFile(t *testing.T, dir string, w, h, seed int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	x := uint32(seed*2654435761 + 1)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = uint8(x)
	}
	img.SetRGBA(0, 0, color.RGBA{uint8(seed), 0, 0, 255})
	path := filepath.Join(dir, fmt.Sprintf("IMG_%04d.jpg", seed))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return path
}

// added reads photo add's lines: "HASH  FILE".
func added(t *testing.T, out string) map[string]string {
	t.Helper()
	hashes := map[string]string{}
	for line := range strings.Lines(out) {
		hash, file, ok := strings.Cut(strings.TrimSpace(line), "  ")
		if !ok || len(hash) != 64 {
			t.Fatalf("photo add printed %q", line)
		}
		hashes[file] = hash
	}
	return hashes
}

type listed struct {
	Hash  string `json:"hash"`
	Bytes int64  `json:"bytes"`
	Thumb bool   `json:"thumb"`
}

func photoList(t *testing.T, dir string) map[string]listed {
	t.Helper()
	var list []listed
	if err := json.Unmarshal([]byte(ok(t, "", "photo", "list", "--data", dir, "--json")), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]listed{}
	for _, p := range list {
		out[p.Hash] = p
	}
	return out
}

// photoGet writes a photo out of a node and returns its bytes.
func photoGet(t *testing.T, dir, hash string, thumb bool) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.jpg")
	args := []string{"photo", "get", "--data", dir, "--hash", hash, "--out", out}
	if thumb {
		args = append(args, "--thumb")
	}
	ok(t, "", args...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// A photo whose hash photo add printed is on disk for good: the process
// killed right after it printed the line, the photo is there, whole, and
// its hash is that of the bytes photo get writes.
func TestPhotoAddSurvivesKill(t *testing.T) {
	dir := newNode(t)
	src := t.TempDir()
	var files []string
	for i := range 6 {
		files = append(files, photoFile(t, src, 3000, 2000, i+1))
	}
	cmd := exec.Command(bin, append([]string{"photo", "add", "--data", dir}, files...)...)
	cmd.Env = append(os.Environ(), "LIFELINE_DATA=", "LIFELINE_PASSPHRASE=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if err != nil {
		t.Fatalf("photo add printed no line: %v: %s", err, stderr.String())
	}
	hash := added(t, line)[files[0]]
	list := photoList(t, dir)
	if len(list) == len(files) {
		t.Fatal("photo add had added every photo before it was killed: the test killed nothing")
	}
	p, held := list[hash]
	if !held || !p.Thumb || p.Bytes == 0 {
		t.Fatalf("after the kill, the photo printed is not held whole: %+v (held %v)", p, held)
	}
	full := photoGet(t, dir, hash, false)
	if sha(full) != hash {
		t.Fatal("the photo written out does not hash to its id")
	}
	img, err := jpeg.Decode(bytes.NewReader(full))
	if err != nil || img.Bounds().Dx() != 1600 || img.Bounds().Dy() != 1067 {
		t.Fatalf("the photo kept is not a 1600×1067 JPEG: %v %v", img.Bounds(), err)
	}
	thumb, err := jpeg.DecodeConfig(bytes.NewReader(photoGet(t, dir, hash, true)))
	if err != nil || thumb.Width != 256 || thumb.Height != 171 {
		t.Fatalf("its thumbnail is %dx%d (%v), want 256×171", thumb.Width, thumb.Height, err)
	}
	if out := ok(t, "", "status", "--data", dir); !strings.Contains(out, "photos, ") {
		t.Fatalf("status does not count the photos: %q", out)
	}
	// Added again, the same photo is the same hash, once.
	if again := added(t, ok(t, "", "photo", "add", "--data", dir, files[0]))[files[0]]; again != hash {
		t.Fatalf("the same file added again is %s, not %s", again, hash)
	}
}

func TestPhotoCommandsRefuse(t *testing.T) {
	dir := newNode(t)
	bad := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(bad, []byte("not a photo"), 0o600)
	fails(t, "", []string{"photo add", "notes.txt", "not a JPEG or PNG"}, "photo", "add", "--data", dir, bad)
	fails(t, "", []string{"--hash", "64 lower-case hex"}, "photo", "get", "--data", dir, "--hash", "IMG_2041.jpg", "--out", filepath.Join(t.TempDir(), "x"))
	fails(t, "", []string{"no such photo here"}, "photo", "get", "--data", dir, "--hash", strings.Repeat("ab", 32), "--out", filepath.Join(t.TempDir(), "x"))
	if out := ok(t, "", "photo", "budget", "--data", dir, "--set", "300"); !strings.Contains(out, "0 photos") || !strings.Contains(out, "of a budget of 300.0 MiB") {
		t.Fatalf("photo budget said %q", out)
	}
	fails(t, "", []string{"--set", "MiB"}, "photo", "budget", "--data", dir, "--set", "lots")
}

// Bundles carry what --photos says: no photo, thumbnails only, or
// thumbnails and full images, each equal to the writer's; a photo altered
// on the stick is refused, and the records and the other photos are kept.
func TestPhotosTravelInBundles(t *testing.T) {
	d := newDeployment(t)
	field := d.node(t, "tol-02", "field", "Toledo")
	src := t.TempDir()
	files := []string{photoFile(t, src, 800, 600, 7), photoFile(t, src, 600, 900, 8)}
	hashes := added(t, ok(t, "", append([]string{"photo", "add", "--data", field}, files...)...))
	h1, h2 := hashes[files[0]], hashes[files[1]]
	// A record's photo field holds the hashes; one of a photo still on
	// its way (well formed, not held here) is taken too.
	elsewhere := strings.Repeat("0f", 32)
	rec := strings.Replace(assessment, `"Cayo"`, `"Toledo"`, 1)
	rec = strings.Replace(rec, `{`, fmt.Sprintf(`{"photos":[%q,%q,%q],`, h1, h2, elsewhere), 1)
	id := strings.TrimSpace(ok(t, rec, "record", "add", "--data", field, "--type", "damage-assessment"))
	if got := show(t, field, id).Fields["photos"]; fmt.Sprint(got) != fmt.Sprint([]any{h1, h2, elsewhere}) {
		t.Fatalf("the record's photos are %v", got)
	}

	copyHQ := func(name string) string {
		dir := filepath.Join(t.TempDir(), name)
		if out, err := exec.Command("cp", "-r", d.hq, dir).CombinedOutput(); err != nil {
			t.Fatal(string(out))
		}
		return dir
	}
	bundles := t.TempDir()
	for _, c := range []struct {
		level         string
		thumbs, fulls int
	}{{"none", 0, 0}, {"thumbs", 2, 0}, {"full", 2, 2}} {
		path := filepath.Join(bundles, c.level+".bundle")
		out := ok(t, "", "bundle", "export", "--data", field, "--out", path, "--photos", c.level)
		if want := fmt.Sprintf("%d thumbnails and %d full photos", c.thumbs, c.fulls); !strings.Contains(out, want) {
			t.Fatalf("--photos %s: export said %q, want %q", c.level, out, want)
		}
		hq := copyHQ(c.level)
		out = ok(t, "", "bundle", "import", "--data", hq, path)
		if digestOf(t, hq) != digestOf(t, field) {
			t.Fatalf("--photos %s: the records did not all come", c.level)
		}
		got := photoList(t, hq)
		if len(got) != c.thumbs {
			t.Fatalf("--photos %s: HQ holds %d photos, want %d (%s)", c.level, len(got), c.thumbs, out)
		}
		for _, h := range []string{h1, h2} {
			p, ok := got[h]
			if c.level == "none" {
				continue
			}
			if !ok || !p.Thumb || (p.Bytes > 0) != (c.fulls > 0) {
				t.Fatalf("--photos %s: HQ holds %+v of %s", c.level, p, h)
			}
			if !bytes.Equal(photoGet(t, hq, h, true), photoGet(t, field, h, true)) {
				t.Fatalf("--photos %s: the thumbnail at HQ differs from the laptop's", c.level)
			}
			if c.fulls > 0 && sha(photoGet(t, hq, h, false)) != h {
				t.Fatalf("--photos %s: the full image at HQ does not hash to its id", c.level)
			}
		}
	}

	// The stick altered inside the first full image: the laptop opens its
	// own bundle, alters it, and it travels unencrypted (as bundles did
	// before they were encrypted), which HQ reads.
	ctx := context.Background()
	cfg := node.DefaultConfig()
	cfg.DataDir = field
	n, err := node.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(filepath.Join(bundles, "full.bundle"))
	r, err := n.Key().Decrypting(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	n.Close()
	if err != nil {
		t.Fatal(err)
	}
	full1 := photoGet(t, field, h1, false)
	i := bytes.Index(plain, full1)
	if i < 0 {
		t.Fatal("the full image is not in the bundle")
	}
	plain[i+len(full1)/2] ^= 0x08
	tampered := filepath.Join(bundles, "tampered.bundle")
	os.WriteFile(tampered, plain, 0o600)
	hq := copyHQ("tampered")
	out := ok(t, "", "bundle", "import", "--data", hq, tampered)
	if !strings.Contains(out, "photos: 3 new, 0 already here, 1 refused") || !strings.Contains(out, "does not match its hash") {
		t.Fatalf("a bundle with an altered photo: %q", out)
	}
	if digestOf(t, hq) != digestOf(t, field) {
		t.Fatal("an altered photo cost records")
	}
	got := photoList(t, hq)
	if p := got[h1]; !p.Thumb || p.Bytes != 0 {
		t.Fatalf("the altered photo: %+v, want its thumbnail only", p)
	}
	if p := got[h2]; !p.Thumb || p.Bytes == 0 {
		t.Fatalf("the photo after the altered one: %+v, want it whole", p)
	}
}
