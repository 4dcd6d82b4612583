package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"lifeline/node/identity"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// People (docs/security.md, "People, not only laptops"): several
// responders share one laptop, and each signs in on it with a name and a
// passphrase. The laptop keeps a verifier of each passphrase (Argon2id),
// never the passphrase. A change carries the name of the person who
// signed in as its author; the node's signature over the change's chain
// vouches that the person signed in there. Headquarters revokes a person
// on a laptop without revoking the laptop: a signed notice, passed on with
// the revocations of nodes, after which the laptop refuses the person's
// sign-in.

// personRevocation is the body of a noticePersonRevoked.
type personRevocation struct {
	Node   syncproto.NodeID `cbor:"1,keyasint"`
	Name   string           `cbor:"2,keyasint"`
	Reason string           `cbor:"3,keyasint,omitempty"`
	At     int64            `cbor:"4,keyasint"` // Unix milliseconds
}

// Errors of signing in.
var (
	ErrNoPerson      = errors.New("no person of that name signs in here")
	ErrPersonRevoked = errors.New("headquarters revoked this person on this node")
	ErrSignIn        = errors.New("this node's people sign in to change records")
)

// maxPersonName bounds a person's name, in characters.
const maxPersonName = 64

// personName is a name as kept (spaces collapsed) and as compared (folded
// to lower case), or what is wrong with it.
func personName(name string) (kept, folded string, err error) {
	kept = strings.Join(strings.Fields(name), " ")
	switch {
	case kept == "":
		return "", "", errors.New("a person needs a name")
	case !utf8.ValidString(kept) || utf8.RuneCountInString(kept) > maxPersonName:
		return "", "", fmt.Errorf("a person's name is text of at most %d characters", maxPersonName)
	case Printable(kept) != kept:
		return "", "", errors.New("a person's name holds characters that do not print")
	}
	return kept, FoldName(kept), nil
}

