package ledger

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"lifeline/node/identity"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Tx is the ledger state inside one transaction. Handlers read and write
// only through it, so that every voter, applying the same entries, holds
// the same state.
type Tx interface {
	Committed(st syncproto.Stream) (uint64, error)
	SetCommitted(st syncproto.Stream, seq uint64, head syncproto.Hash) error
	// Numbered returns those of the records that have a case number.
	Numbered(records []syncproto.RecordID) (map[syncproto.RecordID]bool, error)
	// NextCases counts n more numbers of the prefix and returns the first
	// of them.
	NextCases(prefix string, n int) (uint64, error)
	SetCases(cases []Case) error
	Revoke(r Revoke) error
	// Revoked reports whether the ledger revoked a node (by an entry
	// before this one).
	Revoked(node syncproto.NodeID) (bool, error)
	Enroll(e Enrolled) error
	// Enrolled returns a node the ledger enrolled.
	Enrolled(node syncproto.NodeID) (Enrolled, bool, error)
	// SetMember makes a node a member of the ledger, a voter or not, at
	// addr if headquarters knows it ("" keeps what was known); RemoveMember
	// makes it none.
	SetMember(node syncproto.NodeID, voter bool, addr string) error
	RemoveMember(node syncproto.NodeID) error
	// KitVersion is the version of the kit called name the ledger holds,
	// if it holds one; PutKit replaces it.
	KitVersion(name string) (string, bool, error)
	PutKit(k Kit) error
	PutResolution(r Resolve) error
	// Link is the decision a pair of records holds, if any; PutLink
	// keeps one, replacing the one the pair had: the last applied is the
	// pair's state.
	Link(a, b syncproto.RecordID) (Link, bool, error)
	PutLink(l Link) error
	// Considered reports whether a decision (by its Digest) was
	// considered before, and whether it was refused then; Consider
	// records that it was now.
	Considered(digest [32]byte) (seen, refused bool, err error)
	Consider(digest [32]byte, refused bool) error
}

// Case is a record's case number.
type Case struct {
	Record syncproto.RecordID
	Number string
}

// Store keeps the ledger state durably, beside the node's records.
type Store interface {
	// LedgerApply runs fn in one transaction that also records index and
	// term as applied, unless index is not after the last one applied, in
	// which case it does nothing and returns false.
	LedgerApply(ctx context.Context, index, term uint64, fn func(Tx) error) (bool, error)
	// LedgerSnapshot writes the whole ledger state; LedgerRestore replaces
	// it with what a snapshot holds, whose enrolled nodes' certificates
	// must be of the deployment whose CA certificate is ca
	// (ReadEnrolled).
	LedgerSnapshot(ctx context.Context, w io.Writer) error
	LedgerRestore(ctx context.Context, r io.Reader, ca *x509.Certificate) error
}

// FSM is the ledger's state machine: every member applies the same
// entries, in the same order, and so holds the same state. Apply, Snapshot
// and Restore are called one at a time (by Raft, through the ledger plane).
type FSM struct {
	store Store
	// ca is the deployment's CA certificate: decisions and enrollments are
	// checked against it.
	ca  *x509.Certificate
	log *slog.Logger
	// stop ends the retries of an entry the store cannot save; halted,
	// once an entry was given up, keeps every later one from applying:
	// a restart then applies them all, in order.
	stop     chan struct{}
	stopOnce sync.Once
	halted   atomic.Bool
	// OnApply, if set, hears of each command applied (after it is durable).
	OnApply func(Applied)
}

// NewFSM makes the state machine over a store, for a deployment whose CA
// certificate is ca.
func NewFSM(s Store, ca *x509.Certificate, log *slog.Logger) *FSM {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &FSM{store: s, ca: ca, log: log, stop: make(chan struct{})}
}

// Stop gives up an entry the store cannot save, for a shutdown.
func (f *FSM) Stop() { f.stopOnce.Do(func() { close(f.stop) }) }

// errHalted is what entries after one given up return.
var errHalted = errors.New("ledger: stopped before this entry; it applies at the next start")

// retryMax is the longest wait between two tries of an entry.
const retryMax = 5 * time.Second

