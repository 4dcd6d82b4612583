package photos

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"lifeline/node/atomicfile"
)

// Bounds of what Add takes.
const (
	// MaxFileBytes bounds a photo file given to Add.
	MaxFileBytes = 40 << 20
	// MaxPixels bounds an image's width times height, read from its
	// header before any pixel is decoded.
	MaxPixels = 50_000_000
	// MaxEdge bounds its long edge, as a JPEG's header does: a decoder
	// and the shrinking allocate for a row, and a PNG a pixel high and
	// 50 million wide cost 668 MB to add, for a file of 49 KB.
	MaxEdge = 65_535
	// MaxStoredBytes bounds a full image or thumbnail that Receive takes:
	// what Add makes is far smaller.
	MaxStoredBytes = 16 << 20
	// MaxThumbEdge and MaxThumbBytes bound a thumbnail, made here or
	// received: twice the edge of those DefaultConfig makes, and six times
	// the bytes of one of noise. A thumbnail is never dropped and is
	// decoded wherever a record is listed, so one that claims a photo's
	// size is refused.
	MaxThumbEdge  = 512
	MaxThumbBytes = 256 << 10
)

// Kind is one of the files kept of a photo.
type Kind uint8

// The kinds, in the numbers the bundle section writes: never renumber.
const (
	Full     Kind = 1 // the photo shrunk to Config.LongEdge, JPEG; its hash is the photo's id
	Thumb    Kind = 2 // the thumbnail, JPEG
	Original Kind = 3 // the file as it was given, if kept
)

