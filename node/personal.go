package node

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"lifeline/node/identity"
	"lifeline/node/personal"
	"lifeline/node/store"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Personal fields (docs/security.md, "Need to know"): the values of the
// fields a kit marks personal are sealed when the change that sets them
// is made, for the data keys of the record's district (which its nodes and
// headquarters hold) and of the author's district when that is another.
// Headquarters makes the keys and hands them out in grants: signed
// notices that every session's hello and every bundle carries, each
// opened only by the nodes it is for. A node keeps the keys it opened in
// its store, sealed with a key derived from its own (Key.Secret), so that
// its database alone opens nothing.

// dataKeysPurpose names the key the store's data keys are sealed with.
const dataKeysPurpose = "lifeline/data-keys"

// ownKeyPurpose names the node's own data key: what it seals personal
// values with while it holds no key of headquarters' yet.
const ownKeyPurpose = "lifeline/own-data-key"

// ownDistrict is the district the own data key is filed under: no
// district's, and no grant's.
const ownDistrict = "\x00own"

// dataKeys is a node's data keys.
type dataKeys struct {
	ring *personal.Keyring
	// issue is held while headquarters makes grants: two at once would
	// make two keys of one epoch.
	issue sync.Mutex
	// warned: the node said once that it seals with its own key.
	warned atomic.Bool
}

// loadDataKeys reads the data keys the store keeps into the keyring.
func (n *Node) loadDataKeys(ctx context.Context) error {
	n.data.ring = personal.NewKeyring()
	own := n.key.Secret(ownKeyPurpose)
	n.data.ring.Add(personal.DataKey{District: ownDistrict, Epoch: 1, Key: own[:]})
	fn := n.addGrants
	n.trust.grants.Store(&fn)
	people := n.learnPersonRevocation
	n.trust.people.Store(&people)
	kits := n.addKits
	n.trust.kits.Store(&kits)
	rows, err := n.store.DataKeys(ctx)
	if err != nil {
		return err
	}
	aead := n.dataKeysAEAD()
	for _, r := range rows {
		k, err := openDataKey(aead, r)
		if err != nil {
			n.log.Warn("a data key in the store does not open with this node's key: skipped", "key", fmt.Sprintf("%x", r.ID), "err", err)
			continue
		}
		n.data.ring.Add(k)
	}
	return nil
}

func (n *Node) dataKeysAEAD() cipher.AEAD {
	secret := n.key.Secret(dataKeysPurpose)
	aead, err := chacha20poly1305.NewX(secret[:])
	if err != nil {
		panic(err) // a 32-byte key always makes one
	}
	return aead
}

// A data key as the store keeps it: a random nonce, then the CBOR of the
// key sealed with XChaCha20-Poly1305 under the node's data-keys secret,
// its id as additional data.
func sealDataKey(aead cipher.AEAD, k personal.DataKey) (store.SealedKey, error) {
	plain, err := syncproto.Marshal(k)
	if err != nil {
		return store.SealedKey{}, err
	}
	id := k.ID()
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return store.SealedKey{}, err
	}
	return store.SealedKey{ID: id[:], Sealed: aead.Seal(nonce, nonce, plain, id[:])}, nil
}

func openDataKey(aead cipher.AEAD, r store.SealedKey) (personal.DataKey, error) {
	ns := aead.NonceSize()
	if len(r.Sealed) < ns {
		return personal.DataKey{}, errors.New("too short")
	}
	plain, err := aead.Open(nil, r.Sealed[:ns], r.Sealed[ns:], r.ID)
	if err != nil {
		return personal.DataKey{}, err
	}
	var k personal.DataKey
	if err := syncproto.Unmarshal(plain, &k); err != nil {
		return personal.DataKey{}, err
	}
	if id := k.ID(); !bytes.Equal(id[:], r.ID) {
		return personal.DataKey{}, errors.New("its id is another key's")
	}
	return k, nil
}

