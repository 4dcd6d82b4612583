package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"lifeline/fieldkits"
	"lifeline/node/identity"
	"lifeline/node/ledger"
	"lifeline/node/store"
	"lifeline/syncproto"
)

// ErrNotInitialised means a data folder holds no node yet.
var ErrNotInitialised = errors.New("no Lifeline node in this data folder")

// ErrInitialised means a data folder already holds a node.
var ErrInitialised = errors.New("data folder already holds a Lifeline node")

// Node is one Lifeline node over its data folder.
type Node struct {
	cfg   Config
	log   *slog.Logger
	key   *identity.Key
	creds *identity.Credentials // nil until enrolled
	store *store.SQLite
	trust *trust
	kits  *fieldkits.Catalogue
	clock *syncproto.Clock

	layer  *ledger.Layer  // relays and HQ while running
	ledger *ledger.Ledger // relays and HQ while running
}

// Init makes a new node in cfg.DataDir: its key pair and an empty store. The
// folder may exist but must not hold a node.
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
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	key, err := identity.NewKey()
	if err != nil {
		return err
	}
	if err := key.Save(keyPath); err != nil {
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

// Open opens the node in cfg.DataDir.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(cfg.DataDir, store.FileName)
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (run lifeline init --data %s ...)", ErrNotInitialised, cfg.DataDir, cfg.DataDir)
	}
	key, err := identity.Load(filepath.Join(cfg.DataDir, identity.KeyFile))
	if err != nil {
		return nil, err
	}
	kits, err := fieldkits.Embedded()
	if err != nil {
		return nil, err
	}
	clock := syncproto.NewClock(nil, cfg.MaxSkew)
	tr := newTrust()
	s, err := store.Open(ctx, dbPath, store.Options{Key: key, Clock: clock, VerifyHead: tr.verifyHead})
	if err != nil {
		return nil, err
	}
	tr.store = s
	n := &Node{cfg: cfg, log: cfg.Log, key: key, store: s, trust: tr, kits: kits, clock: clock}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if err := n.loadCredentials(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return n, nil
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
	n.creds, n.trust.ca = creds, creds.CA
	return n.trust.put(ctx, creds.Cert, creds.Claims)
}

// Enrolled reports whether the node holds a certificate from headquarters.
func (n *Node) Enrolled() bool { return n.creds != nil }

// Credentials are the node's certificate and key, nil until enrolled.
func (n *Node) Credentials() *identity.Credentials { return n.creds }

// Key is the node's signing key.
func (n *Node) Key() *identity.Key { return n.key }

// Close closes the node's store.
func (n *Node) Close() error { return n.store.Close() }

// Self is this node's identity.
func (n *Node) Self() store.Self { return n.store.Self() }

// Kits are the field kits this node knows.
func (n *Node) Kits() *fieldkits.Catalogue { return n.kits }

// Config is the node's configuration.
func (n *Node) Config() Config { return n.cfg }

// Digest hashes the node's records and conflicts: equal on two nodes
// exactly when they show the same records.
func (n *Node) Digest(ctx context.Context) (syncproto.Hash, error) { return n.store.Digest(ctx) }

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
	Role      string         `json:"role"`
	District  string         `json:"district"`
	Records   map[string]int `json:"records"`
	Deleted   int            `json:"deleted"`
	Conflicts int            `json:"conflicts"`
	Changes   int            `json:"changes"`
	Held      int            `json:"held"`
	Origins   int            `json:"origins"`
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
	return Status{Node: self.ID.String(), Name: self.Name, Role: self.Role, District: self.District,
		Records: c.Records, Deleted: c.Deleted, Conflicts: c.Conflicts, Changes: c.Changes, Held: c.Held, Origins: len(v)}, nil
}
