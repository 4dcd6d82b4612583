package gossip

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// Profile sets memberlist's timers for the kind of network. Lossy satellite
// and radio links need long suspicion timeouts, or members that are merely
// slow to answer are declared dead and flap in and out of the list.
type Profile struct {
	// ProbeInterval is how often a member probes another; ProbeTimeout how
	// long it waits for the answer (the network's 99th percentile round
	// trip) before asking others to probe for it.
	ProbeInterval, ProbeTimeout time.Duration
	// GossipInterval is how often pending gossip is sent to a few members.
	GossipInterval time.Duration
	// PushPullInterval is how often a member exchanges its whole member
	// list with another over TCP; it heals partitions and lost gossip.
	PushPullInterval time.Duration
	// SuspicionMult scales how long a member that stopped answering is
	// suspected before it is declared dead: SuspicionMult × log10(members)
	// × ProbeInterval, giving it that long to refute.
	SuspicionMult int
	// TCPTimeout bounds a join or push-pull exchange.
	TCPTimeout time.Duration
}

// Profiles.
var (
	// LAN is memberlist's own defaults for one local network.
	LAN = profileOf(memberlist.DefaultLANConfig())
	// WAN is memberlist's defaults for links between offices.
	WAN = profileOf(memberlist.DefaultWANConfig())
	// Satellite is slower than WAN, for satellite and radio links whose
	// round trips reach seconds and which lose bursts of packets: a member
	// is suspected for 8 × 5 s before it is declared dead.
	Satellite = Profile{
		ProbeInterval:    5 * time.Second,
		ProbeTimeout:     3 * time.Second,
		GossipInterval:   time.Second,
		PushPullInterval: 120 * time.Second,
		SuspicionMult:    8,
		TCPTimeout:       30 * time.Second,
	}
	// Test has very short timers, for members in one process talking over
	// loopback in tests: a member that stops is declared dead within about
	// two seconds. The suspicion (40 probe intervals) is long for its probes
	// so that members of a test starved of CPU (the race detector, packages
	// tested in parallel) have time to refute rather than flap. Never use it
	// on a real network.
	Test = Profile{
		ProbeInterval:    50 * time.Millisecond,
		ProbeTimeout:     40 * time.Millisecond,
		GossipInterval:   10 * time.Millisecond,
		PushPullInterval: 500 * time.Millisecond,
		SuspicionMult:    40,
		TCPTimeout:       2 * time.Second,
	}
)

// profileNames are the profiles an operator may choose by name.
var profileNames = []string{"lan", "wan", "satellite"}

// ProfileByName gives the profile a configuration names: lan, wan or
// satellite (in any case).
func ProfileByName(name string) (Profile, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "lan":
		return LAN, nil
	case "wan":
		return WAN, nil
	case "satellite":
		return Satellite, nil
	}
	return Profile{}, fmt.Errorf("gossip: network profile %.40q: one of %s", name, strings.Join(profileNames, ", "))
}

func profileOf(c *memberlist.Config) Profile {
	return Profile{
		ProbeInterval:    c.ProbeInterval,
		ProbeTimeout:     c.ProbeTimeout,
		GossipInterval:   c.GossipInterval,
		PushPullInterval: c.PushPullInterval,
		SuspicionMult:    c.SuspicionMult,
		TCPTimeout:       c.TCPTimeout,
	}
}

// check says what is wrong with a profile built by hand.
func (p Profile) check() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"probe interval", p.ProbeInterval}, {"probe timeout", p.ProbeTimeout}, {"gossip interval", p.GossipInterval},
		// Zero would turn push-pull off in memberlist, and with it the
		// healing of partitions.
		{"push-pull interval", p.PushPullInterval}, {"TCP timeout", p.TCPTimeout},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s %v: must be positive", d.name, d.v))
		}
	}
	if p.ProbeTimeout > p.ProbeInterval {
		errs = append(errs, fmt.Errorf("probe timeout %v is longer than the probe interval %v", p.ProbeTimeout, p.ProbeInterval))
	}
	if p.SuspicionMult < 1 {
		errs = append(errs, fmt.Errorf("suspicion multiplier %d: at least 1", p.SuspicionMult))
	}
	if len(errs) > 0 {
		return fmt.Errorf("gossip: network profile: %w (or use LAN, WAN or Satellite)", errors.Join(errs...))
	}
	return nil
}

// apply sets p's timers on c.
func (p Profile) apply(c *memberlist.Config) {
	c.ProbeInterval = p.ProbeInterval
	c.ProbeTimeout = p.ProbeTimeout
	c.GossipInterval = p.GossipInterval
	c.PushPullInterval = p.PushPullInterval
	c.SuspicionMult = p.SuspicionMult
	c.TCPTimeout = p.TCPTimeout
	// memberlist's defaults keep gossiping to a dead member for one
	// push-pull interval (30 s on a LAN, 60 s on a WAN), giving it a chance
	// to refute; keep that relation on every network.
	c.GossipToTheDeadTime = p.PushPullInterval
	// A laptop that moves to another network comes back at a new address.
	// memberlist refuses a known name at a new address unless the old one
	// left, or is dead and this long has passed since; without it, a laptop
	// that crashed and moved would be locked out until everyone forgot it.
	c.DeadNodeReclaimTime = p.ProbeInterval
}