// keepDataKeys keeps on disk the keys the keyring does not hold, then adds
// them to it: a key the node seals with is one a restart finds again. Were
// the keyring first, a write that failed (a session cut, a disk full)
// would leave a rotation's key sealing values until the node restarted
// without it, and a grant's key held in memory alone, never written when
// the grant came again.
func (n *Node) keepDataKeys(ctx context.Context, keys []personal.DataKey) error {
	var fresh []personal.DataKey
	for _, k := range keys {
		if _, held := n.data.ring.Key(k.ID()); !held {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	aead := n.dataKeysAEAD()
	rows := make([]store.SealedKey, 0, len(fresh))
	for _, k := range fresh {
		r, err := sealDataKey(aead, k)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	if err := n.store.PutDataKeys(ctx, rows); err != nil {
		return err
	}
	n.data.ring.Add(fresh...)
	return nil
}

// DataKeys says which data keys this node holds: per district ("" is
// headquarters' own), the highest epoch.
func (n *Node) DataKeys() map[string]uint32 {
	out := map[string]uint32{}
	for _, d := range append([]string{""}, schemas.Districts...) {
		if k, ok := n.data.ring.Current(d); ok {
			out[d] = k.Epoch
		}
	}
	return out
}

// grantOf reads the grant a notice carries.
func grantOf(nt *notice) (*personal.Grant, error) {
	if nt.Kind != noticeDataKeys {
		return nil, fmt.Errorf("a notice of kind %d, not a grant of data keys", nt.Kind)
	}
	var g personal.Grant
	if err := syncproto.Unmarshal(nt.Body, &g); err != nil {
		return nil, fmt.Errorf("a grant: %v", err)
	}
	if err := g.Check(); err != nil {
		return nil, err
	}
	if _, ok := schemas.District(g.District); !ok && g.District != "" {
		return nil, fmt.Errorf("a grant of %.64q, which is no district", g.District)
	}
	return &g, nil
}

// addGrants checks the grants a peer or a bundle passed on, keeps those
// newer than this node's, and opens those made for it. It returns how
// many it kept. A grant that does not check is logged and skipped; past
// maxBadNotices of them, the rest of the list is left.
func (n *Node) addGrants(ctx context.Context, list [][]byte) (int, error) {
	kept, bad := 0, 0
	self := n.key.ID()
	for _, msg := range list {
		if bad >= maxBadNotices {
			n.log.Warn("sync: a grant list with too many grants that do not check: the rest is left", "left", len(list)-kept-bad)
			break
		}
		var nt notice
		if err := syncproto.Unmarshal(msg, &nt); err != nil {
			bad++
			n.log.Warn("sync: refused a grant of data keys", "err", err)
			continue
		}
		g, err := grantOf(&nt)
		if err != nil {
			bad++
			n.log.Warn("sync: refused a grant of data keys", "err", err)
			continue
		}
		held, ok, err := n.store.Grant(ctx, g.District)
		if err != nil {
			return kept, err
		}
		newer := !ok || store.Grant{Epoch: g.Epoch, Issued: g.Issued, Notice: msg}.Replaces(held)
		// A newer grant for this node may carry a key of an epoch it
		// holds already: another HQ node's, made before the two met.
		mine := false
		if g.For(self) {
			cur, ok := n.data.ring.Current(g.District)
			mine = newer || !ok || cur.Epoch < g.Epoch
		}
		if !newer && !mine {
			continue // nothing to learn: not checked
		}
		if err := n.trust.checkNotice(ctx, &nt); err != nil {
			bad++
			n.log.Warn("sync: refused a grant of data keys", "district", g.District, "err", err)
			continue
		}
		// Its keys are kept before the grant is: a grant kept whose keys
		// were not (a session cut between the two) would not be opened
		// again when it came back, being no newer than itself.
		opened := false
		if mine {
			if keys, err := g.Open(n.key); err != nil {
				n.log.Warn("sync: a grant of data keys for this node does not open", "district", g.District, "epoch", g.Epoch, "err", err)
			} else if err := n.keepDataKeys(ctx, keys); err != nil {
				return kept, err
			} else {
				opened = true
			}
		}
		if newer {
			stored, err := n.store.PutGrant(ctx, store.Grant{District: g.District, Epoch: g.Epoch, Issued: g.Issued, Notice: msg})
			if err != nil {
				return kept, err
			}
			if stored {
				kept++
			}
		}
		if opened {
			if err := n.resealIfOwn(ctx); err != nil {
				return kept, err
			}
		}
	}
	return kept, nil
}

// IssueGrants is headquarters' part: for headquarters' own key and each
// district's, it makes the first key, hands it to the nodes allowed to
// hold it, and hands it again when nodes come (the certificates this
// node holds): headquarters' nodes hold every key, a district's relays and
// laptops its own. When a node a grant is for is revoked, moved to
// another district (its newest certificate says so), or its certificate
// ended, it makes the next epoch's key and leaves the node out: what is
// written afterwards is closed to it. It returns how many grants it made; on
// other nodes it does nothing.
func (n *Node) IssueGrants(ctx context.Context) (int, error) {
	if !n.Self().Role.Decides() || !n.Enrolled() {
		return 0, nil
	}
	n.data.issue.Lock()
	defer n.data.issue.Unlock()
	known, err := n.store.Nodes(ctx)
	if err != nil {
		return 0, err
	}
	type reader struct {
		pub      ed25519.PublicKey
		district string
		hq       bool
	}
	readers := map[syncproto.NodeID]reader{}
	// Every node revoked, whether its certificate is here or not: a grant
	// the other HQ node made may name a node that never met this one.
	revoked := map[syncproto.NodeID]bool{}
	gone, err := n.store.RevokedNodes(ctx)
	if err != nil {
		return 0, err
	}
	for _, id := range gone {
		revoked[id] = true
	}
	// A node whose certificate ended is left out as a revoked one is: a
	// laptop not renewed may be lost, and a later revocation would find it
	// in no grant kept here.
	ended := map[syncproto.NodeID]bool{}
	now := n.now()
	for _, c := range known {
		if revoked[c.Node] {
			continue
		}
		cert, err := x509.ParseCertificate(c.Cert)
		if err != nil {
			continue
		}
		if now.After(cert.NotAfter) {
			ended[c.Node] = true
			continue
		}
		pub, ok := cert.PublicKey.(ed25519.PublicKey)
		if !ok {
			continue
		}
		district, _ := schemas.District(c.District)
		readers[c.Node] = reader{pub: pub, district: district, hq: c.Role.Decides()}
	}
	made := 0
	for _, d := range append([]string{""}, schemas.Districts...) {
		want := map[syncproto.NodeID]ed25519.PublicKey{}
		for id, r := range readers {
			if r.hq || d != "" && r.district == d {
				want[id] = r.pub
			}
		}
		keys := n.data.ring.Of(d)
		held, ok, err := n.store.Grant(ctx, d)
		if err != nil {
			return made, err
		}
		var last *personal.Grant
		if ok {
			var nt notice
			if err := syncproto.Unmarshal(held.Notice, &nt); err == nil {
				last, _ = grantOf(&nt)
			}
		}
		rotate := len(keys) == 0
		current := last != nil && len(keys) > 0 && keys[len(keys)-1].Epoch == last.Epoch
		if last != nil && !rotate {
			for _, id := range last.Readers {
				// A reader whose certificate now gives it another
				// district (a responder who moved) is left as a revoked
				// one is.
				_, known := readers[id]
				_, wanted := want[id]
				if revoked[id] || ended[id] || known && !wanted {
					rotate = true
					break
				}
			}
		}
		if !rotate && current {
			missing := false
			for id := range want {
				if !last.For(id) {
					missing = true
					break
				}
			}
			// Another HQ node may have made a key of this epoch too, before
			// the two met: the grant it made does not carry this node's.
			if !missing && last.For(n.key.ID()) && !carriesAll(n.key, last, keys) {
				missing = true
			}
			if !missing {
				continue
			}
		}
		if rotate {
			epoch := uint32(1)
			if len(keys) > 0 {
				epoch = keys[len(keys)-1].Epoch + 1
			}
			if last != nil && last.Epoch >= epoch {
				epoch = last.Epoch + 1
			}
			k, err := personal.NewDataKey(d, epoch)
			if err != nil {
				return made, err
			}
			if err := n.keepDataKeys(ctx, []personal.DataKey{k}); err != nil {
				return made, err
			}
			keys = n.data.ring.Of(d)
		}
		// Stamped after the grant every node keeps, which a clock that ran
		// fast may have stamped ahead of this one: else this grant would be
		// older, and no node would take it.
		issued := n.now()
		if ok && held.Issued >= issued.UnixMilli() {
			issued = time.UnixMilli(held.Issued + 1)
		}
		g, err := personal.NewGrant(keys, want, issued)
		if err != nil {
			return made, fmt.Errorf("the grant of %q: %w", d, err)
		}
		msg, err := n.signNotice(noticeDataKeys, g)
		if err != nil {
			return made, err
		}
		if _, err := n.store.PutGrant(ctx, store.Grant{District: d, Epoch: g.Epoch, Issued: g.Issued, Notice: msg}); err != nil {
			return made, err
		}
		made++
		n.log.Info("data keys: a grant made", "district", d, "epoch", g.Epoch, "readers", len(g.Readers))
	}
	return made, nil
}

// carriesAll says whether g, opened with k, carries every key of keys.
func carriesAll(k *identity.Key, g *personal.Grant, keys []personal.DataKey) bool {
	got, err := g.Open(k)
	if err != nil {
		return false
	}
	carried := map[personal.KeyID]bool{}
	for _, c := range got {
		carried[c.ID()] = true
	}
	for _, c := range keys {
		if !carried[c.ID()] {
			return false
		}
	}
	return true
}

// learnedCerts follows certificates a session or a bundle brought that
// this node did not hold: changes kept aside for them are looked at
// again, and HQ grants the new nodes their keys, ready for their next
// session. Sessions that bring no new certificate cost HQ nothing here.
func (n *Node) learnedCerts(ctx context.Context) {
	n.readmit(ctx)
	if !n.Self().Role.Decides() {
		return
	}
	if _, err := n.IssueGrants(ctx); err != nil && ctx.Err() == nil {
		n.log.Warn("data keys: grants not made", "err", err)
	}
}

// sealKeys are the data keys a new value of a record of district is
// sealed for: the district's current key (headquarters' own for a record
// of no district), and, unless the author is an HQ node, the author's
// district's when that is another, so that the author's colleagues read
// what it wrote. A node that holds
// neither yet seals with its own key, which only it holds. A laptop or a
// relay seals with no key of another district: one it holds is a key it
// kept from before it moved, which no grant replaces there, and which
// nodes revoked since may hold.
func (n *Node) sealKeys(ctx context.Context, district string) ([]personal.DataKey, error) {
	var keys []personal.DataKey
	own, hq := n.districtName(), n.Self().Role.Decides()
	pick := func() {
		keys = keys[:0]
		if hq || district == own {
			if k, ok := n.data.ring.Current(district); ok {
				keys = append(keys, k)
			}
		}
		// HQ holds every district's key: its own district adds no reader.
		if own != district && !hq {
			if k, ok := n.data.ring.Current(own); ok {
				keys = append(keys, k)
			}
		}
	}
	pick()
	if len(keys) == 0 && hq {
		if _, err := n.IssueGrants(ctx); err != nil {
			return nil, err
		}
		pick()
	}
	if len(keys) == 0 {
		k, _ := n.data.ring.Current(ownDistrict)
		keys = append(keys, k)
		if !n.data.warned.Swap(true) {
			// Noted in the store, for whichever process later brings the
			// keys to seal them again (resealOwn).
			if err := n.store.SetState(ctx, stateSealedOwn, "yes"); err != nil {
				return nil, err
			}
			n.log.Warn("personal fields sealed with this node's own key: it holds no key from headquarters yet (one session with a relay or HQ brings it)", "district", district)
		}
	}
	return keys, nil
}

// sealPersonal seals the values of e's personal fields, in place.
func (n *Node) sealPersonal(ctx context.Context, t *schemas.Type, e *store.Edit, district string) error {
	var keys []personal.DataKey
	for i := range e.Fields {
		f := &e.Fields[i]
		fd, ok := t.Field(f.Name)
		if !ok || !fd.Personal || len(f.Value) == 1 && f.Value[0] == 0xf6 || personal.IsSealed(f.Value) {
			continue
		}
		if keys == nil {
			var err error
			if keys, err = n.sealKeys(ctx, district); err != nil {
				return err
			}
		}
		sealed, err := personal.Seal(f.Value, personal.AD{Record: e.Record, Field: f.Name}, keys...)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t.Name, f.Name, err)
		}
		f.Value = sealed
	}
	return nil
}

// districtOf is the district an edit's fields name, canonical, or else.
func districtOf(fields []syncproto.FieldChange, orElse string) string {
	for _, f := range fields {
		if f.Name == "district" {
			if d := districtValue(f.Value); d != "" {
				return d
			}
		}
	}
	return orElse
}

// storedDistrict is the district of a record as this node holds it.
func storedDistrict(r store.Record) string {
	for _, f := range r.Fields {
		if f.Name == "district" && len(f.Versions) > 0 {
			return districtValue(f.Versions[0].Value)
		}
	}
	return ""
}

// Withheld is the value of a personal field this node holds no key to
// open: personal data of another district.
type Withheld struct{}

// WithheldText says what a withheld value is, per language.
var WithheldText = map[string]string{
	"en": "personal data of another district",
	"es": "datos personales de otro distrito",
}

// MarshalJSON shows a withheld value to scripts as {"withheld": text}.
func (Withheld) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"withheld": WithheldText["en"]})
}

