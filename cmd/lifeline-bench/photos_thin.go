package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"lifeline/drill/netlab"
)

// P1-photos-thin: P1-photos over a field laptop's thin link. The laptop
// and a relay of its district run as `lifeline` processes, each in a
// network namespace of its own (drill/netlab), the laptop's link shaped to
// 64 kbit/s each way and losing 10% of its packets. The laptop holds
// damage assessments with three photos each and runs `lifeline sync` with
// the relay; the bench watches the relay: how long until every record and
// thumbnail is there (and that no full image began before them), how long
// until the first full image is whole, and the bytes the laptop's link
// carried. At 64 kbit/s every full image would take hours: the run stops
// after the first ones.

func init() {
	register(workload{name: "P1-photos-thin", across: photosThin})
}

// envInt is a positive number from the environment, else def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// thinShape is the laptop's link, as the drill's thin-link step makes it.
var thinShape = netlab.Shape{Rate: "64kbit", Burst: "16kbit", Latency: "600ms"}

const thinLoss = 10 // percent of packets dropped, each way

func photosThin(ctx context.Context, e *env) ([]namedResult, error) {
	// LIFELINE_BENCH_THIN_RECORDS assessments (10), three photos each;
	// the run stops once LIFELINE_BENCH_THIN_FULL full images (1) are
	// whole at the relay.
	records, wantFull := envInt("LIFELINE_BENCH_THIN_RECORDS", 10), envInt("LIFELINE_BENCH_THIN_FULL", 1)
	lab, err := netlab.New("pb")
	if errors.Is(err, netlab.ErrUnavailable) {
		fmt.Fprintf(os.Stderr, "P1-photos-thin: skipped: %v\n", err)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer lab.Close()
	if _, err := os.Stat(lifelineBin()); err != nil {
		return nil, fmt.Errorf("the lifeline binary goes beside lifeline-bench (make build): %w", err)
	}

	dir := filepath.Join(e.tmp, "p1-thin")
	defer os.RemoveAll(dir)
	hq, relay, laptop := filepath.Join(dir, "hq"), filepath.Join(dir, "relay-cayo"), filepath.Join(dir, "cayo-07")
	for _, args := range [][]string{
		{"init", "--data", hq, "--role", "hq", "--district", "Cayo", "--name", "hq"},
		{"ca", "init", "--data", hq},
		{"init", "--data", relay, "--role", "relay", "--district", "Cayo", "--name", "relay-cayo"},
		{"enroll", "--data", relay, "--ca", hq},
		{"init", "--data", laptop, "--role", "field", "--district", "Cayo", "--name", "cayo-07"},
		{"enroll", "--data", laptop, "--ca", hq},
	} {
		if _, err := lifeline(args...); err != nil {
			return nil, err
		}
	}
	ids, camera, err := thinPhotos(dir, laptop, 3*records)
	if err != nil {
		return nil, err
	}
	var lines []string
	for i := range records {
		lines = append(lines, fmt.Sprintf(`{"district":"Cayo","village":"Succotz %d","lat":17.1,"lon":-89.1,"structure_type":"thatch","damage_level":3,"household_size":4,"reported_by":"vol-1","reported_at":"2026-11-20T10:00:00Z","photos":[%q,%q,%q]}`,
			i, ids[3*i], ids[3*i+1], ids[3*i+2]))
	}
	recFile := filepath.Join(dir, "records.ndjson")
	if err := os.WriteFile(recFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}
	if _, err := lifeline("record", "import", "--data", laptop, "--type", "damage-assessment", "--author", "Ana Cho", recFile); err != nil {
		return nil, err
	}
	held, err := photoList(laptop)
	if err != nil {
		return nil, err
	}
	var fullBytes int64
	for _, p := range held {
		fullBytes += p.Bytes
	}

	if err := lab.Site("cayo"); err != nil {
		return nil, err
	}
	relayNS, err := lab.Host("relay-cayo", "cayo", "10.46.0.1/24")
	if err != nil {
		return nil, err
	}
	laptopNS, err := lab.Host("cayo-07", "cayo", "10.46.0.2/24")
	if err != nil {
		return nil, err
	}
	if err := lab.Thin("cayo-07", thinShape, thinLoss); err != nil {
		return nil, err
	}
	server := netlab.Command(ctx, relayNS, lifelineBin(), "run", "--data", relay, "--sync-addr", "10.46.0.1:7420")
	out, err := server.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := server.Start(); err != nil {
		return nil, err
	}
	defer func() { server.Process.Signal(syscall.SIGTERM); server.Wait() }()
	serving := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "serving sync on ") {
				serving <- true
			}
		}
	}()
	select {
	case <-serving:
	case <-time.After(60 * time.Second):
		return nil, errors.New("the relay's lifeline run did not serve sync")
	}

	wire0, err := linkBytes(laptopNS)
	if err != nil {
		return nil, err
	}
	// The relay sends nothing while it takes photos, for longer than the
	// default --sync-idle: the session goes on while it takes them.
	client := netlab.Command(ctx, laptopNS, lifelineBin(), "sync", "--data", laptop, "--peer", "10.46.0.1:7420")
	var said strings.Builder
	client.Stdout, client.Stderr = &said, &said
	start := time.Now()
	if err := client.Start(); err != nil {
		return nil, err
	}
	ended := make(chan error, 1)
	go func() { ended <- client.Wait() }()
	stopClient := func() {
		client.Process.Signal(syscall.SIGTERM)
		<-ended
	}

	// The relay is watched as fast as the lifeline command reads it
	// (about ten times a second). What has begun of the full images is
	// read first, then the thumbnails and full images whole, then the
	// records: each only grows, so a record or thumbnail missing when
	// read was missing when a full image had begun.
	var (
		allThere, firstBegun, firstWhole time.Duration
		wire                             [3]int64 // when the records and thumbnails are there, at the first full image, at the end
		firstSize, wholeBytes            int64
		polls                            int
	)
	partial := filepath.Join(relay, "photos", "partial")
	deadline := start.Add(time.Hour)
	for {
		select {
		case err := <-ended:
			stopClient = func() {}
			if firstWhole == 0 {
				return nil, fmt.Errorf("the laptop's session ended before a full image reached the relay: %v: %s", err, said.String())
			}
			wantFull = 0 // this look is the last
		default:
		}
		if time.Now().After(deadline) {
			stopClient()
			return nil, fmt.Errorf("no full image was whole at the relay within %v", time.Hour)
		}
		ents, err := os.ReadDir(partial)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			stopClient()
			return nil, err
		}
		begun := 0
		for _, ent := range ents {
			if strings.HasSuffix(ent.Name(), ".full") {
				begun++
			}
		}
		list, err := photoList(relay)
		if err != nil {
			stopClient()
			return nil, err
		}
		thumbs, whole := 0, 0
		wholeBytes = 0
		for _, p := range list {
			if p.Thumb {
				thumbs++
			}
			if p.Bytes > 0 {
				whole++
				wholeBytes += p.Bytes
			}
		}
		got, err := relayRecords(relay)
		if err != nil {
			stopClient()
			return nil, err
		}
		polls++
		now := time.Since(start)
		if allThere == 0 && got == records && thumbs == len(ids) {
			allThere = now
			if wire[0], err = linkBytes(laptopNS); err != nil {
				stopClient()
				return nil, err
			}
		}
		if begun+whole > 0 && allThere == 0 {
			stopClient()
			return nil, fmt.Errorf("a full image began to reach the relay before every record and thumbnail: %d of %d records, %d of %d thumbnails, after %.1f s",
				got, records, thumbs, len(ids), now.Seconds())
		}
		if begun+whole > 0 && firstBegun == 0 {
			firstBegun = now
		}
		if whole > 0 && firstWhole == 0 {
			firstWhole, firstSize = now, wholeBytes
			if wire[1], err = linkBytes(laptopNS); err != nil {
				stopClient()
				return nil, err
			}
		}
		if whole >= wantFull {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	wire[2], err = linkBytes(laptopNS)
	rss := max(procHWM(client.Process.Pid), procHWM(server.Process.Pid))
	stopClient()
	if err != nil {
		return nil, err
	}

	// The pace of the full images whole, from the last thumbnail on,
	// says how long they all would take.
	allFull := time.Duration(float64(fullBytes) / float64(wholeBytes) * float64(elapsed-allThere))
	link := fmt.Sprintf("%s, %d%% lost each way", thinShape.Rate, thinLoss)
	return []namedResult{
		{name: "P1-thin rec+thumbs", what: fmt.Sprintf("%d assessments, %d thumbnails, laptop → relay over %s", records, len(ids), link),
			result: result{Elapsed: allThere, RSSKiB: rss,
				Extra: fmt.Sprintf("; %.0f kB on the laptop's link; no full image before them (the relay read %.0f times a second)", float64(wire[0]-wire0)/1e3, float64(polls)/elapsed.Seconds())}},
		{name: "P1-thin 1st full", what: fmt.Sprintf("then the first full image (%.0f kB) whole; its first chunk came at %.1f s", float64(firstSize)/1e3, firstBegun.Seconds()),
			result: result{Elapsed: firstWhole, RSSKiB: rss,
				Extra: fmt.Sprintf("; %.0f kB on the link; all %d full images (%.1f MB kept, %.1f MB from the camera) would take about %.1f h at the pace of the %.2f MB whole in %.0f s, P1-photos' 600 about %.0f h; stopped there (%.0f kB on the link)",
					float64(wire[1]-wire0)/1e3, len(ids), float64(fullBytes)/1e6, float64(camera)/1e6, allFull.Hours(), float64(wholeBytes)/1e6, (elapsed - allThere).Seconds(),
					allFull.Hours()*600/float64(len(ids)), float64(wire[2]-wire0)/1e3)}},
	}, nil
}

