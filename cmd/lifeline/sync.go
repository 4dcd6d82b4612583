package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"lifeline/node"
	"lifeline/node/atomicfile"
	"lifeline/node/identity"
	"lifeline/node/peersync"
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
		return atomicfile.WriteFunc(*out, 0o600, func(w io.Writer) error { return n.WriteVector(ctx, w) })
	})
}

func runBundleExport(ctx context.Context, e *env, fs *flagSet, args []string) error {
	out := fs.required("out", "the bundle file to write")
	forFile := fs.String("for", "", "a vector file from the receiving node (lifeline vector): export only what it lacks")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		vec, err := readVectorFile(*forFile)
		if err != nil {
			return err
		}
		var changes int
		var size int64
		err = atomicfile.WriteFunc(*out, 0o600, func(w io.Writer) error {
			res, err := n.ExportBundle(ctx, w, vec)
			changes, size = res.Changes, res.Bytes
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s: %d changes, %d bytes\n", *out, changes, size)
		return nil
	})
}

// readVectorFile reads a vector file; no file means the empty vector.
func readVectorFile(path string) (syncproto.Vector, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
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
		if res.Revocations > 0 {
			fmt.Fprintf(e.stdout, "learnt that headquarters revoked %d nodes: they are refused from now on\n", res.Revocations)
		}
		return nil
	})
}

func runSnapshotExport(ctx context.Context, e *env, fs *flagSet, args []string) error {
	out := fs.required("out", "the snapshot file to write")
	district := fs.required("district", "the district of the new laptop it is for")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		name, ok := schemas.District(*district)
		if !ok {
			return fmt.Errorf("--district %q: not one of %s", *district, strings.Join(schemas.Districts, ", "))
		}
		var res peersync.ExportResult
		err := atomicfile.WriteFunc(*out, 0o600, func(w io.Writer) error {
			var err error
			res, err = n.ExportSnapshot(ctx, w, identity.Claims{Role: syncproto.RoleField, District: name})
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s: a snapshot for a %s field laptop, %d changes, %d bytes\n", *out, name, res.Changes, res.Bytes)
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