func (Withheld) String() string { return WithheldText["en"] }

// openValue is a field value as it reads: a sealed value opened, when
// this node holds a key; ok is false when it does not (Withheld) or the
// value does not open.
func (n *Node) openValue(record syncproto.RecordID, field string, raw []byte) ([]byte, error) {
	if !personal.IsSealed(raw) {
		return raw, nil
	}
	return personal.Open(raw, personal.AD{Record: record, Field: field}, n.data.ring.Key)
}

// openField is openValue of a value of field f (nil when the kit here
// declares none), checked by f when it was sealed: a sealed value is
// checked by the node that opens it, not as it came (admitChange checks
// its envelope alone), so one f refuses (a NaN for a name, a text longer
// than the kit allows) does not open.
func (n *Node) openField(record syncproto.RecordID, f *schemas.Field, name string, raw []byte) ([]byte, error) {
	plain, err := n.openValue(record, name, raw)
	if err == nil && f != nil && personal.IsSealed(raw) {
		if err := f.Check(plain); err != nil {
			return nil, fmt.Errorf("sealed %s: %w", name, err)
		}
	}
	return plain, err
}

// AddGrants is the sessions' and bundles' way to the node's grants.
func (t *trust) AddGrants(ctx context.Context, list [][]byte) (int, error) {
	fn := t.grants.Load()
	if fn == nil {
		return 0, nil
	}
	return (*fn)(ctx, list)
}

