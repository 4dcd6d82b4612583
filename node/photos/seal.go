package photos

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/chacha20poly1305"
)

// A photo file on disk is sealed in chunks, so that a read by offset opens
// only the chunks it needs:
//
//	magic   "LLPHOTO1" (8 bytes)
//	salt    32 random bytes: the file's key is HKDF-SHA256(secret, salt,
//	        "lifeline/photo-file"), so no two files share a key
//	chunks  each ChaCha20-Poly1305 of up to chunkSize plain bytes, its
//	        nonce the chunk's index (8 bytes big-endian, after 3 zero
//	        bytes) and a last byte 1 on the final chunk, 0 on the others;
//	        its additional data the file's name (photo id and kind), so
//	        that a file moved to another name does not open
//
// The final flag makes a file cut at a chunk boundary fail to open, as a
// torn one does.

const (
	fileMagic  = "LLPHOTO1"
	saltSize   = 32
	headerSize = len(fileMagic) + saltSize
	chunkSize  = 64 << 10
	tagSize    = chacha20poly1305.Overhead
)

// ErrDamaged is wrapped by the error of reading a photo file that does
// not open: torn, altered, or sealed with another node's key.
var ErrDamaged = errors.New("photo file damaged or not this node's")

func fileAEAD(secret *[32]byte, salt []byte) cipher.AEAD {
	k, err := hkdf.Key(sha256.New, secret[:], salt, "lifeline/photo-file", chacha20poly1305.KeySize)
	if err != nil {
		panic(err) // only for a length HKDF cannot give
	}
	aead, err := chacha20poly1305.New(k)
	if err != nil {
		panic(err)
	}
	return aead
}

func nonce(i uint64, final bool) []byte {
	n := make([]byte, chacha20poly1305.NonceSize)
	binary.BigEndian.PutUint64(n[3:11], i)
	if final {
		n[11] = 1
	}
	return n
}

// sealWriter seals what is written to it into w; Close writes the final
// chunk.
type sealWriter struct {
	w    io.Writer
	aead cipher.AEAD
	ad   []byte
	buf  []byte
	i    uint64
}

func newSealWriter(w io.Writer, secret *[32]byte, ad string) (*sealWriter, error) {
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, fileMagic); err != nil {
		return nil, err
	}
	if _, err := w.Write(salt); err != nil {
		return nil, err
	}
	return &sealWriter{w: w, aead: fileAEAD(secret, salt), ad: []byte(ad), buf: make([]byte, 0, chunkSize+tagSize)}, nil
}

func (s *sealWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(s.buf) == chunkSize {
			// Only now is it known that this chunk is not the last.
			if err := s.flush(false); err != nil {
				return n, err
			}
		}
		k := min(len(p), chunkSize-len(s.buf))
		s.buf = append(s.buf, p[:k]...)
		p, n = p[k:], n+k
	}
	return n, nil
}

func (s *sealWriter) flush(final bool) error {
	out := s.aead.Seal(s.buf[:0], nonce(s.i, final), s.buf, s.ad)
	s.i++
	s.buf = s.buf[:0]
	_, err := s.w.Write(out)
	return err
}

func (s *sealWriter) Close() error { return s.flush(true) }

// sealedFile reads a sealed photo file by plain offsets.
type sealedFile struct {
	f      *os.File
	aead   cipher.AEAD
	ad     []byte
	chunks uint64
	size   int64 // plain bytes
	name   string
}

func openSealed(path string, secret *[32]byte, ad string) (*sealedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	head := make([]byte, headerSize)
	if _, err := io.ReadFull(f, head); err != nil || string(head[:len(fileMagic)]) != fileMagic {
		f.Close()
		return nil, fmt.Errorf("%s: %w: no photo header", path, ErrDamaged)
	}
	body := fi.Size() - int64(headerSize)
	chunks := (body + chunkSize + tagSize - 1) / (chunkSize + tagSize)
	if chunks == 0 || body-chunks*tagSize < 0 || body-(chunks-1)*(chunkSize+tagSize) < tagSize {
		f.Close()
		return nil, fmt.Errorf("%s: %w: %d bytes cannot be whole chunks", path, ErrDamaged, fi.Size())
	}
	return &sealedFile{f: f, aead: fileAEAD(secret, head[len(fileMagic):]), ad: []byte(ad), chunks: uint64(chunks), size: body - chunks*tagSize, name: path}, nil
}

func (s *sealedFile) Close() error { return s.f.Close() }

// chunk opens chunk i into dst.
func (s *sealedFile) chunk(dst []byte, i uint64) ([]byte, error) {
	buf := make([]byte, chunkSize+tagSize)
	n, err := s.f.ReadAt(buf, int64(headerSize)+int64(i)*(chunkSize+tagSize))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	plain, err := s.aead.Open(dst, nonce(i, i == s.chunks-1), buf[:n], s.ad)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: chunk %d does not open", s.name, ErrDamaged, i)
	}
	return plain, nil
}

// ReadAt reads plain bytes from off; it follows io.ReaderAt.
func (s *sealedFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	n := 0
	var plain []byte
	for n < len(p) && off < s.size {
		i := uint64(off / chunkSize)
		var err error
		if plain, err = s.chunk(plain[:0], i); err != nil {
			return n, err
		}
		k := copy(p[n:], plain[off%chunkSize:])
		n, off = n+k, off+int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// sealedReader reads a sealed file from the start.
type sealedReader struct {
	*sealedFile
	off int64
}

func (r *sealedReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n, err := r.ReadAt(p[:min(int64(len(p)), r.size-r.off)], r.off)
	r.off += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}