func (k Kind) String() string {
	switch k {
	case Full:
		return "full"
	case Thumb:
		return "thumb"
	case Original:
		return "original"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// Config is how photos are kept.
type Config struct {
	LongEdge      int  // pixels of the full image's long edge
	Quality       int  // its JPEG quality
	ThumbEdge     int  // pixels of the thumbnail's long edge
	ThumbQuality  int  // its JPEG quality
	KeepOriginals bool // keep the file as given too
	// BudgetMiB bounds what the store keeps, by dropping originals, then
	// full images headquarters confirmed: never a thumbnail. 0 is no
	// bound. Once set with SetBudget, the store's own setting wins.
	BudgetMiB int64
}

// DefaultConfig is 1,600-pixel photos and 256-pixel thumbnails in 2 GiB.
func DefaultConfig() Config {
	return Config{LongEdge: 1600, Quality: 82, ThumbEdge: 256, ThumbQuality: 75, BudgetMiB: 2048}
}

// Validate refuses a configuration that cannot make photos.
func (c Config) Validate() error {
	switch {
	case c.LongEdge < 64 || c.LongEdge > 8192:
		return fmt.Errorf("photos: long edge %d: from 64 to 8192 pixels", c.LongEdge)
	case c.ThumbEdge < 16 || c.ThumbEdge > min(c.LongEdge, MaxThumbEdge):
		return fmt.Errorf("photos: thumbnail edge %d: from 16 to the long edge (%d), at most %d", c.ThumbEdge, c.LongEdge, MaxThumbEdge)
	case c.Quality < 1 || c.Quality > 100 || c.ThumbQuality < 1 || c.ThumbQuality > 100:
		return fmt.Errorf("photos: JPEG quality %d and %d: from 1 to 100", c.Quality, c.ThumbQuality)
	case c.BudgetMiB < 0:
		return fmt.Errorf("photos: budget %d MiB: 0 (none) or more", c.BudgetMiB)
	}
	return nil
}

// ErrNotFound is wrapped by the error for a photo, or a kind of it, the
// store does not hold.
var ErrNotFound = errors.New("no such photo here")

// ErrCorrupt is wrapped by Receive's refusal of bytes that do not hash to
// what they were announced as.
var ErrCorrupt = errors.New("photo does not match its hash")

// ErrOverBudget is wrapped by Receive's refusal of a full image when the
// budget is spent on what the store may not drop.
var ErrOverBudget = errors.New("photo budget spent")

// ErrBadID is wrapped by the refusal of a photo id that is not 64
// lower-case hex digits.
var ErrBadID = errors.New("not a photo id (64 lower-case hex digits)")

// Photo is what the store holds of one photo.
type Photo struct {
	ID        string    `json:"id"`
	ThumbHash string    `json:"thumb,omitempty"` // SHA-256 of the thumbnail's bytes
	Width     int       `json:"width,omitempty"`
	Height    int       `json:"height,omitempty"`
	Added     time.Time `json:"added"`
	// Confirmed: headquarters holds the full image, so this store may
	// drop it.
	Confirmed bool `json:"confirmed,omitempty"`
	// Proof is headquarters' word that it holds the full image, as the
	// node that confirmed it keeps it to pass on (opaque here); nil when
	// it was confirmed by word of mouth, or not at all.
	Proof []byte `json:"-"`
	// Bytes are the plain bytes held of each kind; a kind absent is not
	// held.
	Bytes map[Kind]int64 `json:"-"`
}

// Has says whether the store holds that kind of the photo.
func (p Photo) Has(k Kind) bool { _, ok := p.Bytes[k]; return ok }

// Store is a folder of photos, each sealed with a key of the node's. Its
// methods may be called at once from several goroutines; other processes
// on the same folder see every photo once Add returns.
type Store struct {
	dir    string
	cfg    Config
	secret [32]byte
	mu     sync.Mutex // orders budget enforcement and metadata writes
	limit  int64      // the budget in bytes, 0 for none; under mu
	// counted is what budget counted of each shard folder, under mu.
	counted map[string]shardCount
}

// Open opens (making it if need be) the photo store in dir, its files
// sealed with secret.
func Open(dir string, secret [32]byte, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("photos: %w", err)
	}
	s := &Store{dir: dir, cfg: cfg, secret: secret}
	s.limit = s.cfg.BudgetMiB << 20
	if _, err := s.budgetSet(); err != nil {
		return nil, err
	}
	s.removeStale()
	return s, nil
}

// staleAfter is how old a temporary file must be for Open to remove it:
// another process may be writing one right now.
const staleAfter = time.Hour

// removeStale removes the temporary files of writes a crash or a kill cut
// short: they hold nothing anyone was told is saved.
func (s *Store) removeStale() {
	shards, _ := os.ReadDir(s.dir)
	for _, d := range shards {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(s.dir, d.Name()))
		for _, f := range files {
			if !strings.HasSuffix(f.Name(), ".tmp") && !strings.HasSuffix(f.Name(), ".part") {
				continue
			}
			if fi, err := f.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
				os.Remove(filepath.Join(s.dir, d.Name(), f.Name()))
			}
		}
	}
}

// budgetSet reads the budget SetBudget keeps in the folder, which another
// process may have set meanwhile: the limit in bytes, that of the
// configuration when none is set.
func (s *Store) budgetSet() (int64, error) {
	path := filepath.Join(s.dir, "budget")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s.limit, nil
	}
	if err != nil {
		return 0, err
	}
	mib, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || mib < 0 || mib > 1<<30 {
		return 0, fmt.Errorf("photos: %s: %.20q is no number of MiB", path, bytes.TrimSpace(b))
	}
	return mib << 20, nil
}

// ValidID checks that id is a photo id.
func ValidID(id string) error {
	if len(id) != 64 || strings.IndexFunc(id, func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') }) >= 0 {
		return fmt.Errorf("%w: %.80q", ErrBadID, id)
	}
	return nil
}

func (s *Store) path(id string, k Kind) string {
	return filepath.Join(s.dir, id[:2], id+"."+k.String())
}

func (s *Store) metaPath(id string) string { return filepath.Join(s.dir, id[:2], id+".json") }

// ad is what binds a sealed file to its name.
func ad(id string, k Kind) string { return id + "." + k.String() }

// Added is what Add made.
type Added struct {
	Photo
	// Had: the store already held the photo; nothing was written.
	Had bool
}

