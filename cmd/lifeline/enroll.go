package main

import (
	"context"
	"fmt"
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
	nf := addNodeFlags(fs, e)
	name := fs.String("name", "NEMO Lifeline CA", "the certificate authority's name")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	n, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	ca, err := n.InitCA(ctx, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "made certificate authority %q in %s/%s (valid until %s) and enrolled %s with it\n",
		ca.Cert.Subject.CommonName, nf.data, node.CADir, ca.Cert.NotAfter.Format("2006-01-02"), n.Self().Name)
	return nil
}

func runCASign(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "ca sign", "--data HQDIR --request FILE --out FILE")
	nf := addNodeFlags(fs, e)
	reqFile := fs.String("request", "", "the node's enrollment request (lifeline enroll request)")
	out := fs.String("out", "", "where to write the signed certificate, for the node to install")
	validity := fs.Duration("validity", 0, "how long the certificate is valid (default five years)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *reqFile == "" || *out == "" {
		return usagef("--request and --out are required")
	}
	req, err := os.ReadFile(*reqFile)
	if err != nil {
		return err
	}
	hq, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer hq.Close()
	bundle, err := hq.SignEnrollment(ctx, req, *validity)
	if err != nil {
		return fmt.Errorf("%s: %w", *reqFile, err)
	}
	if err := atomicfile.Write(*out, bundle, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "signed; give %s to the node: lifeline enroll install --cert %s\n", *out, *out)
	return nil
}

func runEnroll(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "enroll", "--data DIR --ca HQDIR")
	nf := addNodeFlags(fs, e)
	hq := fs.String("ca", "", "the HQ node's data folder, which holds the certificate authority")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *hq == "" {
		return usagef("--ca is required")
	}
	n, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	hqFlags := *nf
	hqFlags.data = *hq
	hqNode, err := hqFlags.open(ctx)
	if err != nil {
		return fmt.Errorf("the HQ folder %s: %w", *hq, err)
	}
	defer hqNode.Close()
	req, err := n.EnrollmentRequest()
	if err != nil {
		return err
	}
	bundle, err := hqNode.SignEnrollment(ctx, req, 0)
	if err != nil {
		return err
	}
	if err := n.Install(ctx, bundle); err != nil {
		return err
	}
	c := n.Credentials()
	fmt.Fprintf(e.stdout, "enrolled %s until %s\n", c.Claims, c.Cert.NotAfter.Format("2006-01-02"))
	return nil
}

func runEnrollRequest(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "enroll request", "--data DIR --out FILE")
	nf := addNodeFlags(fs, e)
	out := fs.String("out", "", "where to write the request")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	n, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	req, err := n.EnrollmentRequest()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(*out, req, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s; at headquarters: lifeline ca sign --request %s --out CERT\n", *out, *out)
	return nil
}

func runEnrollInstall(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "enroll install", "--data DIR --cert FILE")
	nf := addNodeFlags(fs, e)
	certFile := fs.String("cert", "", "the signed certificate from headquarters (lifeline ca sign)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *certFile == "" {
		return usagef("--cert is required")
	}
	bundle, err := os.ReadFile(*certFile)
	if err != nil {
		return err
	}
	n, err := nf.open(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.Install(ctx, bundle); err != nil {
		return fmt.Errorf("%s: %w", *certFile, err)
	}
	c := n.Credentials()
	fmt.Fprintf(e.stdout, "enrolled %s until %s\n", c.Claims, c.Cert.NotAfter.Format("2006-01-02"))
	return nil
}
