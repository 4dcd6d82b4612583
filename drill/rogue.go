package drill

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"lifeline/node/gossip"
	"lifeline/syncproto"
)

// The drill's executable, started again with rogueEnv set, is the rogue
// gossip member of the attack step instead of the drill: the attack needs
// a process of its own inside the intruder's namespace, since memberlist
// opens connections from any thread of the process, and only a process
// started in the namespace has all its threads there.
func init() {
	if os.Getenv(rogueEnv) == "gossip" {
		if err := rogueMember(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// rogueMember joins the gossip of the key file given, saying it is HQ and
// a ledger voter, prints "joined" and stays until it is killed.
func rogueMember() error {
	id, err := syncproto.ParseNodeID(os.Getenv("LIFELINE_DRILL_ROGUE_ID"))
	if err != nil {
		return err
	}
	bind := os.Getenv("LIFELINE_DRILL_ROGUE_BIND")
	g, err := gossip.Start(gossip.Config{BindAddr: bind, KeyFile: os.Getenv("LIFELINE_DRILL_ROGUE_KEYS"), Profile: gossip.LAN,
		Meta: func() gossip.Meta {
			return gossip.Meta{Node: id, Name: "hq-2", Role: syncproto.RoleHQ, District: "Belize", SyncAddr: bind,
				Raft: gossip.RaftVoter, MinProto: syncproto.MinVersion, MaxProto: syncproto.MaxVersion}
		}})
	if err != nil {
		return err
	}
	defer g.Shutdown()
	n, err := g.Join([]string{os.Getenv("LIFELINE_DRILL_ROGUE_JOIN")})
	if err != nil {
		return err
	}
	fmt.Println("joined", n)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	<-stop
	return nil
}
