package main

import (
	"context"
	"fmt"
	"io"

	"lifeline/node"
	"lifeline/node/atomicfile"
	"lifeline/node/identity"
)

func runEnroll(ctx context.Context, e *env, fs *flagSet, args []string) error {
	caDir := fs.required("ca", "the CA folder (e.g. on a USB stick), or HQ's data folder, which holds it")
	opt := memberFlags(fs)
	pass := caPassphraseFlag(fs)
	return fs.onNode(ctx, args, func(n *node.Node) error {
		self := n.Self()
		own := *opt
		own.Role, own.District = self.Role, self.District
		// Refused before the passphrase is asked for.
		if err := own.Check(n.Claims()); err != nil {
			return claimsRefusal(err, "add --hq")
		}
		ca, err := node.OpenAuthority(*caDir, caPassphrase(e, *pass, false))
		if err != nil {
			return err
		}
		warnUnsealed(e, "enroll", ca)
		if err := n.EnrollFrom(ctx, ca, *opt); err != nil {
			return claimsRefusal(err, "add --hq")
		}
		sayEnrolled(e.stdout, n)
		return nil
	})
}

func runEnrollRequest(ctx context.Context, e *env, fs *flagSet, args []string) error {
	out := fs.required("out", "where to write the request")
	district := fs.String("district", "", "ask for a certificate of this district: the responder has moved there (default the node's own)")
	return fs.onNode(ctx, args, func(n *node.Node) error {
		if err := n.CheckExportPath(*out); err != nil {
			return err
		}
		req, err := n.EnrollmentRequestIn(*district)
		if err != nil {
			return err
		}
		if err := atomicfile.Write(*out, req, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s; at headquarters: lifeline ca sign --request %s --role ROLE --district DISTRICT --out CERT\n", *out, *out)
		return nil
	})
}

func runEnrollInstall(ctx context.Context, e *env, fs *flagSet, args []string) error {
	certFile := fs.required("cert", "the signed certificate from headquarters (lifeline ca sign)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	bundle, err := identity.ReadPEMFile(*certFile, "an enrollment bundle")
	if err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		if err := n.Install(ctx, bundle); err != nil {
			return fmt.Errorf("%s: %w", *certFile, err)
		}
		sayEnrolled(e.stdout, n)
		return nil
	})
}

// sayEnrolled says who the node is enrolled as, and until when.
func sayEnrolled(w io.Writer, n *node.Node) {
	c := n.Credentials()
	fmt.Fprintf(w, "enrolled %s until %s\n", c.Claims, c.Cert.NotAfter.Format("2006-01-02"))
}
