package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"lifeline/node"
	"lifeline/node/atomicfile"
	"lifeline/node/identity"
	"lifeline/syncproto"
)

func runCAInit(ctx context.Context, e *env, fs *flagSet, args []string) error {
	name := fs.String("name", "NEMO Lifeline CA", "the certificate authority's name")
	out := fs.String("out", "", "write the CA folder there (e.g. a USB stick kept in a safe) instead of HQDIR/ca: HQ's folder then keeps the CA's certificate, not its key")
	pass := caPassphraseFlag(fs)
	return fs.onNode(ctx, args, func(n *node.Node) error {
		ca, err := n.InitCA(ctx, node.CAOptions{Name: *name, Dir: *out, Passphrase: caPassphrase(e, *pass, true)})
		if err != nil {
			return err
		}
		dir := *out
		if dir == "" {
			dir = filepath.Join(fs.cfg.DataDir, node.CADir)
		}
		fmt.Fprintf(e.stdout, "made certificate authority %q in %s (valid until %s), its key and the gossip key sealed with the passphrase, and enrolled %s with it\n",
			ca.Cert.Subject.CommonName, dir, ca.Cert.NotAfter.Format("2006-01-02"), n.Self().Name)
		if *out != "" {
			fmt.Fprintf(e.stdout, "%s keeps the CA's certificate, not its key: keep %s and its passphrase apart from each other; sign with lifeline ca sign --ca %s\n", fs.cfg.DataDir, dir, dir)
		}
		return nil
	})
}

// memberFlags are headquarters' choices for a relay or HQ it enrolls.
func memberFlags(fs *flagSet) *node.SignOptions {
	opt := &node.SignOptions{}
	fs.BoolVar(&opt.Voter, "voter", false, "a relay votes in the ledger (HQ, the alternate HQ and chosen relays vote; HQ always; a relay renewed keeps its vote: lifeline ledger member takes it)")
	fs.StringVar(&opt.MemberAddr, "member-addr", "", "where the relay's port is, host:port, when gossip does not reach it")
	fs.BoolVar(&opt.HQ, "hq", false, "the node is an HQ: an HQ certificate can enroll and revoke every node, so it is never signed without this")
	return opt
}

