package main

import (
	"context"
	"errors"
	"fmt"

	"lifeline/node"
)

func runKeySeal(ctx context.Context, e *env, fs *flagSet, args []string) error {
	if _, err := fs.parse(args); err != nil {
		return err
	}
	dir := fs.cfg.DataDir
	err := node.SealKey(dir, nodePassphrase(e, &fs.passFile, true))
	if errors.Is(err, node.ErrKeySealedAlready) {
		return fmt.Errorf("the node's key in %s is sealed already; lifeline key passphrase --data %s changes its passphrase", dir, dir)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "sealed the node's key in %s with the passphrase: every command on this node now asks for it (--passphrase-file FILE, $LIFELINE_PASSPHRASE, or the terminal); copies of the folder made before hold the key in the clear: destroy them\n", dir)
	return nil
}

func runKeyPassphrase(ctx context.Context, e *env, fs *flagSet, args []string) error {
	newFile := fs.String(newNodeSecret.flag, "", "a file whose first line is the new passphrase (default $LIFELINE_NEW_PASSPHRASE, else it is asked twice on the terminal)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	dir := fs.cfg.DataDir
	sealed, err := node.KeySealed(dir)
	if err != nil {
		return err
	}
	if !sealed {
		return fmt.Errorf("the node's key in %s is not sealed: seal it with lifeline key seal --data %s", dir, dir)
	}
	next := newNodeSecret.ask(e, func() string { return *newFile }, true)
	if err := node.ChangeKeyPassphrase(dir, fs.cfg.Passphrase, next); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "changed the passphrase of the node's key in %s; copies of the key file made before open with the old one: destroy them\n", dir)
	return nil
}
