package node

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"lifeline/node/gossip"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Config is how a node runs. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// DataDir holds the node's store and key.
	DataDir string
	// MaxSkew is how far ahead of this node's clock a change may be stamped
	// and still be merged; later ones wait.
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
	// MaxSessions bounds concurrent sync sessions served.
	MaxSessions int
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
