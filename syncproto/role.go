package syncproto

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what a node is in a deployment, as its certificate says. It is
// spelled the same in certificates, hellos, gossip and the store.
type Role string

// The roles, in the order people meet them. ONLY APPEND: a role's spelling
// is in every certificate headquarters signed.
const (
	RoleField Role = "field" // a responder's laptop
	RoleRelay Role = "relay" // a district office
	RoleHQ    Role = "hq"    // headquarters or the alternate
)

// Roles lists every role.
var Roles = []Role{RoleField, RoleRelay, RoleHQ}

// ParseRole reads a role as people type it.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", fmt.Errorf("role %.80q: one of %s", s, RoleList())
	}
	return r, nil
}

// RoleList is the roles as a comma-separated list, for messages.
func RoleList() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// InLedger reports whether nodes of this role take part in the ledger:
// relays and headquarters.
func (r Role) InLedger() bool { return r == RoleRelay || r == RoleHQ }

// Decides reports whether this role makes the deployment's decisions:
// enrollments, revocations, kits, conflicts decided for everyone. Only
// headquarters does.
func (r Role) Decides() bool { return r == RoleHQ }

// Field reports whether r is a responder's laptop.
func (r Role) Field() bool { return r == RoleField }

func (r Role) String() string { return string(r) }
