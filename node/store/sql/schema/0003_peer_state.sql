-- What gossip last said of a peer while this node ran: alive, dead (it
-- stopped answering) or left (it said goodbye). NULL when not known.
ALTER TABLE peers ADD COLUMN state TEXT;
