package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"lifeline/node"
	"lifeline/node/identity"
	"lifeline/node/peersync"
	"lifeline/node/photos"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// errNotEqual: the session worked but the two nodes did not end with the
// same changes (one holds some for its clock, or someone wrote meanwhile).
var errNotEqual = errors.New("the nodes did not end equal")

func runSync(ctx context.Context, e *env, fs *flagSet, args []string) error {
	peer := fs.required("peer", "the peer's sync address, host:port")
	timeout := fs.Duration("timeout", 0, "give up after this long (0: no limit; stalls end after --sync-idle)")
	fs.DurationVar(&fs.cfg.SyncIdle, "sync-idle", fs.cfg.SyncIdle, "end the session if the peer is silent this long")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		if *timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *timeout)
			defer cancel()
		}
		start := time.Now()
		res, err := n.Sync(ctx, *peer)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "synced with %s (%s, %s) in %.2fs: sent %d changes, received %d (%d already here), %d bytes out, %d in\n",
			nodeLabel(res.Peer.Name, res.Peer.Node.String()), res.Peer.Role, node.Printable(res.Peer.District), time.Since(start).Seconds(), res.Sent, res.Received, res.Duplicates, res.BytesOut, res.BytesIn)
		if res.Snapshot > 0 {
			fmt.Fprintf(e.stdout, "%d of the changes received came in the peer's snapshot, checked whole against headquarters' receipts\n", res.Snapshot)
		}
		if res.Held > 0 || res.PeerHeld > 0 {
			fmt.Fprintf(e.stdout, "held for a clock ahead: %d of ours at the peer, %d of the peer's here\n", res.Held, res.PeerHeld)
		}
		if !res.Equal {
			return errNotEqual
		}
		return nil
	})
}

func runVector(ctx context.Context, e *env, fs *flagSet, args []string) error {
	out := fs.required("out", "the file to write")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		return writeOut(n, *out, func(w io.Writer) error { return n.WriteVector(ctx, w) })
	})
}

func runBundleExport(ctx context.Context, e *env, fs *flagSet, args []string) error {
	out := fs.required("out", "the bundle file to write")
	forFile := fs.String("for", "", "a vector file from the receiving node (lifeline vector): export only what it lacks")
	toList := fs.String("to", node.RecipientHQ, "who may read it, comma-separated: hq (every HQ node), relay:DISTRICT (its relays), a node's name or id; this node always may")
	withPhotos := fs.String("photos", "thumbs", "the photos it carries: none, thumbs (thumbnails), or full (thumbnails and full images); a bundle with photos is read by nodes from this version on")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		level, err := photos.ParseLevel(*withPhotos)
		if err != nil {
			return usagef("--%v", err)
		}
		vec, err := readVectorFile(*forFile)
		if err != nil {
			return err
		}
		to, err := recipients(ctx, n, *toList)
		if err != nil {
			return err
		}
		var res peersync.ExportResult
		var pics photos.Written
		err = writeOut(n, *out, func(w io.Writer) error {
			res, pics, err = n.ExportBundleWithPhotos(ctx, w, vec, to, level)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s: %d changes, %d thumbnails and %d full photos, %d bytes, encrypted for %s\n", *out, res.Changes, pics.Thumbs, pics.Full, res.Bytes, readers(n, to))
		return nil
	})
}

// recipients finds the nodes a --to list names.
func recipients(ctx context.Context, n *node.Node, list string) ([]node.Recipient, error) {
	var names []string
	for name := range strings.SplitSeq(list, ",") {
		if name = strings.TrimSpace(name); name != "" {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, usagef("--to %q names no one", list)
	}
	to, err := n.Recipients(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("--to %s: %w", list, err)
	}
	return to, nil
}

// readers names who may read a file written for to.
func readers(n *node.Node, to []node.Recipient) string {
	var names []string
	for _, r := range to {
		names = append(names, nodeLabel(r.Name, r.Node.String()))
	}
	return strings.Join(append(names, nodeLabel(n.Self().Name, n.Self().ID.String())+" (this node)"), ", ")
}

// readVectorFile reads a vector file; no file means the empty vector.
func readVectorFile(path string) (syncproto.Vector, error) {
	if path == "" {
		return nil, nil
	}
	f, err := node.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := node.ReadVector(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

func runBundleImport(ctx context.Context, e *env, fs *flagSet, args []string) error {
	pos, err := fs.parse(args, "FILE (a bundle)")
	if err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		res, err := n.ImportBundle(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		fmt.Fprintf(e.stdout, "bundle from %s (%s, %s): %d changes, %d new, %d already here, %d waiting for earlier ones or for the clock\n",
			nodeLabel(res.From.Name, res.From.Node.String()), res.From.Role, node.Printable(res.From.District), res.Changes, res.Applied, res.Duplicates, res.Held)
		if !res.Encrypted {
			fmt.Fprintln(e.stdout, "it was not encrypted, as Lifeline wrote bundles before: whoever had the file could read it")
		}
		if res.Revocations > 0 {
			fmt.Fprintf(e.stdout, "learnt that headquarters revoked %d nodes: they are refused from now on\n", res.Revocations)
		}
		printBundlePhotos(e.stdout, res.Photos)
		return nil
	})
}

func runSnapshotExport(ctx context.Context, e *env, fs *flagSet, args []string) error {
	out := fs.required("out", "the snapshot file to write")
	// A snapshot holds every record of a district: it is written for the
	// new laptop, enrolled first, and for no one by default.
	toList := fs.required("to", "the new laptop it is for, enrolled first (its name or id); more readers comma-separated, as bundle export's --to")
	district := fs.String("district", "", "the district whose records it holds (default: the laptop's, when --to names one node)")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		to, err := recipients(ctx, n, *toList)
		if err != nil {
			return err
		}
		var name string
		switch {
		case *district != "":
			var ok bool
			if name, ok = schemas.District(*district); !ok {
				return fmt.Errorf("--district %q: not one of %s", *district, strings.Join(schemas.Districts, ", "))
			}
		case len(to) == 1 && to[0].Role.Field():
			name = to[0].District
		default:
			return usagef("--district is required: --to %s does not name one field laptop, whose district it would be", *toList)
		}
		var res peersync.ExportResult
		err = writeOut(n, *out, func(w io.Writer) error {
			res, err = n.ExportSnapshotFor(ctx, w, identity.Claims{Role: syncproto.RoleField, District: name}, to)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s: a snapshot for a %s field laptop, %d changes, %d bytes, encrypted for %s\n", *out, name, res.Changes, res.Bytes, readers(n, to))
		return nil
	})
}

func runSnapshotImport(ctx context.Context, e *env, fs *flagSet, args []string) error {
	pos, err := fs.parse(args, "FILE (a snapshot)")
	if err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		res, err := n.ImportSnapshot(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		fmt.Fprintf(e.stdout, "snapshot from %s (%s, %s): %d changes, %d new, %d already here, %d left out (not kept here); checked against %d receipts of headquarters\n",
			nodeLabel(res.From.Name, res.From.Node.String()), res.From.Role, node.Printable(res.From.District), res.Changes, res.Applied, res.Duplicates, res.OutOfScope, res.Receipts)
		return nil
	})
}
