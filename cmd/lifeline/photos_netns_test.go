package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lifeline/drill/netlab"
	"lifeline/node/nodetest"
	"lifeline/node/photos"
)

// A field laptop on a 64 kbit/s link losing 10% of its packets syncs
// damage assessments with photos to its district's relay, both real
// lifeline processes in namespaces of their own. The relay is watched
// while the session runs: when the first chunk of a full image reaches
// it, every record and every thumbnail must be there already
// (docs/photos.md, "Order"). The full images themselves would take many
// minutes: the test ends once the first has begun to arrive.
func TestPhotoOrderOnThinLinkInNamespaces(t *testing.T) {
	// Its processes mostly wait for the thin link: it runs beside the
	// other such tests.
	t.Parallel()
	// Its own tag: newLab's namespaces are named after the process, and
	// the other namespace test makes them at the same time.
	l, err := netlab.New("lp")
	if errors.Is(err, netlab.ErrUnavailable) {
		netlab.Skip(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	d := newDeployment(t)
	relay := d.node(t, "relay-cayo", "relay", "Cayo")
	laptop := d.node(t, "cayo-07", "field", "Cayo")
	const records, perRecord = 5, 2
	dir := t.TempDir()
	var files []string
	for i := range records * perRecord {
		files = append(files, scenePhoto(t, dir, i))
	}
	hashes := added(t, ok(t, "", append([]string{"photo", "add", "--data", laptop}, files...)...))
	held := photoList(t, laptop)
	for i := range records {
		var ids []string
		for _, f := range files[i*perRecord : (i+1)*perRecord] {
			ids = append(ids, strconv.Quote(hashes[f]))
		}
		rec := strings.Replace(strings.Replace(assessment, "San Ignacio", fmt.Sprintf("Succotz %d", i), 1),
			`"reported_by"`, `"photos":[`+strings.Join(ids, ",")+`],"reported_by"`, 1)
		ok(t, rec, "record", "add", "--data", laptop, "--type", "damage-assessment")
	}
	// Every full image is longer than a chunk and every thumbnail within
	// one: a full image shows in the relay's photos/partial/ from its
	// first chunk, long before it is whole, and nothing else ever does.
	var thumbBytes, fullBytes int
	for _, f := range files {
		h := hashes[f]
		thumb := len(photoGet(t, laptop, h, true))
		if thumb >= photos.ChunkBytes || held[h].Bytes <= photos.ChunkBytes {
			t.Fatalf("photo %s: a thumbnail of %d bytes and a full image of %d; want the thumbnail within a chunk (%d) and the full image beyond it",
				f, thumb, held[h].Bytes, photos.ChunkBytes)
		}
		thumbBytes += thumb
		fullBytes += int(held[h].Bytes)
	}
	t.Logf("%d assessments, %d photos: %d bytes of thumbnails, %d of full images", records, len(files), thumbBytes, fullBytes)

	must(l.Site("cayo"))
	relayNS, err := l.Host("relay-cayo", "cayo", "10.45.0.1/24")
	must(err)
	laptopNS, err := l.Host("cayo-07", "cayo", "10.45.0.2/24")
	must(err)
	must(l.Thin("cayo-07", netlab.Shape{Rate: "64kbit", Burst: "16kbit", Latency: "600ms"}, 10))
	serveIn(t, relayNS, "relay-cayo", "run", "--data", relay, "--sync-addr", "10.45.0.1:7420")

	begun := time.Now()
	// The relay sends nothing while it takes photos, for longer than the
	// default --sync-idle: the laptop must not give it up for silent.
	session := runIn(t, laptopNS, "cayo-07", "sync", "--data", laptop, "--peer", "10.45.0.1:7420")
	partial := filepath.Join(relay, "photos", "partial")
	var allThere time.Duration
	for {
		select {
		case <-session.done:
			t.Fatalf("the laptop's session ended before a full image reached the relay:\n%s", session.String())
		default:
		}
		if time.Since(begun) > 150*time.Second {
			t.Fatalf("no full image began to reach the relay within 150s")
		}
		// What has begun of the full images is read first, then the
		// thumbnails, then the records: each only grows, so a record or
		// thumbnail missing at its read was missing when a full image
		// was already seen.
		ents, err := os.ReadDir(partial)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		fulls := 0
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".full") {
				fulls++
			}
		}
		thumbs := 0
		for _, p := range photoList(t, relay) {
			if p.Bytes > 0 {
				fulls++
			}
			if p.Thumb {
				thumbs++
			}
		}
		got := nodeStatus(t, relay).Records["damage-assessment"]
		if allThere == 0 && got == records && thumbs == len(files) {
			allThere = time.Since(begun)
			t.Logf("every record and thumbnail is at the relay after %.1fs", allThere.Seconds())
		}
		if fulls > 0 {
			if got != records || thumbs != len(files) {
				t.Fatalf("a full image began to reach the relay before every record and thumbnail: %d of %d records, %d of %d thumbnails there, after %.1fs",
					got, records, thumbs, len(files), time.Since(begun).Seconds())
			}
			t.Logf("the first full image began to reach the relay after %.1fs", time.Since(begun).Seconds())
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := ok(t, "", "status", "--data", relay); !regexp.MustCompile(`[1-9][0-9]* arriving in part`).MatchString(st) {
		t.Fatalf("the relay's status does not say a photo is arriving in part:\n%s", st)
	}
}

// scenePhoto writes a 1,200 × 900 JPEG of smooth shapes that seed varies,
// as a camera's photo of a house is, and returns its path: its thumbnail
// is a few kilobytes, its full image a few chunks.
func scenePhoto(t *testing.T, dir string, seed int) string {
	t.Helper()
	const w, h = 1200, 900
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			img.Y[y*img.YStride+x] = uint8((x*(seed%7+1) + y*(seed%5+2) + (x*y)>>(7+seed%3)) >> 2)
		}
	}
	for i := range img.Cb {
		img.Cb[i] = uint8(i*(seed+3)>>10) + 64
		img.Cr[i] = uint8(i>>9) + uint8(seed*17)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("DSC_%04d.jpg", seed))
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveIn runs `lifeline run --sync-addr` in the namespace, as start does,
// and returns once it serves.
func serveIn(t *testing.T, ns, name string, args ...string) {
	t.Helper()
	p := runIn(t, ns, name, args...)
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(p.String(), "serving sync on "); {
		select {
		case <-p.done:
			t.Fatalf("%s ended before it served:\n%s", name, p.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not serve within 30s:\n%s", name, p.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inNS is a lifeline process in a namespace: its output so far, and done
// closed once it ended.
type inNS struct {
	nodetest.Output
	done chan struct{}
}

// runIn runs lifeline in the namespace, stopped as start's are when the
// test ends, its output printed if the test failed.
func runIn(t *testing.T, ns, name string, args ...string) *inNS {
	t.Helper()
	p := &inNS{done: make(chan struct{})}
	cmd := netlab.Command(context.Background(), ns, bin, args...)
	cmd.Stdout, cmd.Stderr = p, p
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("== %s's output:\n%s", name, tail([]byte(p.String()), 4000))
		}
	})
	return p
}
