package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"lifeline/fieldkits"
	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/ledgerplane"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// ErrNotInitialised means a data folder holds no node yet.
var ErrNotInitialised = errors.New("no Lifeline node in this data folder")

// ErrInitialised means a data folder already holds a node.
var ErrInitialised = errors.New("data folder already holds a Lifeline node")

// ErrKeySealed is wrapped by Open's error when the node's key is sealed
// with a passphrase and Config.Passphrase gives none: give it (the
// command line takes --passphrase-file FILE or $LIFELINE_PASSPHRASE).
var ErrKeySealed = identity.ErrKeySealed

// ErrKeySealedAlready is wrapped by SealKey's error when the node's key is
// sealed already.
var ErrKeySealedAlready = identity.ErrKeySealedAlready

// ErrPassphrase is wrapped by the error of a passphrase that does not open
// the node's key, or the CA's: it is the wrong one, or the file was
// altered.
var ErrPassphrase = identity.ErrPassphrase

// Node is one Lifeline node over its data folder: its identity, its kits
// and its store, and everything a person or a program does with them. It
// is fixed once opened (but for what the ledger publishes and an
// enrollment installs); what runs is a Daemon (see Start).
type Node struct {
	cfg   Config
	log   *slog.Logger
	key   *identity.Key
	creds atomic.Pointer[identity.Credentials] // nil until enrolled
	// signed is the Unix millisecond of the last decision this process
	// signed (signTime).
	signed atomic.Int64
	store  *store.SQLite
	trust  *trust
	kits   atomic.Pointer[fieldkits.Catalogue]
	clock  *syncproto.Clock
	lang   atomic.Pointer[string] // labels and texts of record views
	// started: the node holds changes of another node's, so it no longer
	// starts from a snapshot.
	started atomic.Bool
	// snapping: a snapshot is being read (one at a time).
	snapping atomic.Bool

	embedded *fieldkits.Catalogue
	// data is the data keys that open personal fields (personal.go).
	data dataKeys
	// photos is the photo store, opened on first use (photos.go).
	photos photoStore
	// photoIdx is what the records name of photos, kept between sessions.
	photoIdx photoIndex
	// peopleIdx is the people records' match index (match_index.go).
	peopleIdx peopleIndex
}

// Lang is the language record views are given in: "en" or "es".
func (n *Node) Lang() string { return *n.lang.Load() }

// SetLang changes the language record views are given in, for an app whose
// user switches language while the node runs.
func (n *Node) SetLang(lang string) error {
	if !slices.Contains(schemas.Languages, lang) {
		return fmt.Errorf("language %q: one of %s", lang, strings.Join(schemas.Languages, ", "))
	}
	n.lang.Store(&lang)
	return nil
}

// Init makes a new node in cfg.DataDir: its key pair and an empty store. The
// folder may exist but must not hold a node. With cfg.SealKey the key is
// sealed with the passphrase cfg.Passphrase gives, asked before anything
// is written.
func Init(ctx context.Context, cfg Config, id Identity) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := id.Validate(); err != nil {
		return err
	}
	dbPath := filepath.Join(cfg.DataDir, store.FileName)
	keyPath := filepath.Join(cfg.DataDir, identity.KeyFile)
	for _, p := range []string{dbPath, keyPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%w: %s exists", ErrInitialised, p)
		}
	}
	var passphrase []byte
	if cfg.SealKey {
		if cfg.Passphrase == nil {
			return errors.New("no passphrase to seal the node's key with (Config.Passphrase)")
		}
		p, err := cfg.Passphrase()
		if err != nil {
			return err
		}
		if err := identity.CheckPassphrase(p); err != nil {
			return fmt.Errorf("the node's passphrase: %w", err)
		}
		passphrase = p
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return err
	}
	key, err := identity.NewKey()
	if err != nil {
		return err
	}
	if passphrase != nil {
		err = key.SaveSealed(keyPath, passphrase)
	} else {
		err = key.Save(keyPath)
	}
	if err != nil {
		return err
	}
	self := store.Self{ID: key.ID(), Name: id.Name, Role: id.Role, District: id.District, Created: time.Now().UTC().Format(time.RFC3339)}
	s, err := store.Create(ctx, dbPath, self, store.Options{Key: key})
	if err != nil {
		os.Remove(keyPath)
		return err
	}
	return s.Close()
}

// Initialised reports whether dir holds a node.
func Initialised(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, store.FileName))
	return err == nil
}

