package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"lifeline/node"
	"lifeline/node/atomicfile"
)

func init() {
	register(command{name: "ca init", summary: "make the deployment's certificate authority in an HQ node's folder", run: runCAInit})
	register(command{name: "ca sign", summary: "sign a node's enrollment request (at headquarters)", run: runCASign})
	register(command{name: "enroll", summary: "enroll a node with the CA in an HQ folder on this machine", run: runEnroll})
	register(command{name: "enroll request", summary: "write a node's enrollment request, to carry to headquarters", run: runEnrollRequest})
	register(command{name: "enroll install", summary: "install the certificate headquarters signed", run: runEnrollInstall})
}

func runCAInit(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "ca init", "--data HQDIR [--name NAME]")
	name := fs.String("name", "NEMO Lifeline CA", "the certificate authority's name")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		ca, err := n.InitCA(ctx, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "made certificate authority %q in %s/%s (valid until %s) and enrolled %s with it\n",
			ca.Cert.Subject.CommonName, fs.cfg.DataDir, node.CADir, ca.Cert.NotAfter.Format("2006-01-02"), n.Self().Name)
		return nil
	})
}

// memberFlags are headquarters' choices for a relay or HQ it enrolls.
func memberFlags(fs *flagSet) *node.SignOptions {
	opt := &node.SignOptions{}
	fs.BoolVar(&opt.Voter, "voter", false, "a relay votes in the ledger (HQ, the alternate HQ and chosen relays vote; HQ always)")
	fs.StringVar(&opt.MemberAddr, "member-addr", "", "where the relay's port is, host:port, when gossip does not reach it")
	return opt
}

func runCASign(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "ca sign", "--data HQDIR --request FILE --out FILE [--voter] [--member-addr HOST:PORT]")
	reqFile := fs.String("request", "", "the node's enrollment request (lifeline enroll request)")
	out := fs.String("out", "", "where to write the signed certificate, for the node to install")
	opt := memberFlags(fs)
	fs.DurationVar(&opt.Validity, "validity", 0, "how long the certificate is valid (default five years)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if *reqFile == "" || *out == "" {
		return usagef("--request and --out are required")
	}
	req, err := os.ReadFile(*reqFile)
	if err != nil {
		return err
	}
	return fs.withNode(ctx, func(hq *node.Node) error {
		bundle, err := hq.SignEnrollment(ctx, req, *opt)
		if err != nil {
			return fmt.Errorf("%s: %w", *reqFile, err)
		}
		if err := atomicfile.Write(*out, bundle, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "signed; give %s to the node: lifeline enroll install --cert %s\n", *out, *out)
		return nil
	})
}

func runEnroll(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "enroll", "--data DIR --ca HQDIR [--voter] [--member-addr HOST:PORT]")
	hqDir := fs.String("ca", "", "the HQ node's data folder, which holds the certificate authority")
	opt := memberFlags(fs)
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if *hqDir == "" {
		return usagef("--ca is required")
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		hqFlags := *fs
		hqFlags.cfg.DataDir = *hqDir
		hq, err := hqFlags.open(ctx)
		if err != nil {
			return fmt.Errorf("the HQ folder %s: %w", *hqDir, err)
		}
		defer hq.Close()
		req, err := n.EnrollmentRequest()
		if err != nil {
			return err
		}
		bundle, err := hq.SignEnrollment(ctx, req, *opt)
		if err != nil {
			return err
		}
		if err := n.Install(ctx, bundle); err != nil {
			return err
		}
		sayEnrolled(e.stdout, n)
		return nil
	})
}

func runEnrollRequest(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "enroll request", "--data DIR --out FILE")
	out := fs.String("out", "", "where to write the request")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	return fs.withNode(ctx, func(n *node.Node) error {
		req, err := n.EnrollmentRequest()
		if err != nil {
			return err
		}
		if err := atomicfile.Write(*out, req, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s; at headquarters: lifeline ca sign --request %s --out CERT\n", *out, *out)
		return nil
	})
}

func runEnrollInstall(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "enroll install", "--data DIR --cert FILE")
	certFile := fs.String("cert", "", "the signed certificate from headquarters (lifeline ca sign)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	if *certFile == "" {
		return usagef("--cert is required")
	}
	bundle, err := os.ReadFile(*certFile)
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