// Add keeps a photo: a JPEG or PNG of at most MaxFileBytes and MaxPixels,
// turned upright as its EXIF orientation says, shrunk to the long edge,
// with a thumbnail. When Add returns, the photo is on disk for good.
func (s *Store) Add(r io.Reader) (Added, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return Added{}, err
	}
	if len(b) > MaxFileBytes {
		return Added{}, fmt.Errorf("%w: over %d MiB", ErrTooLarge, MaxFileBytes>>20)
	}
	img, err := decode(b)
	if err != nil {
		return Added{}, err
	}
	o := 1
	if format(b) == "jpeg" {
		o = Orientation(b)
	}
	bd := img.Bounds()
	fw, fh := fit(bd.Dx(), bd.Dy(), s.cfg.LongEdge)
	full := orient(shrink(img, fw, fh), o)
	img = nil
	tw, th := fit(full.Rect.Dx(), full.Rect.Dy(), s.cfg.ThumbEdge)
	thumb := shrink(full, tw, th)
	fb, err := encodeJPEG(full, s.cfg.Quality)
	if err != nil {
		return Added{}, err
	}
	tb, err := encodeJPEG(thumb, s.cfg.ThumbQuality)
	if err != nil {
		return Added{}, err
	}
	sum := sha256.Sum256(fb)
	ts := sha256.Sum256(tb)
	p := Photo{ID: hex.EncodeToString(sum[:]), ThumbHash: hex.EncodeToString(ts[:]), Width: full.Rect.Dx(), Height: full.Rect.Dy(), Added: time.Now().UTC()}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.info(p.ID)
	if err == nil && old.ThumbHash != p.ThumbHash {
		// A thumbnail received that is not the one made here of the
		// picture: another node's doing, replaced.
		delete(old.Bytes, Thumb)
	}
	if err == nil && old.Has(Full) && old.Has(Thumb) && (old.Has(Original) || !s.cfg.KeepOriginals) {
		return Added{Photo: old, Had: true}, nil
	}
	if err == nil {
		// Held in part (a thumbnail received, a full image dropped): what
		// is missing is written, and when it came and whether HQ
		// confirmed it stay.
		p.Added, p.Confirmed, p.Proof = old.Added, old.Confirmed, old.Proof
	}
	if err := os.MkdirAll(filepath.Dir(s.path(p.ID, Full)), 0o700); err != nil {
		return Added{}, err
	}
	// The metadata goes last: a photo is listed once its files are all on
	// disk.
	for _, f := range []struct {
		k    Kind
		b    []byte
		want bool
	}{{Original, b, s.cfg.KeepOriginals}, {Thumb, tb, true}, {Full, fb, true}} {
		if !f.want || old.Has(f.k) {
			continue
		}
		if err := s.writeSealed(p.ID, f.k, f.b); err != nil {
			return Added{}, err
		}
	}
	if err := s.writeMeta(p); err != nil {
		return Added{}, err
	}
	s.enforce(p.ID)
	p, err = s.info(p.ID)
	return Added{Photo: p}, err
}

func (s *Store) writeSealed(id string, k Kind, b []byte) error {
	return atomicfile.WriteFunc(s.path(id, k), 0o600, func(w io.Writer) error {
		sw, err := newSealWriter(w, &s.secret, ad(id, k))
		if err != nil {
			return err
		}
		if _, err := sw.Write(b); err != nil {
			return err
		}
		return sw.Close()
	})
}

// meta is a photo's metadata file: no pixel of it, so it is not sealed.
type meta struct {
	Thumb     string    `json:"thumb,omitempty"`
	Width     int       `json:"width,omitempty"`
	Height    int       `json:"height,omitempty"`
	Added     time.Time `json:"added"`
	Confirmed bool      `json:"confirmed,omitempty"`
	Proof     []byte    `json:"proof,omitempty"`
}

func (s *Store) writeMeta(p Photo) error {
	b, err := json.Marshal(meta{Thumb: p.ThumbHash, Width: p.Width, Height: p.Height, Added: p.Added, Confirmed: p.Confirmed, Proof: p.Proof})
	if err != nil {
		return err
	}
	return atomicfile.Write(s.metaPath(p.ID), b, 0o600)
}