// foldName is a person's name as names are compared (spaces collapsed,
// lower case), whether or not it is one personName takes.
func FoldName(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// Person is someone who signs in on this node.
type Person struct {
	Name    string `json:"name"`
	Added   string `json:"added"`
	Revoked bool   `json:"revoked,omitempty"`
}

// AddPerson lets a person sign in here with passphrase, which must pass
// identity.CheckPassphrase. It returns the name as kept.
func (n *Node) AddPerson(ctx context.Context, name string, passphrase []byte) (string, error) {
	kept, folded, err := personName(name)
	if err != nil {
		return "", err
	}
	if revoked, err := n.store.PersonRevoked(ctx, n.Self().ID, folded); err != nil || revoked {
		return "", errors.Join(err, fmt.Errorf("%s: %w", kept, ErrPersonRevoked))
	}
	v, err := identity.NewVerifier(passphrase)
	if err != nil {
		return "", err
	}
	if err := n.store.AddPerson(ctx, store.Person{Folded: folded, Name: kept, Verifier: v, Added: time.Now()}); err != nil {
		return "", fmt.Errorf("%s: %w", kept, err)
	}
	return kept, nil
}

// RemovePerson stops a person signing in here.
func (n *Node) RemovePerson(ctx context.Context, name string) error {
	_, folded, err := personName(name)
	if err != nil {
		return err
	}
	removed, err := n.store.RemovePerson(ctx, folded)
	if err == nil && !removed {
		err = fmt.Errorf("%s: %w", name, ErrNoPerson)
	}
	return err
}

// People are those who sign in here.
func (n *Node) People(ctx context.Context) ([]Person, error) {
	ps, err := n.store.People(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Person, len(ps))
	for i, p := range ps {
		revoked, err := n.store.PersonRevoked(ctx, n.Self().ID, p.Folded)
		if err != nil {
			return nil, err
		}
		out[i] = Person{Name: p.Name, Added: p.Added.Format(time.RFC3339), Revoked: revoked}
	}
	return out, nil
}

// SignsIn says whether people sign in on this node to change records:
// once one person was added, every change needs one.
func (n *Node) SignsIn(ctx context.Context) (bool, error) {
	ps, err := n.store.People(ctx)
	return len(ps) > 0, err
}

// SignIn checks a person's passphrase and returns the name their changes
// carry. Its error wraps ErrNoPerson, ErrPersonRevoked or
// identity.ErrPassphrase.
func (n *Node) SignIn(ctx context.Context, name string, passphrase []byte) (string, error) {
	kept, folded, err := personName(name)
	if err != nil {
		return "", err
	}
	ps, err := n.store.People(ctx)
	if err != nil {
		return "", err
	}
	for _, p := range ps {
		if p.Folded != folded {
			continue
		}
		if revoked, err := n.store.PersonRevoked(ctx, n.Self().ID, folded); err != nil || revoked {
			return "", errors.Join(err, fmt.Errorf("%s: %w", p.Name, ErrPersonRevoked))
		}
		if err := identity.CheckVerifier(p.Verifier, passphrase); err != nil {
			return "", fmt.Errorf("%s: %w", p.Name, err)
		}
		return p.Name, nil
	}
	return "", fmt.Errorf("%s: %w", kept, ErrNoPerson)
}

// SetPersonPassphrase gives a person a new passphrase, once the old one
// signs them in.
func (n *Node) SetPersonPassphrase(ctx context.Context, name string, old, fresh []byte) error {
	kept, err := n.SignIn(ctx, name, old)
	if err != nil {
		return err
	}
	v, err := identity.NewVerifier(fresh)
	if err != nil {
		return err
	}
	_, folded, _ := personName(kept)
	return n.store.SetPersonVerifier(ctx, folded, v)
}

// RevokePerson is headquarters revoking a person on a node: the notice,
// signed by this HQ node, is kept and passed on in every hello and bundle
// with the revocations of nodes, and the node named refuses the person's
// sign-in once it holds it.
func (n *Node) RevokePerson(ctx context.Context, on syncproto.NodeID, name, reason string) error {
	if !n.Self().Role.Decides() {
		return fmt.Errorf("only headquarters revokes a person: this node is a %s", n.Self().Role)
	}
	kept, folded, err := personName(name)
	if err != nil {
		return err
	}
	if len(reason) > syncproto.MaxMessageLen {
		return fmt.Errorf("a reason of %d bytes: at most %d", len(reason), syncproto.MaxMessageLen)
	}
	r := personRevocation{Node: on, Name: kept, Reason: reason, At: time.Now().UnixMilli()}
	msg, err := n.signNotice(noticePersonRevoked, &r)
	if err != nil {
		return err
	}
	_, err = n.store.AddPersonRevocation(ctx, store.PersonRevocation{Node: on, Folded: folded, Name: kept, At: r.At, Notice: msg})
	return err
}

// learnPersonRevocation keeps a notice of a person revoked that a peer,
// a bundle or gossip brought, once it checks; one known already is not
// checked again.
func (n *Node) learnPersonRevocation(ctx context.Context, nt *notice, msg []byte) error {
	if nt.Kind != noticePersonRevoked {
		return fmt.Errorf("a notice of kind %d, not a person's revocation", nt.Kind)
	}
	var r personRevocation
	if err := syncproto.Unmarshal(nt.Body, &r); err != nil {
		return fmt.Errorf("a person's revocation: %v", err)
	}
	kept, folded, err := personName(r.Name)
	if err != nil || kept != r.Name || r.Node.IsZero() || len(r.Reason) > syncproto.MaxMessageLen {
		return fmt.Errorf("%w: a person's revocation of no node or no name", errNotice)
	}
	if known, err := n.store.PersonRevoked(ctx, r.Node, folded); err != nil || known {
		return err
	}
	if err := n.trust.checkNotice(ctx, nt); err != nil {
		return err
	}
	newly, err := n.store.AddPersonRevocation(ctx, store.PersonRevocation{Node: r.Node, Folded: folded, Name: kept, At: r.At, Notice: msg})
	if newly && r.Node == n.Self().ID {
		n.log.Warn("headquarters revoked a person on this node: they can no longer sign in here", "person", kept)
	}
	return err
}