// apply records one entry in the store, trying again while the store
// cannot save it (a full disk): the entry, and every one after it, waits
// rather than being skipped, and nothing crashes. Only Stop ends the
// wait; then the entry is left for the next start.
func (f *FSM) apply(index, term uint64, fn func(Tx) error) error {
	delay := 50 * time.Millisecond
	for {
		_, err := f.store.LedgerApply(context.Background(), index, term, fn)
		if err == nil {
			return nil
		}
		f.log.Error("ledger: cannot save an entry; trying again", "index", index, "err", err, "in", delay)
		select {
		case <-f.stop:
			f.halted.Store(true)
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, retryMax)
	}
}

// ErrRefused is wrapped by the error of an entry the ledger refused: one
// every member refuses alike (not signed by who may decide it, of a node
// revoked meanwhile, a kit older than the ledger's), which proposing again
// is refused again. Failing to reach the leader or to commit is not a
// refusal; the entry may go through later.
var ErrRefused = errors.New("the ledger refused the entry")

// ErrApplied wraps ErrRefused for a decision refused because the ledger
// applied it already: a proposal tried again after a timeout whose first
// try went through, or a replay. For whoever proposed it, it is done.
var ErrApplied = fmt.Errorf("%w: a decision applies once, and this one was applied already", ErrRefused)

// Considered is the refusal of a decision the ledger considered before:
// ErrApplied if it applied it then, ErrRefused if it refused it then.
func Considered(d *Decision, refused bool) error {
	at := time.UnixMilli(d.At).UTC().Format(time.RFC3339Nano)
	if refused {
		return fmt.Errorf("%w: a %s signed at %s, refused already: a decision is considered once", ErrRefused, d.Type, at)
	}
	return fmt.Errorf("%w (a %s signed at %s)", ErrApplied, d.Type, at)
}

// Result is what Apply returns through raft.ApplyFuture.Response.
type Result struct {
	// Err is why the entry was refused, nil if it was applied.
	Err error
	// Committed counts the changes a Commit added to the ledger.
	Committed int
}

// Applied is a command the state machine applied: the entry, and the
// command it carried (a decision's own type and command, once checked).
type Applied struct {
	Entry Entry
	Type  CommandType
	Cmd   any
}

// Entry is one command of the replicated log: where it stands, when the
// leader appended it (by the leader's clock, as the entry carries it to
// every member; zero if not known), and its bytes (a type byte, then the
// command's CBOR).
type Entry struct {
	Index, Term uint64
	At          time.Time
	Data        []byte
}

// Apply applies one log entry. An entry that does not decode is refused
// (and logged) on every node alike; it changes nothing.
func (f *FSM) Apply(l Entry) Result {
	if f.halted.Load() {
		return Result{Err: errHalted}
	}
	t, cmd, err := Decode(l.Data)
	if err != nil {
		f.log.Error("ledger: refused an entry", "index", l.Index, "err", err)
		if aerr := f.apply(l.Index, l.Term, func(Tx) error { return nil }); aerr != nil {
			return Result{Err: aerr}
		}
		return Result{Err: err}
	}
	var res Result
	err = f.apply(l.Index, l.Term, func(tx Tx) error {
		var serr error
		res.Committed, res.Err, serr = f.handle(tx, t, cmd, l.At)
		return serr
	})
	if err != nil {
		return Result{Err: err}
	}
	if res.Err != nil {
		f.log.Warn("ledger: refused an entry", "index", l.Index, "err", res.Err)
		return res
	}
	if f.OnApply != nil {
		a := Applied{Entry: l, Type: t, Cmd: cmd}
		if d, ok := cmd.(*Decision); ok {
			a.Type, a.Cmd = d.Type, d.Cmd
		}
		f.OnApply(a)
	}
	return res
}

