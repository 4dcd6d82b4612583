package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"sync"
	"sync/atomic"
	"time"

	"lifeline/node"
	"lifeline/node/nodetest"
	"lifeline/syncproto"
)

// P1-photos: damage assessments with three photos each, made from
// generated 12-megapixel images, synced from a field laptop to a relay in
// one session: how long until every record and thumbnail is at the relay,
// how long until every full image is, the bytes on the wire, and the peak
// memory of the process that runs both nodes.

func init() {
	register(workload{name: "P1-photos", rows: photosWorkload})
}

// photoRecords is how many assessments P1-photos makes:
// LIFELINE_BENCH_PHOTO_RECORDS, else 200.
func photoRecords() int { return envInt("LIFELINE_BENCH_PHOTO_RECORDS", 200) }

// cameraJPEG is a 4000×3000 JPEG (12 megapixels) of smooth shapes that
// seed varies, as a camera writes one: several megabytes.
func cameraJPEG(seed int) ([]byte, error) {
	const w, h = 4000, 3000
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		row := img.Y[y*img.YStride:]
		for x := range w {
			row[x] = uint8((x*(seed%7+1) + y*(seed%5+2) + (x*y)>>(10+seed%3)) >> 3)
		}
	}
	for i := range img.Cb {
		img.Cb[i] = uint8(i*(seed+3)>>12) + 64
		img.Cr[i] = uint8(i>>11) + uint8(seed)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 92}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// cameraJPEGs makes n camera JPEGs (cameraJPEG 0 to n-1) on two cores,
// untimed, handing each to keep, which both cores call; it returns the
// bytes the camera wrote, or the first error.
func cameraJPEGs(n int, keep func(i int, b []byte) error) (int64, error) {
	var camera atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 2 {
				b, err := cameraJPEG(i)
				if err == nil {
					err = keep(i, b)
				}
				if err != nil {
					errs <- err
					return
				}
				camera.Add(int64(len(b)))
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return camera.Load(), nil
}

func photosWorkload(ctx context.Context, e *env) ([]namedResult, error) {
	return harness(e.tmp, func(tb *benchTB) ([]namedResult, error) {
		records := photoRecords()
		c := nodetest.New(tb)
		relay := c.Add("relay-cayo", syncproto.RoleRelay, "Cayo", deployed)
		laptop := c.Add("cayo-07", syncproto.RoleField, "Cayo", func(cfg *node.Config) { deployed(cfg); cfg.SyncAddr = "" })

		// The photos, made and added on two cores: not timed.
		ids := make([]string, 3*records)
		camera, err := cameraJPEGs(len(ids), func(i int, b []byte) error {
			p, err := laptop.Node.AddPhoto(ctx, bytes.NewReader(b))
			ids[i] = p.Hash
			return err
		})
		if err != nil {
			return nil, err
		}
		for i := range records {
			rec := fmt.Sprintf(`{"district":"Cayo","village":"Succotz %d","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","photos":[%q,%q,%q]}`,
				i, ids[3*i], ids[3*i+1], ids[3*i+2])
			if _, err := laptop.Node.Add(ctx, "damage-assessment", []byte(rec), "Ana Cho"); err != nil {
				return nil, err
			}
		}
		budget, err := laptop.Node.PhotoBudget()
		if err != nil {
			return nil, err
		}

		// The relay is watched while the session runs.
		start := time.Now()
		var firstDone, allDone time.Duration
		stop := make(chan struct{})
		watched := make(chan error, 1)
		go func() {
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					watched <- nil
					return
				case <-tick.C:
				}
				st, err := relay.Node.Status(ctx)
				if err != nil {
					watched <- err
					return
				}
				list, err := relay.Node.Photos()
				if err != nil {
					watched <- err
					return
				}
				thumbs, fulls := 0, 0
				for _, p := range list {
					if p.Thumb {
						thumbs++
					}
					if p.Bytes > 0 {
						fulls++
					}
				}
				if firstDone == 0 && st.Records["damage-assessment"] == records && thumbs == len(ids) {
					firstDone = time.Since(start)
				}
				if firstDone == 0 && fulls > 0 {
					watched <- fmt.Errorf("a full image reached the relay before every record and thumbnail (%d records, %d thumbnails)", st.Records["damage-assessment"], thumbs)
					return
				}
				if fulls == len(ids) && allDone == 0 {
					allDone = time.Since(start)
				}
			}
		}()
		res, err := laptop.Node.Sync(ctx, relay.Addr)
		elapsed := time.Since(start)
		close(stop)
		if werr := <-watched; werr != nil {
			return nil, werr
		}
		if err != nil {
			return nil, err
		}
		if allDone == 0 {
			allDone = elapsed
		}
		if firstDone == 0 || res.PhotosSent != 2*len(ids) {
			return nil, fmt.Errorf("the session sent %d kinds of photos of %d", res.PhotosSent, 2*len(ids))
		}
		wire := res.BytesIn + res.BytesOut
		return []namedResult{
			{name: "P1-photos records+thumbs", what: fmt.Sprintf("%d assessments, %d thumbnails, laptop → relay, one session", records, len(ids)),
				result: result{Records: records, Elapsed: firstDone}},
			{name: "P1-photos full images", what: fmt.Sprintf("then %d full images (%.1f MB kept of %.1f MB from the camera)", len(ids), float64(budget.Used)/1e6, float64(camera)/1e6),
				result: result{Records: records, Elapsed: allDone, Extra: fmt.Sprintf("; %.2f MB on the wire; the session %.2f s", float64(wire)/1e6, elapsed.Seconds())}},
		}, nil
	})
}