// relayRecords is how many damage assessments `lifeline status` counts.
func relayRecords(dir string) (int, error) {
	out, err := exec.Command(lifelineBin(), "status", "--data", dir, "--json").Output()
	if err != nil {
		return 0, fmt.Errorf("lifeline status: %w", err)
	}
	var st struct {
		Records map[string]int `json:"records"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, fmt.Errorf("lifeline status said %q: %w", out, err)
	}
	return st.Records["damage-assessment"], nil
}

// thinPhotos adds n photos, made from generated 12-megapixel JPEGs on two
// cores, to the node in dir, and returns their ids in order and the
// camera files' bytes.
func thinPhotos(tmp, dir string, n int) ([]string, int64, error) {
	files := make([]string, n)
	camera, err := cameraJPEGs(n, func(i int, b []byte) error {
		files[i] = filepath.Join(tmp, fmt.Sprintf("DSC_%04d.jpg", i))
		return os.WriteFile(files[i], b, 0o600)
	})
	if err != nil {
		return nil, 0, err
	}
	out, err := lifeline(append([]string{"photo", "add", "--data", dir}, files...)...)
	if err != nil {
		return nil, 0, err
	}
	byFile := map[string]string{}
	for line := range strings.Lines(out) {
		if hash, file, ok := strings.Cut(strings.TrimSpace(line), "  "); ok {
			byFile[file] = hash
		}
	}
	ids := make([]string, n)
	for i, f := range files {
		if ids[i] = byFile[f]; ids[i] == "" {
			return nil, 0, fmt.Errorf("photo add printed no hash for %s: %s", f, out)
		}
		os.Remove(f)
	}
	return ids, camera, nil
}

// listedPhoto is a line of `lifeline photo list --json`.
type listedPhoto struct {
	Hash  string `json:"hash"`
	Bytes int64  `json:"bytes"`
	Thumb bool   `json:"thumb"`
}

func photoList(dir string) ([]listedPhoto, error) {
	cmd := exec.Command(lifelineBin(), "photo", "list", "--data", dir, "--json")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("lifeline photo list: %w", err)
	}
	var list []listedPhoto
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("lifeline photo list said %q: %w", out, err)
	}
	return list, nil
}

// linkBytes is what the namespace's eth0 has sent and received, in bytes,
// TCP/IP headers and retransmissions included.
func linkBytes(ns string) (int64, error) {
	out, err := exec.Command("ip", "-n", ns, "-j", "-s", "link", "show", "dev", "eth0").Output()
	if err != nil {
		return 0, fmt.Errorf("ip -s link in %s: %w", ns, err)
	}
	var links []struct {
		Stats struct {
			RX, TX struct{ Bytes int64 }
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		return 0, fmt.Errorf("ip -s link in %s said %q", ns, out)
	}
	return links[0].Stats.RX.Bytes + links[0].Stats.TX.Bytes, nil
}