// Open opens the node in cfg.DataDir. A sealed key is opened with the
// passphrase cfg.Passphrase gives; without one, the error wraps
// ErrKeySealed, and with a wrong one, ErrPassphrase.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(cfg.DataDir, store.FileName)
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (run lifeline init --data %s ...)", ErrNotInitialised, cfg.DataDir, cfg.DataDir)
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	key, err := identity.LoadKey(filepath.Join(cfg.DataDir, identity.KeyFile), cfg.Passphrase)
	if err != nil {
		return nil, err
	}
	kits, err := fieldkits.Embedded()
	if err != nil {
		return nil, err
	}
	var now func() time.Time
	if off := cfg.ClockOffset; off != 0 {
		now = func() time.Time { return time.Now().Add(off) }
	}
	clock := syncproto.NewClock(now, cfg.MaxSkew)
	tr := newTrust()
	n := &Node{cfg: cfg, log: cfg.Log, key: key, trust: tr, clock: clock}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	s, err := store.Open(ctx, dbPath, store.Options{Key: key, Clock: clock, VerifyHead: tr.verifyHead, Admit: n.admit, Log: n.log, Tally: reportTally})
	if err != nil {
		return nil, err
	}
	n.store = s
	n.lang.Store(&cfg.Lang)
	tr.store, tr.log, tr.learned = s, n.log, n.learnedCerts
	n.embedded = kits
	if err := n.loadKits(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := n.loadCredentials(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := n.loadDataKeys(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// From here the store keeps what the records name of photos as they
	// change (photorefs.go).
	n.photoIdx.mu.Lock()
	err = n.photoIdx.define(ctx, n)
	n.photoIdx.mu.Unlock()
	if err != nil {
		s.Close()
		return nil, err
	}
	return n, nil
}

// KeySealed says whether the key of the node in dataDir is sealed with a
// passphrase: Open then needs Config.Passphrase.
func KeySealed(dataDir string) (bool, error) {
	path := filepath.Join(dataDir, identity.KeyFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("%w: %s holds no %s", ErrNotInitialised, dataDir, identity.KeyFile)
	}
	return identity.KeyFileSealed(path)
}

// SealKey seals, in place, the key of the node in dataDir, made in the
// clear, with the passphrase passphrase gives (asked only when the key is
// in the clear; it must pass CheckPassphrase): the key file is replaced
// whole or not at all. Gossip keys still in the clear are encrypted with
// the key too. The error wraps ErrKeySealedAlready when the key is sealed
// already. Copies made before (a backup of the folder) still hold the key
// in the clear, and the old file's blocks may remain on the disk until
// overwritten.
func SealKey(dataDir string, passphrase func() ([]byte, error)) error {
	path := filepath.Join(dataDir, identity.KeyFile)
	sealed, err := KeySealed(dataDir)
	if err != nil {
		return err
	}
	if err := checkDataDir(dataDir); err != nil {
		return err
	}
	if sealed {
		return fmt.Errorf("%s: %w", path, ErrKeySealedAlready)
	}
	key, err := identity.LoadKey(path, nil)
	if err != nil {
		return err
	}
	p, err := passphrase()
	if err != nil {
		return err
	}
	if err := identity.CheckPassphrase(p); err != nil {
		return fmt.Errorf("the node's passphrase: %w", err)
	}
	if err := identity.SealKeyFile(path, p); err != nil {
		return err
	}
	keys := gossipKeyFile{path: filepath.Join(dataDir, gossip.KeyFile), key: key, log: slog.New(slog.DiscardHandler)}
	if fileExists(keys.path) {
		if _, err := keys.ReadKeys(); err != nil {
			return fmt.Errorf("the key is sealed, but the gossip keys: %w", err)
		}
	}
	return nil
}

// ChangeKeyPassphrase seals the key of the node in dataDir with a new
// passphrase: old gives the one it is sealed with, then next the new one,
// which must pass CheckPassphrase. Nothing else changes: what is encrypted
// with the node's key stays as it is.
func ChangeKeyPassphrase(dataDir string, old, next func() ([]byte, error)) error {
	if err := checkDataDir(dataDir); err != nil {
		return err
	}
	return identity.ChangeKeyPassphrase(filepath.Join(dataDir, identity.KeyFile), old, next)
}

// CheckKeyPassphrase says whether passphrase opens the node's sealed key
// file and it holds this node's key: the app's lock screen asks it. A
// wrong one gives an error wrapping ErrPassphrase.
func (n *Node) CheckKeyPassphrase(passphrase []byte) error {
	k, err := identity.LoadKey(filepath.Join(n.cfg.DataDir, identity.KeyFile), func() ([]byte, error) { return passphrase, nil })
	if err != nil {
		return err
	}
	if k.ID() != n.key.ID() {
		return fmt.Errorf("%s holds the key of node %s, not this node's (%s): it was replaced", filepath.Join(n.cfg.DataDir, identity.KeyFile), k.ID(), n.key.ID())
	}
	return nil
}

// loadCredentials reads the node's certificate and the CA's, if the node is
// enrolled, and records its own certificate among the nodes it knows, so
// that it travels with its changes.
func (n *Node) loadCredentials(ctx context.Context) error {
	creds, err := identity.LoadCredentials(n.cfg.DataDir, n.key)
	if errors.Is(err, identity.ErrNotEnrolled) {
		return nil
	}
	if err != nil {
		return err
	}
	creds.Revoked, creds.Superseded = n.revokedCheck, n.supersededCheck
	n.trust.setCA(creds.CA)
	n.creds.Store(creds)
	return n.trust.put(ctx, creds.Cert, creds.Claims)
}

// Enrolled reports whether the node holds a certificate from headquarters.
func (n *Node) Enrolled() bool { return n.creds.Load() != nil }

// Credentials are the node's certificate and key, nil until enrolled.
func (n *Node) Credentials() *identity.Credentials { return n.creds.Load() }

// Key is the node's signing key.
func (n *Node) Key() *identity.Key { return n.key }

// Close closes the node's store.
func (n *Node) Close() error { return n.store.Close() }

// Self is this node's identity.
func (n *Node) Self() store.Self { return n.store.Self() }

// Kits are the field kits this node knows.
func (n *Node) Kits() *fieldkits.Catalogue { return n.kits.Load() }

// loadKits makes the node's catalogue: the kits embedded in the binary,
// and the ones headquarters published through the ledger where they are
// newer. A published kit replaces the embedded one only as its compatible
// successor (fieldkits.Catalogue.ParseUpdate): one that does not load, is
// not the kit and version the ledger names, or would withdraw a promise
// the embedded kit made (a personal field, a lane, a bound) is skipped,
// loudly, and the embedded kit stays.
func (n *Node) loadKits(ctx context.Context) error {
	published, err := n.store.PublishedKits(ctx)
	if err != nil {
		return err
	}
	// And the kits peers brought, headquarters' signed decisions: a node
	// outside the ledger holds those alone. Of one kit, the latest wins.
	noticed, _, err := n.store.NoticedKits(ctx)
	if err != nil {
		return err
	}
	latest := map[string]int{}
	var all []ledger.Kit
	for _, p := range append(published, noticed...) {
		if i, ok := latest[p.Name]; ok {
			if schemas.CompareVersions(p.Version, all[i].Version) > 0 {
				all[i] = p
			}
			continue
		}
		latest[p.Name] = len(all)
		all = append(all, p)
	}
	var kits []*schemas.Kit
	for _, p := range all {
		k, err := n.embedded.ParseUpdate(p.Name+".yaml (published "+p.Version+")", p.Body)
		switch {
		case errors.Is(err, fieldkits.ErrNotNewer):
			n.log.Debug("a published kit is not newer than the one built in", "kit", p.Name, "version", p.Version)
			continue
		case err != nil:
			n.log.Error("a published kit is skipped: it does not load, or it is not a compatible successor of the kit built in", "kit", p.Name, "version", p.Version, "err", err)
			continue
		case k.Name != p.Name || k.Version != p.Version:
			n.log.Error("a published kit is skipped: its file is not the kit the ledger names", "kit", p.Name, "version", p.Version, "file_kit", k.Name, "file_version", k.Version)
			continue
		}
		kits = append(kits, k)
	}
	cat, err := n.embedded.With(kits)
	if err != nil {
		n.log.Error("published kits clash with the embedded ones; using the embedded", "err", err)
		cat = n.embedded
	}
	n.kits.Store(cat)
	return nil
}

// Config is the node's configuration.
func (n *Node) Config() Config { return n.cfg }

// Digest hashes the node's records and conflicts: equal on two nodes
// exactly when they show the same records.
func (n *Node) Digest(ctx context.Context) (syncproto.Hash, error) { return n.store.Digest(ctx) }

// DigestOf is the digest of the records of the scopes named (every record
// for nil): see Scopes.
func (n *Node) DigestOf(ctx context.Context, scopes []uint8) (syncproto.Hash, error) {
	if scopes == nil {
		return n.store.Digest(ctx)
	}
	keys := make([]string, len(scopes))
	for i, sc := range scopes {
		keys[i] = store.ScopeKey(sc)
	}
	return n.store.DigestOf(ctx, keys)
}

// Vector is what this node holds, per origin.
func (n *Node) Vector(ctx context.Context) (syncproto.Vector, error) { return n.store.Vector(ctx) }

// IntegrityCheck runs the store's integrity check.
func (n *Node) IntegrityCheck(ctx context.Context) (string, error) {
	return n.store.IntegrityCheck(ctx)
}

// Status is a node's state at a glance.
type Status struct {
	Node      string         `json:"node"`
	Name      string         `json:"name"`
	Role      syncproto.Role `json:"role"`
	District  string         `json:"district"`
	Records   map[string]int `json:"records"`
	Deleted   int            `json:"deleted"`
	Conflicts int            `json:"conflicts"`
	Changes   int            `json:"changes"`
	Held      int            `json:"held"`
	// Quarantined counts changes kept aside: their kit or the write
	// policy refuses them (Node.Quarantine lists them).
	Quarantined int `json:"quarantined"`
	Origins     int `json:"origins"`
	// Unconfirmed counts this node's changes the ledger is not known to
	// have committed.
	Unconfirmed int `json:"unconfirmed"`
	// Receipts counts the streams of which this node holds a receipt
	// headquarters signed.
	Receipts int          `json:"receipts"`
	Peers    []PeerStatus `json:"peers"`
	Raft     *RaftStatus  `json:"raft,omitempty"`
	// Certificate is until when the node's certificate is valid (RFC
	// 3339), "" before enrollment; Renew says it ends within
	// identity.RenewBefore, and the node should renew it.
	Certificate string `json:"certificate_until,omitempty"`
	Renew       bool   `json:"renew,omitempty"`
	// DataKeys are the data keys that open personal fields this node
	// holds: per district ("" for headquarters' own), the highest epoch.
	DataKeys map[string]uint32 `json:"data_keys"`
}

// PeerExpiry is how long a peer not heard of stays in the status: a
// laptop that left the response a month ago is not a peer any more.
const PeerExpiry = 30 * 24 * time.Hour

// PeerStatus is a peer as status shows it. Its name, role and district
// are its certificate's; a peer whose certificate this node does not hold
// has no name and is taken for a field laptop.
type PeerStatus struct {
	Node     string         `json:"node"`
	Name     string         `json:"name"`
	Role     syncproto.Role `json:"role"`
	District string         `json:"district"`
	Addr     string         `json:"addr,omitempty"`
	LastSeen string         `json:"last_seen,omitempty"`
	LastSync string         `json:"last_sync,omitempty"`
	Error    string         `json:"error,omitempty"`
	// Gossip is what gossip says of the peer while this node runs: alive,
	// dead (it stopped answering) or left (it said goodbye).
	Gossip string `json:"gossip,omitempty"`
}

// RaftStatus is the node's part in the ledger, on relays and HQ.
type RaftStatus struct {
	State  string `json:"state"`
	Leader string `json:"leader"`
	Height uint64 `json:"height"`
	Voter  bool   `json:"voter"`
	// AsOf is when the running node last recorded it (for a status read
	// by another process).
	AsOf string `json:"as_of,omitempty"`
	// Refused are the latest commands queued here that the ledger refused
	// (and that left the queue), oldest first.
	Refused []ledgerplane.Refused `json:"refused,omitempty"`
	// Queued are the decisions queued here that the ledger has not
	// applied yet, oldest first (at most 100): a revocation among them is
	// refused nowhere until it is.
	Queued []string `json:"queued,omitempty"`
}

// Status counts what the node holds.
func (n *Node) Status(ctx context.Context) (Status, error) {
	self := n.Self()
	c, err := n.store.Counts(ctx)
	if err != nil {
		return Status{}, err
	}
	v, err := n.store.Vector(ctx)
	if err != nil {
		return Status{}, err
	}
	st := Status{Node: self.ID.String(), Name: self.Name, Role: self.Role, District: self.District,
		Records: c.Records, Deleted: c.Deleted, Conflicts: c.Conflicts, Changes: c.Changes, Held: c.Held, Origins: len(v),
		Peers: []PeerStatus{}, DataKeys: n.DataKeys()}
	if st.Unconfirmed, err = n.unconfirmed(ctx); err != nil {
		return Status{}, err
	}
	receipts, err := n.store.ReceiptVector(ctx)
	if err != nil {
		return Status{}, err
	}
	st.Receipts = len(receipts)
	if st.Quarantined, err = n.store.QuarantineCount(ctx); err != nil {
		return Status{}, err
	}
	if creds := n.Credentials(); creds != nil {
		st.Certificate = creds.Cert.NotAfter.UTC().Format(time.RFC3339)
		st.Renew = n.now().After(creds.Cert.NotAfter.Add(-identity.RenewBefore))
	}
	if st.Peers, err = n.peers(ctx); err != nil {
		return Status{}, err
	}
	if !self.Role.Field() {
		st.Raft, err = n.raftStatus(ctx)
		if err != nil {
			return Status{}, err
		}
	}
	return st, nil
}

// peers are the peers heard of within PeerExpiry, as their certificates
// name them.
func (n *Node) peers(ctx context.Context) ([]PeerStatus, error) {
	peers, err := n.store.Peers(ctx)
	if err != nil {
		return nil, err
	}
	known, err := n.store.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	certs := make(map[syncproto.NodeID]store.NodeCert, len(known))
	for _, k := range known {
		certs[k.Node] = k
	}
	out := []PeerStatus{}
	now := n.now()
	for _, p := range peers {
		last := p.Seen
		if p.Synced.After(last) {
			last = p.Synced
		}
		if now.Sub(last) > PeerExpiry {
			continue
		}
		// The row's name is the one a session's certificate gave, if any.
		ps := PeerStatus{Node: p.Node.String(), Name: p.Name, Role: p.Role, District: p.District, Addr: p.Addr,
			LastSeen: fmtTime(p.Seen), LastSync: fmtTime(p.Synced), Error: p.Error, Gossip: p.State}
		if c, ok := certs[p.Node]; ok {
			ps.Name, ps.Role, ps.District = c.Name, c.Role, c.District
		}
		if ps.Role == "" {
			ps.Role = syncproto.RoleField
		}
		out = append(out, ps)
	}
	return out, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// unconfirmed counts this node's own changes the ledger is not known to
// have committed.
func (n *Node) unconfirmed(ctx context.Context) (int, error) {
	v, err := n.store.Vector(ctx)
	if err != nil {
		return 0, err
	}
	confirmed, err := n.store.Confirmed(ctx)
	if err != nil {
		return 0, err
	}
	self, total := n.Self().ID, 0
	for s, seq := range v {
		if s.Origin == self && seq > confirmed[s] {
			total += int(seq - confirmed[s])
		}
	}
	return total, nil
}

// raftStatus is the ledger state as the running node last recorded it
// (see ledgerplane.StatusKey), whichever process asks.
func (n *Node) raftStatus(ctx context.Context) (*RaftStatus, error) {
	v, at, err := n.store.State(ctx, ledgerplane.StatusKey)
	if err != nil {
		return nil, err
	}
	rs := &RaftStatus{State: "not running"}
	if v != "" {
		if err := json.Unmarshal([]byte(v), rs); err != nil {
			return nil, err
		}
		rs.AsOf = fmtTime(at)
	}
	l, err := n.store.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	rs.Height = max(rs.Height, l.Applied)
	refused, _, err := n.store.State(ctx, ledgerplane.RefusedKey)
	if err != nil {
		return nil, err
	}
	if refused != "" {
		if err := json.Unmarshal([]byte(refused), &rs.Refused); err != nil {
			return nil, fmt.Errorf("node state %s: %w", ledgerplane.RefusedKey, err)
		}
	}
	queued, err := n.store.PendingOutbox(ctx)
	if err != nil {
		return nil, err
	}
	for _, q := range queued {
		rs.Queued = append(rs.Queued, ledgerplane.CommandName(q.Entry()))
	}
	return rs, nil
}

// LedgerState is what this node knows of the ledger.
func (n *Node) LedgerState(ctx context.Context) (store.LedgerState, error) {
	return n.store.Ledger(ctx)
}

// CaseNumber is a record's case number, "" until the ledger gave one.
func (n *Node) CaseNumber(ctx context.Context, id syncproto.RecordID) (string, error) {
	return n.store.CaseNumber(ctx, id)
}

// KnownNode is a node whose certificate this one holds.
type KnownNode = store.NodeCert

// KnownNodes lists the nodes whose certificates this node holds.
func (n *Node) KnownNodes(ctx context.Context) ([]KnownNode, error) { return n.store.Nodes(ctx) }

// IsRevoked reports whether this node knows a node was revoked.
func (n *Node) IsRevoked(ctx context.Context, id syncproto.NodeID) (bool, error) {
	return n.store.Revoked(ctx, id)
}
