package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"lifeline/node/peersync"
	"lifeline/node/photos"
)

// Photos live in the data folder's photos/ folder (docs/photos.md), every
// file sealed with a key derived from the node's (Key.Secret), so that a
// laptop's disk alone shows no face: photos of people are personal data.
// A record's photo field holds the photos' ids.

// photosPurpose names the key photo files are sealed with.
const photosPurpose = "lifeline/photos"

// PhotosDir is the folder of a data folder that holds its photos.
const PhotosDir = "photos"

// photoStore is the photo store, opened when first used: most commands
// never touch a photo.
type photoStore struct {
	mu    sync.Mutex
	store *photos.Store
	// fetch counts, per photo, the FetchPhoto calls waiting for its full
	// image: sessions meanwhile ask for it.
	fetch map[string]int
	// asked counts, per photo this node lacks, the sessions that asked
	// for it and did not get it whole (photoPeer.Wants).
	asked map[string]uint32
}

// PhotoStore is the node's photo store: with the configuration
// ConfigurePhotos gave, else photos.DefaultConfig.
func (n *Node) PhotoStore() (*photos.Store, error) {
	return n.openPhotos(photos.DefaultConfig())
}

// ConfigurePhotos opens the photo store with cfg (how large a photo is
// kept, whether its original is). It must come before any other use of
// photos: the store is opened once.
func (n *Node) ConfigurePhotos(cfg photos.Config) error {
	n.photos.mu.Lock()
	defer n.photos.mu.Unlock()
	if n.photos.store != nil {
		return fmt.Errorf("photos: the photo store is open already; configure it first")
	}
	_, err := n.openPhotosLocked(cfg)
	return err
}

func (n *Node) openPhotos(cfg photos.Config) (*photos.Store, error) {
	n.photos.mu.Lock()
	defer n.photos.mu.Unlock()
	if n.photos.store != nil {
		return n.photos.store, nil
	}
	return n.openPhotosLocked(cfg)
}

func (n *Node) openPhotosLocked(cfg photos.Config) (*photos.Store, error) {
	s, err := photos.Open(filepath.Join(n.cfg.DataDir, PhotosDir), n.key.Secret(photosPurpose), cfg)
	if err != nil {
		return nil, err
	}
	n.photos.store = s
	return s, nil
}

// Photo is a photo the node keeps: its id (Hash), which a record's photo
// field holds, the hash of its thumbnail, and the full image's size.
type Photo struct {
	Hash      string `json:"hash"`
	ThumbHash string `json:"thumb_hash,omitempty"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	// Bytes are those of the full image, 0 if it is not held here (only
	// its thumbnail came, or the budget dropped it).
	Bytes int64 `json:"bytes"`
	// Thumb says the thumbnail is held.
	Thumb bool `json:"thumb"`
	// Had: AddPhoto found the photo already here.
	Had bool `json:"had,omitempty"`
}

func photoOf(p photos.Photo) Photo {
	return Photo{Hash: p.ID, ThumbHash: p.ThumbHash, Width: p.Width, Height: p.Height, Bytes: p.Bytes[photos.Full], Thumb: p.Has(photos.Thumb)}
}

// AddPhoto keeps a JPEG or PNG photo read from r (docs/photos.md): once it
// returns, the photo survives a power cut.
func (n *Node) AddPhoto(ctx context.Context, r io.Reader) (Photo, error) {
	s, err := n.PhotoStore()
	if err != nil {
		return Photo{}, err
	}
	if err := ctx.Err(); err != nil {
		return Photo{}, err
	}
	a, err := s.Add(r)
	if err != nil {
		return Photo{}, err
	}
	p := photoOf(a.Photo)
	p.Had = a.Had
	return p, nil
}

// AddPhotoFile keeps the photo in a file, as AddPhoto does.
func (n *Node) AddPhotoFile(ctx context.Context, path string) (Photo, error) {
	f, err := OpenFile(path)
	if err != nil {
		return Photo{}, err
	}
	defer f.Close()
	p, err := n.AddPhoto(ctx, f)
	if err != nil {
		return Photo{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Photo reads a photo's full image, or its thumbnail; the caller closes
// it. A photo not held here is photos.ErrNotFound.
func (n *Node) Photo(hash string, thumb bool) (io.ReadCloser, error) {
	s, err := n.PhotoStore()
	if err != nil {
		return nil, err
	}
	k := photos.Full
	if thumb {
		k = photos.Thumb
	}
	return s.Open(hash, k)
}

// Photos lists the photos the node holds, oldest first.
func (n *Node) Photos() ([]Photo, error) {
	s, err := n.PhotoStore()
	if err != nil {
		return nil, err
	}
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	out := make([]Photo, len(list))
	for i, p := range list {
		out[i] = photoOf(p)
	}
	return out, nil
}

// PhotoBudget says what the photo store holds against its budget.
func (n *Node) PhotoBudget() (photos.Budget, error) {
	s, err := n.PhotoStore()
	if err != nil {
		return photos.Budget{}, err
	}
	return s.Budget()
}

// readPhotoSection keeps the photos a bundle carries after its seal, each
// checked against the signature of the bundle's writer and its hash.
func (n *Node) readPhotoSection(ctx context.Context, r io.Reader, writer ed25519.PublicKey) peersync.PhotosRead {
	s, err := n.PhotoStore()
	if err != nil {
		return peersync.PhotosRead{Err: err.Error()}
	}
	got, err := s.ReadSection(r, func(msg, sig []byte) bool { return ed25519.Verify(writer, msg, sig) })
	res := peersync.PhotosRead{Kept: got.Kept, Had: got.Had, Refused: got.Refused, Reasons: got.Reasons}
	if err != nil {
		res.Err = err.Error()
		n.log.Warn("bundle: its photo section was not read to its end; its records and the photos before are kept", "err", err)
	}
	return res
}

// PhotosWaiting counts, on a node that is not headquarters, the full
// images it holds that headquarters has not said it holds (in a session
// with it, or by its signed word a relay passed on: photoconfirm.go), and
// the kinds of photos held in part, arriving. Headquarters waits for none.
func (n *Node) PhotosWaiting() (waiting, arriving int, err error) {
	s, err := n.PhotoStore()
	if err != nil {
		return 0, 0, err
	}
	partial, err := s.Partials()
	if err != nil {
		return 0, 0, err
	}
	if n.Self().Role.Decides() {
		return 0, len(partial), nil
	}
	list, err := s.List()
	if err != nil {
		return 0, 0, err
	}
	for _, p := range list {
		if p.Has(photos.Full) && !p.Confirmed {
			waiting++
		}
	}
	return waiting, len(partial), nil
}
