package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"lifeline/node"
	"lifeline/node/peersync"
	"lifeline/node/photos"
)

// The photo commands join the others here, beside what they run.
func init() {
	commands = append(commands,
		command{name: "photo add", usage: "--data DIR [--keep-original] [--long-edge PX] FILE...", summary: "keep JPEG or PNG photos, turned upright and shrunk, and print each one's hash (what a record's photo field holds)", run: runPhotoAdd},
		command{name: "photo get", usage: "--data DIR --hash HASH --out FILE [--thumb] [--fetch]", summary: "write a photo (or its thumbnail) the node holds to a file; --fetch first asks the relays and HQ it knows for a full image not here", run: runPhotoGet},
		command{name: "photo list", usage: "--data DIR [--json]", summary: "list the photos the node holds, oldest first", run: runPhotoList},
		command{name: "photo budget", usage: "--data DIR [--set MIB] [--json]", summary: "show (or set) how much room photos take: originals, then full images HQ confirmed, are dropped to stay within it, never a thumbnail", run: runPhotoBudget},
	)
}

func runPhotoAdd(ctx context.Context, e *env, fs *flagSet, args []string) error {
	keep := fs.Bool("keep-original", false, "keep each file as it was given too (it counts against the budget, and goes first when room runs out)")
	edge := fs.Int("long-edge", photos.DefaultConfig().LongEdge, "pixels of the long edge of the photo kept")
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usagef("%v", err)
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		files, args = append(files, args[0]), args[1:]
	}
	if len(files) == 0 {
		return usagef("missing FILE (a JPEG or PNG photo)")
	}
	cfg := photos.DefaultConfig()
	cfg.KeepOriginals, cfg.LongEdge = *keep, *edge
	cfg.ThumbEdge = min(cfg.ThumbEdge, cfg.LongEdge)
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		if err := n.ConfigurePhotos(cfg); err != nil {
			return err
		}
		// Each line is printed once its photo is on disk for good.
		for _, f := range files {
			p, err := n.AddPhotoFile(ctx, f)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s  %s\n", p.Hash, f)
		}
		return nil
	})
}

func runPhotoGet(ctx context.Context, e *env, fs *flagSet, args []string) error {
	hash := fs.required("hash", "the photo's hash")
	out := fs.required("out", "the file to write")
	thumb := fs.Bool("thumb", false, "write its thumbnail")
	fetch := fs.Bool("fetch", false, "ask the relays and HQ this node knows for the full image when it is not here")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		if err := photos.ValidID(*hash); err != nil {
			return usagef("--hash: %v", err)
		}
		rc, err := n.Photo(*hash, *thumb)
		if errors.Is(err, photos.ErrNotFound) && *fetch && !*thumb {
			if _, err = n.FetchPhoto(ctx, *hash); err == nil {
				rc, err = n.Photo(*hash, false)
			}
		}
		if err != nil {
			return err
		}
		defer rc.Close()
		return writeOut(n, *out, func(w io.Writer) error {
			_, err := io.Copy(w, rc)
			return err
		})
	})
}

func runPhotoList(ctx context.Context, e *env, fs *flagSet, args []string) error {
	return view(ctx, e, fs, args, func(n *node.Node) ([]node.Photo, error) { return n.Photos() }, func(w io.Writer, _ *node.Node, list []node.Photo) error {
		for _, p := range list {
			full, size := "no full image", ""
			if p.Bytes > 0 {
				full, size = "full", fmt.Sprintf("%dx%d, %d bytes", p.Width, p.Height, p.Bytes)
			}
			thumb := "no thumbnail"
			if p.Thumb {
				thumb = "thumbnail"
			}
			fmt.Fprintf(w, "%s  %s, %s", p.Hash, full, thumb)
			if size != "" {
				fmt.Fprintf(w, "  (%s)", size)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%d photos\n", len(list))
		return nil
	})
}

func runPhotoBudget(ctx context.Context, e *env, fs *flagSet, args []string) error {
	set := fs.String("set", "", "the room photos may take, in MiB (0: no bound)")
	return view(ctx, e, fs, args, func(n *node.Node) (photos.Budget, error) {
		if *set != "" {
			mib, err := strconv.ParseInt(*set, 10, 64)
			if err != nil || mib < 0 {
				return photos.Budget{}, usagef("--set %q: a number of MiB, 0 for no bound", *set)
			}
			s, err := n.PhotoStore()
			if err != nil {
				return photos.Budget{}, err
			}
			if err := s.SetBudget(mib); err != nil {
				return photos.Budget{}, err
			}
		}
		return n.PhotoBudget()
	}, func(w io.Writer, _ *node.Node, b photos.Budget) error {
		fmt.Fprintf(w, "%d photos: %d thumbnails, %d full images, %d originals; %s", b.Photos, b.Thumbs, b.Full, b.Originals, mib(b.Used))
		if b.Limit == 0 {
			fmt.Fprintln(w, ", no budget")
			return nil
		}
		fmt.Fprintf(w, " of a budget of %s\n", mib(b.Limit))
		if b.Over {
			fmt.Fprintln(w, "over budget: what is left is thumbnails and full images headquarters has not confirmed, which are never dropped; raise it (--set) or free the disk")
		}
		return nil
	})
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// printBundlePhotos says what a bundle's photos did; a photo refused cost
// that photo only.
func printBundlePhotos(w io.Writer, p peersync.PhotosRead) {
	if p.Kept+p.Had+p.Refused == 0 && p.Err == "" {
		return
	}
	fmt.Fprintf(w, "photos: %d new, %d already here, %d refused\n", p.Kept, p.Had, p.Refused)
	for _, r := range p.Reasons {
		fmt.Fprintf(w, "  refused: %s\n", node.Printable(r))
	}
	if p.Err != "" {
		fmt.Fprintf(w, "  the photos after this were not read (the records are all kept): %s\n", node.Printable(p.Err))
	}
}
