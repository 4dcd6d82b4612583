package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"

	"lifeline/node"
	"lifeline/node/featureapi"
)

var apiCommands = []command{
	{name: "api token create", usage: "--data DIR --name NAME --out FILE [--personal]", summary: "make a token for the feature API, written only to FILE (mode 0600); the node keeps its hash. --personal lets it read personal fields (relays and HQ)", run: runAPITokenCreate},
	{name: "api token list", usage: "--data DIR [--json]", summary: "list the feature API's tokens by name", run: runAPITokenList},
	{name: "api token revoke", usage: "--data DIR --name NAME", summary: "revoke a feature API token: a running node refuses it at once", run: runAPITokenRevoke},
}

func init() { commands = append(commands, apiCommands...) }

// servesAPI refuses a node that does not serve the feature API: a field
// laptop's records are a part of its district's, on a laptop that moves.
func servesAPI(n *node.Node) error {
	if role := n.Self().Role; !role.InLedger() {
		return fmt.Errorf("the feature API is served by relays and HQ, and this node is a %s node", role)
	}
	return nil
}

func runAPITokenCreate(ctx context.Context, e *env, fs *flagSet, args []string) error {
	name := fs.required("name", "the token's name: who or what uses it, e.g. qgis-gis-office")
	out := fs.required("out", "the file the token is written to, readable by its owner only (it must not exist)")
	personal := fs.Bool("personal", false, "let the token read personal fields (names, phone numbers) this node can open")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		if err := servesAPI(n); err != nil {
			return err
		}
		err := featureapi.CreateToken(fs.cfg.DataDir, *name, *personal, func(token string) error {
			f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s exists: the token goes to a new file", *out)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(f, token)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(*out)
			}
			return err
		})
		if err != nil {
			return err
		}
		reads := "fields that are not personal"
		if *personal {
			reads = "every field, personal ones too (those this node can open)"
		}
		fmt.Fprintf(e.stdout, "made API token %s, written to %s: it reads %s\n", *name, *out, reads)
		return nil
	})
}

func runAPITokenList(ctx context.Context, e *env, fs *flagSet, args []string) error {
	asJSON := fs.Bool("json", false, "print JSON")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		list, err := featureapi.ListTokens(fs.cfg.DataDir)
		if err != nil {
			return err
		}
		if *asJSON {
			type shown struct {
				Name     string `json:"name"`
				Personal bool   `json:"personal"`
				Created  string `json:"created"`
			}
			out := []shown{}
			for _, t := range list {
				out = append(out, shown{t.Name, t.Personal, t.Created})
			}
			return json.NewEncoder(e.stdout).Encode(out)
		}
		if len(list) == 0 {
			fmt.Fprintln(e.stdout, "no API tokens: lifeline api token create makes one")
			return nil
		}
		for _, t := range list {
			reads := "not personal fields"
			if t.Personal {
				reads = "personal fields too"
			}
			fmt.Fprintf(e.stdout, "%-30s made %s  reads %s\n", t.Name, t.Created, reads)
		}
		return nil
	})
}

func runAPITokenRevoke(ctx context.Context, e *env, fs *flagSet, args []string) error {
	name := fs.required("name", "the token's name, as api token list shows it")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		if err := featureapi.RevokeToken(fs.cfg.DataDir, *name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked API token %s\n", *name)
		return nil
	})
}

// apiFlags are run's flags for the feature API.
type apiFlags struct{ addr, cert, key *string }

func addAPIFlags(fs *flagSet) apiFlags {
	return apiFlags{
		addr: fs.String("api-addr", "", "serve the read-only feature API (OGC API - Features, HTTPS) here, e.g. 0.0.0.0:8443 (relays and HQ)"),
		cert: fs.String("api-cert", "", "the API's TLS certificate chain (PEM), naming the host or address clients connect to"),
		key:  fs.String("api-key", "", "the private key (PEM) of --api-cert"),
	}
}

// startAPI serves the feature API when --api-addr asks, until ctx ends
// or stop is called; stop returns once it has stopped.
func startAPI(ctx context.Context, e *env, n *node.Node, f apiFlags, log *slog.Logger) (stop func(), err error) {
	if *f.addr == "" {
		if *f.cert != "" || *f.key != "" {
			return nil, usagef("--api-cert and --api-key go with --api-addr")
		}
		return func() {}, nil
	}
	if err := servesAPI(n); err != nil {
		return nil, err
	}
	if *f.cert == "" || *f.key == "" {
		return nil, usagef("--api-addr needs --api-cert and --api-key: a certificate naming the host clients connect to, from a CA they trust (docs/api.md says how)")
	}
	// Whoever reads the key may pose as this API to the analysts, and
	// take the tokens they send.
	if info, err := os.Stat(*f.key); err == nil && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the API's key %s may be read by others (mode %v): chmod 600 %s", *f.key, info.Mode().Perm(), *f.key)
	}
	cert, err := tls.LoadX509KeyPair(*f.cert, *f.key)
	if err != nil {
		return nil, fmt.Errorf("the API's certificate: %w", err)
	}
	ln, err := net.Listen("tcp", *f.addr)
	if err != nil {
		return nil, fmt.Errorf("the feature API: %w", err)
	}
	fmt.Fprintf(e.stdout, "serving the feature API on https://%s\n", ln.Addr())
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := featureapi.New(n, log).Serve(ctx, ln, cert); err != nil {
			log.Error("the feature API stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}