// stateSealedOwn, in the store's node state, says the node sealed values
// with its own key.
const stateSealedOwn = "personal-sealed-own"

// resealIfOwn seals again what the node sealed with its own key, if it
// did; once it holds its own district's key, nothing is left so sealed.
func (n *Node) resealIfOwn(ctx context.Context) error {
	if v, _, err := n.store.State(ctx, stateSealedOwn); err != nil || v == "" {
		return err
	}
	resealed, err := n.resealOwn(ctx)
	if err != nil {
		return err
	}
	n.log.Info("personal fields sealed again for their readers, now that headquarters' keys came", "records", resealed)
	if _, ok := n.data.ring.Current(n.districtName()); ok {
		n.data.warned.Store(false)
		return n.store.SetState(ctx, stateSealedOwn, "")
	}
	return nil
}

// resealBatch is how many records one write of resealOwn changes.
const resealBatch = 256

// resealOwn writes again, sealed for the record's district and its own,
// the personal values this node sealed with its own key while it held no
// key of headquarters': once the keys came, headquarters and the
// district read what it saved before. Each record gets one change by
// this node, setting the same values; a field in conflict is left for a
// person to decide. It returns how many records it changed.
func (n *Node) resealOwn(ctx context.Context) (int, error) {
	ownKey, _ := n.data.ring.Current(ownDistrict)
	own, self := ownKey.ID(), n.key.ID()
	var edits []store.Edit
	done := 0
	flush := func() error {
		if len(edits) == 0 {
			return nil
		}
		_, err := n.store.Write(ctx, edits)
		done += len(edits)
		edits = edits[:0]
		return err
	}
	for r, err := range n.store.Records(ctx, store.Query{WithDeleted: true}) {
		if err != nil {
			return done, err
		}
		t, ok := n.Kits().Type(r.Type)
		if !ok {
			continue
		}
		e := store.Edit{Record: r.ID, Lane: syncproto.MakeLane(uint8(t.Priority), syncproto.LaneScope(r.Lane)), Kit: r.Kit, Type: r.Type, Version: t.Version}
		for _, f := range r.Fields {
			if len(f.Versions) != 1 || f.Versions[0].Stamp.Origin != self || !personal.IsSealed(f.Versions[0].Value) {
				continue
			}
			env, err := personal.Parse(f.Versions[0].Value)
			if err != nil || len(env.Keys) != 1 || env.Keys[0] != own {
				continue
			}
			plain, err := env.Open(personal.AD{Record: r.ID, Field: f.Name}, n.data.ring.Key)
			if err != nil {
				continue
			}
			if e.Author == "" {
				e.Author = f.Versions[0].Author
			}
			e.Fields = append(e.Fields, syncproto.FieldChange{Name: f.Name, Value: plain})
		}
		if len(e.Fields) == 0 {
			continue
		}
		keys, err := n.sealKeys(ctx, districtOfRecord(r))
		if err != nil {
			return done, err
		}
		if len(keys) == 1 && keys[0].ID() == own {
			continue // still no key of headquarters' for it
		}
		for i := range e.Fields {
			f := &e.Fields[i]
			if f.Value, err = personal.Seal(f.Value, personal.AD{Record: r.ID, Field: f.Name}, keys...); err != nil {
				return done, err
			}
		}
		if edits = append(edits, e); len(edits) == resealBatch {
			if err := flush(); err != nil {
				return done, err
			}
		}
	}
	return done, flush()
}

