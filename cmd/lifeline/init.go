package main

import (
	"context"
	"fmt"
	"os"

	"lifeline/node"
	"lifeline/syncproto"
)

func runInit(ctx context.Context, e *env, fs *flagSet, args []string) error {
	role := fs.required("role", "field (a responder's laptop), relay (a district office) or hq")
	district := fs.required("district", "the node's district: Belize, Cayo, Corozal, Orange Walk, Stann Creek or Toledo")
	name := fs.String("name", "", "a name people recognise, e.g. cayo-laptop-07 (default: the host name)")
	seal := fs.Bool("seal", false, "seal the node's key with a new passphrase (typed twice on the terminal, or --passphrase-file FILE, or $LIFELINE_PASSPHRASE): every command on the node then needs it")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if *seal {
		// The passphrase that seals the key opens the node below.
		fs.cfg.SealKey = true
		fs.cfg.Passphrase = nodePassphrase(e, &fs.passFile, true)
	}
	if *name == "" {
		*name, _ = os.Hostname()
	}
	id := node.Identity{Name: *name, Role: syncproto.Role(*role), District: *district}
	if err := node.Init(ctx, fs.cfg, id); err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		self := n.Self()
		fmt.Fprintf(e.stdout, "initialised %s node %s (%s, %s) in %s\n", self.Role, self.Name, self.District, self.ID, fs.cfg.DataDir)
		if *seal {
			fmt.Fprintln(e.stdout, "its key is sealed with the passphrase: every command on this node asks for it (--passphrase-file FILE, $LIFELINE_PASSPHRASE, or the terminal)")
		}
		return nil
	})
}