// handle selects the command's handler. It returns the changes a commit
// added, why the entry is refused (the same on every member: a refused
// entry changes nothing), and any error of the store (the entry is then
// tried again). appended is when the leader appended the entry.
func (f *FSM) handle(tx Tx, t CommandType, cmd any, appended time.Time) (int, error, error) {
	switch c := cmd.(type) {
	case *Commit:
		n, err := commit(tx, c)
		return n, nil, err
	case *Decision:
		signer, err := c.Verify(f.ca, tx.Revoked, appended)
		if err == nil {
			err = replaced(tx, c, signer)
		}
		if err != nil {
			if errors.Is(err, ErrNotHQ) {
				return 0, err, nil
			}
			return 0, nil, err
		}
		// A decision is considered once, whatever came of it: its bytes
		// sent again (by a member replaying the log it holds, or a
		// forward tried twice) change nothing.
		seen, wasRefused, err := tx.Considered(c.Digest())
		if err != nil {
			return 0, nil, err
		}
		if seen {
			return 0, Considered(c, wasRefused), nil
		}
		refused, err := f.decide(tx, c.Type, c.Cmd, signer)
		if err != nil {
			return 0, nil, err
		}
		return 0, refused, tx.Consider(c.Digest(), refused != nil)
	}
	return 0, nil, fmt.Errorf("ledger: no handler for %s", t)
}

// replaced refuses a decision signed with a certificate that a newer one
// of the same key, which the ledger enrolled, changed: a node is what the
// newest certificate of its key says. A relay moved from Cayo to Toledo
// does not go on deciding for Cayo with its older certificate until that
// ends, nor an HQ node signed a relay's certificate as headquarters. One
// renewed with the same claims is not refused.
func replaced(tx Tx, d *Decision, signer identity.Claims) error {
	e, ok, err := tx.Enrolled(signer.Node)
	if err != nil || !ok {
		return err
	}
	newer, err := x509.ParseCertificate(e.Cert)
	if err != nil {
		return nil
	}
	cert, err := x509.ParseCertificate(d.Cert)
	if err != nil || !identity.Supersedes(newer, cert) {
		return nil
	}
	return fmt.Errorf("%w: a %s signed by %s with a certificate the ledger replaced by one of %s, %s",
		ErrNotHQ, d.Type, signer, e.Role, cmp.Or(e.District, "no district"))
}

// decide applies one of headquarters' decisions, once its signature was
// checked: signer is who signed it.
func (f *FSM) decide(tx Tx, t CommandType, cmd any, signer identity.Claims) (refused, err error) {
	switch c := cmd.(type) {
	case *Enroll:
		e, err := ReadEnrolled(c.Cert, f.ca)
		if err != nil {
			return fmt.Errorf("ledger: an enrollment whose certificate is not this deployment's: %w", err), nil
		}
		if gone, err := tx.Revoked(e.Node); err != nil || gone {
			return fmt.Errorf("ledger: an enrollment of %s, which headquarters revoked", e.Name), err
		}
		if err := tx.Enroll(e); err != nil {
			return nil, err
		}
		if e.Role.InLedger() {
			return nil, tx.SetMember(e.Node, e.Role.Decides() || c.Voter, c.Addr)
		}
		return nil, nil
	case *Revoke:
		if err := tx.Revoke(*c); err != nil {
			return nil, err
		}
		return nil, tx.RemoveMember(c.Node)
	case *Member:
		e, ok, err := tx.Enrolled(c.Node)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
			return fmt.Errorf("ledger: a member %s the ledger never enrolled", c.Node), nil
		case !e.Role.InLedger():
			return fmt.Errorf("ledger: %s is a %s node, which takes no part in the ledger", e.Name, e.Role), nil
		case c.Remove:
			return nil, tx.RemoveMember(c.Node)
		}
		if gone, err := tx.Revoked(c.Node); err != nil || gone {
			return fmt.Errorf("ledger: %s was revoked", e.Name), err
		}
		return nil, tx.SetMember(c.Node, c.Voter || e.Role.Decides(), c.Addr)
	case *Kit:
		return kit(tx, c)
	case *Resolve:
		return nil, tx.PutResolution(*c)
	case *Review:
		// Checked with its signature; the reviewing node writes it into
		// the record when it applies it (node's onApply).
		return nil, nil
	case *Link:
		return link(tx, c, signer)
	}
	return fmt.Errorf("ledger: no handler for %s", t), nil
}

