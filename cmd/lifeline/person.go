package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"lifeline/node"
)

// newPersonSecret is a person's new passphrase.
var newPersonSecret = secret{flag: "new-person-passphrase-file", env: "LIFELINE_NEW_PERSON_PASSPHRASE", fresh: personSecret.fresh,
	missing: fmt.Errorf("the new passphrase: give it with --new-person-passphrase-file FILE or $LIFELINE_NEW_PERSON_PASSPHRASE, or run the command on a terminal")}

// personFlags are --name and the person's passphrase.
func personFlags(fs *flagSet) (name, passFile *string) {
	name = fs.String("name", "", "the person's name, as they sign in")
	passFile = fs.String(personSecret.flag, "", "a file whose first line is the person's passphrase (default $LIFELINE_PERSON_PASSPHRASE, else it is asked on the terminal)")
	return name, passFile
}

func runPersonAdd(ctx context.Context, e *env, fs *flagSet, args []string) error {
	name := fs.String("name", "", "the new person's name, as they will sign in")
	passFile := fs.String("new-person-passphrase-file", "", "a file whose first line is the new person's passphrase (default $LIFELINE_NEW_PERSON_PASSPHRASE, else it is asked twice on the terminal)")
	as := fs.String("as", "", "who adds them, signed in, once someone signs in on this node (default $LIFELINE_PERSON)")
	asPass := fs.String(personSecret.flag, "", "a file whose first line is the passphrase of who adds them (default $LIFELINE_PERSON_PASSPHRASE, else it is asked on the terminal)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return usagef("--name is required")
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		// The first person is added by whoever holds the node; the next
		// by someone who signs in here already.
		if signs, err := n.SignsIn(ctx); err != nil {
			return err
		} else if signs {
			if _, err := author(e, &who{as: *as, passFile: *asPass}, n); err != nil {
				return fmt.Errorf("adding a person: %w", err)
			}
		}
		pass, err := newPersonSecret.ask(e, func() string { return *passFile }, true)()
		if err != nil {
			return err
		}
		kept, err := n.AddPerson(ctx, *name, pass)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s signs in on %s from now on; every change made here needs someone signed in (--as NAME)\n", node.Printable(kept), node.Printable(n.Self().Name))
		return nil
	})
}

func runPersonPassphrase(ctx context.Context, e *env, fs *flagSet, args []string) error {
	name, passFile := personFlags(fs)
	newFile := fs.String("new-person-passphrase-file", "", "a file whose first line is the new passphrase (default $LIFELINE_NEW_PERSON_PASSPHRASE, else it is asked twice on the terminal)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return usagef("--name is required")
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		old, err := personSecret.ask(e, func() string { return *passFile }, false)()
		if err != nil {
			return err
		}
		fresh, err := newPersonSecret.ask(e, func() string { return *newFile }, true)()
		if err != nil {
			return err
		}
		if err := n.SetPersonPassphrase(ctx, *name, old, fresh); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "changed %s's passphrase\n", node.Printable(*name))
		return nil
	})
}

func runPersonRemove(ctx context.Context, e *env, fs *flagSet, args []string) error {
	name := fs.String("name", "", "the person's name")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		if err := n.RemovePerson(ctx, *name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s no longer signs in on %s; their changes stay as they were\n", node.Printable(*name), node.Printable(n.Self().Name))
		return nil
	})
}

func runPersonList(ctx context.Context, e *env, fs *flagSet, args []string) error {
	asJSON := fs.Bool("json", false, "print JSON")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		ps, err := n.People(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if ps == nil {
				ps = []node.Person{}
			}
			return json.NewEncoder(e.stdout).Encode(ps)
		}
		if len(ps) == 0 {
			fmt.Fprintln(e.stdout, "no one signs in on this node: changes carry --author, else the node's name")
			return nil
		}
		for _, p := range ps {
			line := fmt.Sprintf("%s  (added %s)", node.Printable(p.Name), p.Added)
			if p.Revoked {
				line += "  revoked by headquarters: cannot sign in"
			}
			fmt.Fprintln(e.stdout, line)
		}
		return nil
	})
}

func runPersonRevoke(ctx context.Context, e *env, fs *flagSet, args []string) error {
	on := fs.String("node", "", "the laptop's id, or its name as headquarters knows it")
	name := fs.String("name", "", "the person's name, as they sign in there")
	reason := fs.String("reason", "", "why, for the record")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if *on == "" || strings.TrimSpace(*name) == "" {
		return usagef("--node and --name are required")
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		id, err := nodeID(ctx, n, *on)
		if err != nil {
			return err
		}
		if err := n.RevokePerson(ctx, id, *name, *reason); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %s on %s: the laptop refuses their sign-in once the notice reaches it (every session's hello and bundle carries it)\n", node.Printable(*name), id)
		return nil
	})
}
