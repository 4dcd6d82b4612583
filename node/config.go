package node

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"lifeline/node/gossip"
	"lifeline/node/identity"
	"lifeline/node/port"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Config is how a node runs. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// DataDir holds the node's store and key.
	DataDir string
	// Passphrase gives the passphrase of the node's key when the key file
	// is sealed (KeySealed): Open asks it once, and only then. Without
	// one, Open refuses a sealed key with an error wrapping ErrKeySealed.
	Passphrase identity.Passphrase
	// SealKey makes Init seal the new node's key with Passphrase, which
	// must pass CheckPassphrase: a stolen laptop that is off then gives
	// nobody its key, nor what is encrypted with it.
	SealKey bool
	// MaxSkew is how far ahead of this node's clock a change may be stamped
	// and still be merged; later ones wait. Past the default, this node's
	// edits of versions stamped further ahead are kept aside by the others
	// (replacedAfter).
	MaxSkew time.Duration
	// Watch is how often a running node looks for changes other processes
	// wrote into its store.
	Watch time.Duration
	// Lang is the language labels are shown in: "en" or "es".
	Lang string
	// SyncAddr is where a running node serves sync (host:port); empty for
	// none.
	SyncAddr string
	// SyncIdle ends a sync session whose peer sends nothing for this long.
	// Satellite and radio links stall for tens of seconds; the default
	// waits a minute.
	SyncIdle time.Duration
	// SyncMax ends a sync session that has lasted this long, whatever its
	// peer sends: what it stored stays, and the next session goes on from
	// there. A session anti-entropy starts is bounded by it from its dial,
	// the handshake included.
	SyncMax time.Duration
	// BatchChanges is about how many changes one sync batch carries.
	BatchChanges int
	// MaxSessions bounds the sync sessions served at once, and
	// MaxSessionsPerPeer those of one peer.
	MaxSessions, MaxSessionsPerPeer int
	// MaxSessionTime ends a sync session served this long. What a session
	// receives is stored batch by batch and the next session goes on from
	// there, so the limit costs a peer that needs longer (a first sync of
	// a whole district over a thin satellite link) one batch and a
	// reconnection, and frees a place a peer holds by trickling bytes.
	// The default is an hour.
	MaxSessionTime time.Duration
	// HandshakeTimeout bounds a connection from its accept (its dial, for
	// this node's) to its channel byte, the TLS handshake included: a
	// peer that connects and says nothing, or a byte at a time, is cut
	// then. The handshake is a round trip and two certificates; the
	// default, 5 seconds, allows a satellite link several.
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds the connections accepted and not yet
	// authenticated, MaxHandshakesPerAddr those of one remote address:
	// anyone on the network can open them.
	MaxHandshakes, MaxHandshakesPerAddr int
	// MaxLedgerConns bounds the ledger's Raft connections served (relays
	// and HQ); they have places of their own, which sessions never take.
	MaxLedgerConns int
	// Log receives what the node reports: sessions, refusals. Nil
	// discards.
	Log *slog.Logger

	// AdvertiseAddr is the address other nodes reach this one's sync
	// service at, when SyncAddr listens on all interfaces.
	AdvertiseAddr string
	// Bootstrap starts a new ledger with this node as its first voter
	// (the first HQ, once). Who else takes part, and who votes, is
	// headquarters' decision (ledger.Enroll, ledger.Member).
	Bootstrap bool
	Raft      RaftConfig

	// GossipAddr is where the node gossips (UDP and TCP, host:port); empty
	// for none. GossipAdvertise is the address others reach it at, when
	// not the bound one. Join lists gossip addresses of members to join.
	GossipAddr      string
	GossipAdvertise string
	Join            []string
	// GossipProfile names the network's timers: lan, wan or satellite.
	// GossipTimers, if set, replaces them (tests).
	GossipProfile string
	GossipTimers  *gossip.Profile
	// SyncEvery is how often a running node looks for peers to sync with
	// (and at once when one appears).
	SyncEvery time.Duration

	// ClockOffset is added to this computer's clock when the node stamps
	// changes: for drills of a laptop whose clock is wrong (a real clock
	// cannot be moved for one process). Zero in normal use.
	ClockOffset time.Duration

	// Cut, for tests, cuts links: a connection with a peer it names (by
	// node name) is dropped right after the handshake, both ways, as if the
	// network between them were down.
	Cut func(peer string) bool
}

// RaftConfig tunes the ledger. Satellite links need long timeouts; tests
// need short ones.
type RaftConfig struct {
	Heartbeat, Election, LeaderLease, Commit time.Duration
	SnapshotThreshold                        uint64
	SegmentSize                              int
	// ProposeEvery is how often the leader commits what reached it.
	ProposeEvery time.Duration
}