// link keeps a decision on a pair as the pair's state. The ledger holds no
// records: a relay's decision names its district, and whether the pair is
// of it only the nodes that hold the records can tell (node.linkHolds).
// So a relay's decision takes the place only of one naming its district:
// a relay of Toledo, naming Toledo, would otherwise put a decision no node
// lets stand on people of Cayo in the place of headquarters' or Cayo's
// relay's, and leave the pair undecided.
func link(tx Tx, l *Link, signer identity.Claims) (refused, err error) {
	if !signer.Role.Decides() {
		held, ok, err := tx.Link(l.A, l.B)
		if err != nil {
			return nil, err
		}
		if ok && held.District != l.District {
			return fmt.Errorf("ledger: a decision on %s and %s by %s, a relay of %s, in place of one naming %s: only headquarters decides that pair again",
				l.A, l.B, signer.Name, l.District, cmp.Or(held.District, "no district")), nil
		}
	}
	return nil, tx.PutLink(*l)
}

// kit keeps the highest version of each kit: a version not after the one
// held (schemas.CompareVersions: dotted numbers, compared number by number
// on their digits) is refused, so that a replayed or older decision never
// takes a kit back. Whether the kit is a compatible successor is checked
// where it is published and where every node loads it, not here: the state
// machine does not read kit files.
func kit(tx Tx, c *Kit) (refused, err error) {
	if !schemas.ValidVersion(c.Version) {
		return fmt.Errorf("ledger: kit %s: %q is not a version like 1.2.3", c.Name, c.Version), nil
	}
	held, ok, err := tx.KitVersion(c.Name)
	if err != nil {
		return nil, err
	}
	if ok && schemas.CompareVersions(c.Version, held) <= 0 {
		return fmt.Errorf("ledger: kit %s %s is not after %s, the version the ledger holds", c.Name, c.Version, held), nil
	}
	return nil, tx.PutKit(*c)
}

// commit extends each stream's committed range. A range that does not
// start right after what is committed is skipped whole (a proposer's stale
// view, or a duplicate); what it would commit comes in a later entry.
// New records get the next case number of their district and year, once.
func commit(tx Tx, c *Commit) (int, error) {
	n := 0
	for _, r := range c.Ranges {
		have, err := tx.Committed(r.Stream)
		if err != nil {
			return n, err
		}
		if r.From != have+1 {
			continue
		}
		if err := tx.SetCommitted(r.Stream, r.To, r.Head); err != nil {
			return n, err
		}
		n += int(r.To - r.From + 1)
	}
	// The numbers are counted by block, one counter update per district
	// and year, but given as one by one in the entry's order would: the
	// n-th new record of a prefix in the entry gets the prefix's n-th next
	// number.
	type block struct {
		prefix string
		recs   []syncproto.RecordID
	}
	var blocks []*block
	byPrefix := map[string]*block{}
	ids := make([]syncproto.RecordID, len(c.New))
	for i, nr := range c.New {
		ids[i] = nr.Record
	}
	seen, err := tx.Numbered(ids)
	if err != nil {
		return n, err
	}
	for _, nr := range c.New {
		if seen[nr.Record] {
			continue
		}
		seen[nr.Record] = true
		prefix := fmt.Sprintf("%s-%04d", nr.District, nr.Year)
		b := byPrefix[prefix]
		if b == nil {
			b = &block{prefix: prefix}
			byPrefix[prefix] = b
			blocks = append(blocks, b)
		}
		b.recs = append(b.recs, nr.Record)
	}
	var cases []Case
	for _, b := range blocks {
		first, err := tx.NextCases(b.prefix, len(b.recs))
		if err != nil {
			return n, err
		}
		for i, rec := range b.recs {
			cases = append(cases, Case{Record: rec, Number: fmt.Sprintf("%s-%06d", b.prefix, first+uint64(i))})
		}
	}
	return n, tx.SetCases(cases)
}

// Snapshot writes the ledger state as it is now. It may run while Apply
// does: the store's snapshot is one read transaction, consistent with some
// applied index, which the snapshot records; entries after it are replayed
// on restore, and LedgerApply skips those already in.
func (f *FSM) Snapshot(w io.Writer) error { return f.store.LedgerSnapshot(context.Background(), w) }

// Restore replaces the ledger state with a snapshot's, whole.
func (f *FSM) Restore(r io.Reader) error {
	return f.store.LedgerRestore(context.Background(), r, f.ca)
}