// Info says what the store holds of a photo.
func (s *Store) Info(id string) (Photo, error) {
	if err := ValidID(id); err != nil {
		return Photo{}, err
	}
	return s.info(id)
}

func (s *Store) info(id string) (Photo, error) {
	b, err := os.ReadFile(s.metaPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return Photo{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Photo{}, err
	}
	var m meta
	if len(b) > 4096 || json.Unmarshal(b, &m) != nil {
		return Photo{}, fmt.Errorf("photos: %s: %w: its metadata does not read", id, ErrDamaged)
	}
	p := Photo{ID: id, ThumbHash: m.Thumb, Width: m.Width, Height: m.Height, Added: m.Added, Confirmed: m.Confirmed, Proof: m.Proof, Bytes: map[Kind]int64{}}
	for _, k := range []Kind{Full, Thumb, Original} {
		if fi, err := os.Stat(s.path(id, k)); err == nil {
			p.Bytes[k] = plainSize(fi.Size())
		}
	}
	return p, nil
}

// plainSize is the plain bytes of a sealed file of n bytes.
func plainSize(n int64) int64 {
	body := n - int64(headerSize)
	chunks := (body + chunkSize + tagSize - 1) / (chunkSize + tagSize)
	return max(0, body-chunks*tagSize)
}

// List is every photo the store holds, oldest first.
func (s *Store) List() ([]Photo, error) {
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []Photo
	for _, d := range shards {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dir, d.Name()))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			id, ok := strings.CutSuffix(f.Name(), ".json")
			if !ok || ValidID(id) != nil || id[:2] != d.Name() {
				continue
			}
			p, err := s.info(id)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Photo) int {
		if c := a.Added.Compare(b.Added); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Open reads a kind of a photo from the start; the caller closes it.
func (s *Store) Open(id string, k Kind) (io.ReadCloser, error) {
	f, err := s.open(id, k)
	if err != nil {
		return nil, err
	}
	return &sealedReader{sealedFile: f}, nil
}

func (s *Store) open(id string, k Kind) (*sealedFile, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	f, err := openSealed(s.path(id, k), &s.secret, ad(id, k))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s of %s", ErrNotFound, k, id)
	}
	return f, err
}

// MaxRead bounds what one ReadAt returns.
const MaxRead = 1 << 20

// ReadAt reads up to n (at most MaxRead) bytes of a kind of a photo from
// off, for a peer fetching it in pieces. It returns fewer at the end, and
// none past it, with the kind's whole size.
func (s *Store) ReadAt(id string, k Kind, off int64, n int) ([]byte, int64, error) {
	f, err := s.open(id, k)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	if off < 0 || off > f.size {
		return nil, f.size, fmt.Errorf("photos: offset %d of a %s of %d bytes", off, k, f.size)
	}
	buf := make([]byte, min(int64(max(n, 0)), MaxRead, f.size-off))
	got, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, f.size, err
	}
	return buf[:got], f.size, nil
}

// Confirm marks a photo's full image as held by headquarters: the budget
// may drop it here.
func (s *Store) Confirm(id string) error { return s.ConfirmWith(id, nil) }

// MaxProof bounds the proof ConfirmWith keeps beside a photo.
const MaxProof = 256

// ConfirmWith marks a photo's full image as held by headquarters, and
// keeps proof (headquarters' signed word, checked by the caller) beside it
// to pass on; a nil proof keeps the one held.
func (s *Store) ConfirmWith(id string, proof []byte) error {
	if err := ValidID(id); err != nil {
		return err
	}
	if len(proof) > MaxProof {
		return fmt.Errorf("photos: %s: a proof of %d bytes, the limit is %d", id, len(proof), MaxProof)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.info(id)
	if err != nil || p.Confirmed && (proof == nil || bytes.Equal(proof, p.Proof)) {
		return err
	}
	p.Confirmed = true
	if proof != nil {
		p.Proof = proof
	}
	if err := s.writeMeta(p); err != nil {
		return err
	}
	s.enforce("")
	return nil
}