// DefaultConfig is a node on a laptop, with its data in ./data.
func DefaultConfig() Config {
	return Config{
		DataDir: "data",
		MaxSkew: syncproto.DefaultMaxSkew,
		Watch:   500 * time.Millisecond,
		Lang:    "en",

		SyncIdle:      60 * time.Second,
		SyncMax:       30 * time.Minute,
		SyncEvery:     30 * time.Second,
		GossipProfile: "wan",
		BatchChanges:  1000,
		MaxSessions:   32,

		MaxSessionsPerPeer:   4,
		MaxSessionTime:       time.Hour,
		HandshakeTimeout:     port.DefaultHandshake,
		MaxHandshakes:        port.DefaultMaxHandshakes,
		MaxHandshakesPerAddr: port.DefaultMaxPerAddr,
		MaxLedgerConns:       64,
		Raft: RaftConfig{
			Heartbeat: 2 * time.Second, Election: 4 * time.Second, LeaderLease: time.Second, Commit: 50 * time.Millisecond,
			SnapshotThreshold: 8192, ProposeEvery: 500 * time.Millisecond,
		},
	}
}

// Validate says what is wrong with a configuration, all of it at once.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("data folder: none given (--data DIR)"))
	}
	if c.MaxSkew < time.Second {
		errs = append(errs, fmt.Errorf("max clock skew %v: at least one second", c.MaxSkew))
	}
	if c.Watch <= 0 {
		errs = append(errs, fmt.Errorf("watch interval %v: must be positive", c.Watch))
	}
	if c.SyncIdle < time.Second {
		errs = append(errs, fmt.Errorf("sync idle timeout %v: at least one second", c.SyncIdle))
	}
	if c.SyncMax < time.Second {
		errs = append(errs, fmt.Errorf("sync session limit %v: at least one second", c.SyncMax))
	}
	if c.BatchChanges < 1 || c.BatchChanges > syncproto.MaxBatchChanges/2 {
		errs = append(errs, fmt.Errorf("sync batch size %d: 1 to %d", c.BatchChanges, syncproto.MaxBatchChanges/2))
	}
	if c.MaxSessions < 1 {
		errs = append(errs, fmt.Errorf("concurrent sync sessions %d: at least 1", c.MaxSessions))
	}
	if c.MaxSessionsPerPeer < 1 || c.MaxSessionsPerPeer > max(c.MaxSessions, 1) {
		errs = append(errs, fmt.Errorf("concurrent sync sessions of one peer %d: 1 to %d (the sessions in all)", c.MaxSessionsPerPeer, max(c.MaxSessions, 1)))
	}
	if c.MaxSessionTime < time.Second {
		errs = append(errs, fmt.Errorf("sync session time limit %v: at least one second", c.MaxSessionTime))
	}
	if c.HandshakeTimeout < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("handshake timeout %v: at least 100ms (a satellite link needs seconds)", c.HandshakeTimeout))
	}
	if c.MaxHandshakes < 1 {
		errs = append(errs, fmt.Errorf("handshakes at once %d: at least 1", c.MaxHandshakes))
	}
	if c.MaxHandshakesPerAddr < 1 || c.MaxHandshakesPerAddr > max(c.MaxHandshakes, 1) {
		errs = append(errs, fmt.Errorf("handshakes at once from one address %d: 1 to %d (the handshakes in all)", c.MaxHandshakesPerAddr, max(c.MaxHandshakes, 1)))
	}
	if c.MaxLedgerConns < ledgerConnsPerMember {
		errs = append(errs, fmt.Errorf("ledger connections %d: at least %d (one member's)", c.MaxLedgerConns, ledgerConnsPerMember))
	}
	if !slices.Contains(schemas.Languages, c.Lang) {
		errs = append(errs, fmt.Errorf("language %q: one of %s", c.Lang, strings.Join(schemas.Languages, ", ")))
	}
	return errors.Join(errs...)
}

// Identity is who a node is, chosen when it is initialised.
type Identity struct {
	Name     string
	Role     syncproto.Role
	District string
}

// Validate checks an identity and puts the district in its usual spelling.
func (id *Identity) Validate() error {
	var errs []error
	id.Name = strings.TrimSpace(id.Name)
	if id.Name == "" || len(id.Name) > 64 {
		errs = append(errs, fmt.Errorf("node name %q: 1 to 64 characters, e.g. cayo-laptop-07", id.Name))
	}
	if !id.Role.Valid() {
		errs = append(errs, fmt.Errorf("role %q: one of %s", id.Role, syncproto.RoleList()))
	}
	if d, ok := schemas.District(id.District); ok {
		id.District = d
	} else {
		errs = append(errs, fmt.Errorf("district %q: one of %s", id.District, strings.Join(schemas.Districts, ", ")))
	}
	return errors.Join(errs...)
}
