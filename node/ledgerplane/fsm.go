package ledgerplane

import (
	"io"

	"github.com/hashicorp/raft"

	"lifeline/node/ledger"
)

// raftFSM runs the ledger's state machine under Raft.
type raftFSM struct{ fsm *ledger.FSM }

func (f raftFSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return ledger.Result{}
	}
	return f.fsm.Apply(ledger.Entry{Index: l.Index, Term: l.Term, At: l.AppendedAt, Data: l.Data})
}

func (f raftFSM) Snapshot() (raft.FSMSnapshot, error) { return snapshot{f.fsm}, nil }

func (f raftFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return f.fsm.Restore(rc)
}

type snapshot struct{ fsm *ledger.FSM }

// Persist writes the state as it is when Persist runs, which Raft calls
// after Snapshot returns, while Apply may run (see ledger.FSM.Snapshot).
func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.fsm.Snapshot(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (snapshot) Release() {}
