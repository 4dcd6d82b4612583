package main

import (
	"context"
	"fmt"
	"strings"

	"lifeline/node"
	"lifeline/schemas"
	"lifeline/syncproto"
)

func runDigest(ctx context.Context, e *env, fs *flagSet, args []string) error {
	scope := fs.String("scope", "", `only the records of these scopes, comma-separated: "national" and district names, or "kept" for the scopes this node keeps whole (default every record it holds)`)
	return fs.onNode(ctx, args, func(n *node.Node) error {
		scopes, err := parseScopes(*scope, n)
		if err != nil {
			return err
		}
		d, err := n.DigestOf(ctx, scopes)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%x\n", d)
		return nil
	})
}

// parseScopes reads --scope: nil (every record) when empty.
func parseScopes(s string, n *node.Node) ([]uint8, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return nil, nil
	case "kept":
		if sc := n.Scopes(); sc != nil {
			return sc, nil
		}
		return nil, nil
	}
	out := []uint8{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if strings.EqualFold(name, schemas.ScopeNational) {
			out = append(out, syncproto.National)
			continue
		}
		d, ok := schemas.District(name)
		if !ok {
			return nil, fmt.Errorf("--scope: %.80q is neither %q nor a district (%s)", name, schemas.ScopeNational, strings.Join(schemas.Districts, ", "))
		}
		out = append(out, schemas.DistrictScope(d))
	}
	return out, nil
}