// peerStore is the store as a session with one peer sees it: the grants
// it passes on are those the peer may hold or pass on, its own
// district's, or all of them for an HQ node. A hello carries no grant a
// peer has no use for: each is some 150 bytes per reader, on links where
// bytes count, and names its readers.
type peerStore struct {
	*store.SQLite
	peer identity.Claims
}

// ApplyAll stores what the peer sent, as brought by the node its
// certificate names, whatever its hello claims.
func (p peerStore) ApplyAll(ctx context.Context, batches iter.Seq2[[]store.Incoming, error], holdGaps bool) ([]store.ApplyResult, error) {
	return p.SQLite.ApplyAll(ctx, func(yield func([]store.Incoming, error) bool) {
		for in, err := range batches {
			for i := range in {
				in[i].From = p.peer.Node
			}
			if !yield(in, err) {
				return
			}
		}
	}, holdGaps)
}

func (p peerStore) GrantNotices(ctx context.Context) ([][]byte, error) {
	gs, err := p.Grants(ctx)
	if err != nil {
		return nil, err
	}
	district, _ := schemas.District(p.peer.District)
	var out [][]byte
	for _, g := range gs {
		if p.peer.Role.Decides() || g.District != "" && g.District == district {
			out = append(out, g.Notice)
		}
	}
	return syncproto.FitGrants(out), nil
}