func runCASign(ctx context.Context, e *env, fs *flagSet, args []string) error {
	reqFile := fs.required("request", "the node's enrollment request (lifeline enroll request)")
	out := fs.required("out", "where to write the signed certificate, for the node to install")
	role := fs.String("role", "", "the role the node must have, as you know it from who asked: field, relay or hq")
	district := fs.String("district", "", "the district the node must be in, as you know it from who asked")
	caDir := fs.String("ca", "", "the CA folder (e.g. on a USB stick); alone, no HQ folder is needed, for a field laptop (default HQDIR/ca)")
	opt := memberFlags(fs)
	fs.DurationVar(&opt.Validity, "validity", 0, "how long the certificate is valid (default 120 days, a season, for a field laptop; a year for a relay or HQ)")
	pass := caPassphraseFlag(fs)
	if _, err := fs.parse(args); err != nil {
		return err
	}
	req, err := identity.ReadPEMFile(*reqFile, "an enrollment request")
	if err != nil {
		return err
	}
	claims, err := node.RequestClaims(req)
	if err != nil {
		return fmt.Errorf("%s: %w", *reqFile, err)
	}
	fmt.Fprintf(e.stdout, "%s asks to be enrolled as:\n  name      %s\n  role      %s\n  district  %s\n  node      %s\n",
		*reqFile, claims.Name, claims.Role, claims.District, claims.Node)
	if *role == "" || *district == "" {
		return usagef("--role and --district are required: the role and district you know this node must have, from who asked; the request's claims are above")
	}
	opt.Role, err = syncproto.ParseRole(*role)
	if err != nil {
		return usagef("--role: %v", err)
	}
	opt.District = *district
	// Refused before the passphrase is asked for.
	if err := opt.Check(claims); err != nil {
		return fmt.Errorf("%s: %w", *reqFile, claimsRefusal(err, "sign again with --hq"))
	}
	// HQ's node signs when its folder is named (--data or $LIFELINE_DATA),
	// or when no CA folder is: it queues the enrollment for the ledger.
	atHQ := *caDir == "" || fs.given("data") || e.getenv("LIFELINE_DATA") != ""
	if !atHQ && (opt.Voter || opt.MemberAddr != "") {
		return usagef("--voter and --member-addr are the ledger's decisions: give HQ's data folder too (--data HQDIR)")
	}
	sign := func(hq *node.Node) error {
		if hq != nil {
			if err := hq.CheckExportPath(*out); err != nil {
				return err
			}
		}
		dir := *caDir
		if dir == "" {
			dir = fs.cfg.DataDir
		}
		ca, err := node.OpenAuthority(dir, caPassphrase(e, *pass, false))
		if err != nil {
			return err
		}
		warnUnsealed(e, "ca sign", ca)
		if err := ca.CheckOutPath(*out); err != nil {
			return err
		}
		var bundle []byte
		if hq != nil {
			bundle, err = hq.SignEnrollment(ctx, ca, req, *opt)
		} else {
			bundle, err = ca.Sign(req, *opt)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", *reqFile, claimsRefusal(err, "sign again with --hq"))
		}
		if err := atomicfile.Write(*out, bundle, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "signed %s (node %s); give %s to the node: lifeline enroll install --cert %s\n", claims.Name, claims.Node, *out, *out)
		if hq == nil {
			fmt.Fprintf(e.stdout, "HQ learns of %s when its records first reach it; to revoke it before then, note its node id\n", claims.Name)
		}
		return nil
	}
	if !atHQ {
		return sign(nil)
	}
	return fs.withNode(ctx, sign)
}

func runCASeal(ctx context.Context, e *env, fs *flagSet, args []string) error {
	caDir := fs.String("ca", "", "the CA folder (default HQDIR/ca)")
	pass := caPassphraseFlag(fs)
	if _, err := fs.parse(args); err != nil {
		return err
	}
	dir := *caDir
	if dir == "" {
		dir = fs.cfg.DataDir
	}
	err := node.SealAuthority(dir, caPassphrase(e, *pass, true))
	if errors.Is(err, node.ErrSealedAlready) {
		fmt.Fprintf(e.stdout, "%s is sealed already; nothing to do\n", dir)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "sealed the CA's key and gossip keys in %s with the passphrase; copies made before hold them in the clear: destroy them\n", dir)
	return nil
}

// warnUnsealed says, once, that a CA's key is not sealed, and how to seal it.
func warnUnsealed(e *env, cmd string, ca *node.Authority) {
	if !ca.Sealed() {
		fmt.Fprintf(e.stderr, "lifeline %s: warning: the CA's key in %s is not sealed: whoever copies the folder can enroll nodes; seal it with lifeline ca seal --ca %s\n", cmd, ca.Dir, ca.Dir)
	}
}

// claimsRefusal says a node.ClaimsError in the command line's words: which
// flag says otherwise than the request, and, for role hq, how to mean it
// (how).
func claimsRefusal(err error, how string) error {
	var ce *node.ClaimsError
	if !errors.As(err, &ce) {
		return err
	}
	c := ce.Claims
	switch ce.Claim {
	case "hq":
		return fmt.Errorf("%s (node %s) claims role hq, and an HQ certificate can enroll and revoke every node, publish kits and decide the ledger's members: it is never signed by mistake; if this node is an HQ, %s", c.Name, c.Node, how)
	case "role":
		return fmt.Errorf("%s (node %s) claims role %s, but --role says %s: refused; check who sent the request", c.Name, c.Node, c.Role, ce.Expected)
	default:
		return fmt.Errorf("%s (node %s) claims district %s, but --district says %s: refused; check who sent the request", c.Name, c.Node, c.District, ce.Expected)
	}
}
