package syncproto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// A frame is a 4-byte big-endian length n, then n bytes: one message type
// byte and the message's CBOR. n is at most MaxFrame.

// WriteFrame encodes a message and writes it as one frame.
func WriteFrame(w io.Writer, t MsgType, msg any) (int, error) {
	body, err := encMode.Marshal(msg)
	if err != nil {
		return 0, fmt.Errorf("syncproto: encode %s: %w", t, err)
	}
	return WriteRaw(w, t, body)
}

// WriteRaw writes an already encoded message as one frame.
func WriteRaw(w io.Writer, t MsgType, body []byte) (int, error) {
	if len(body)+1 > MaxFrame {
		return 0, fmt.Errorf("%w: %s of %d bytes, the frame limit is %d", ErrTooLarge, t, len(body), MaxFrame)
	}
	var head [5]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(body)+1))
	head[4] = byte(t)
	if n, err := w.Write(head[:]); err != nil {
		return n, err
	}
	n, err := w.Write(body)
	return n + len(head), err
}

// FrameReader reads frames from a stream that may be hostile.
type FrameReader struct {
	r   *bufio.Reader
	buf []byte
	n   int64 // bytes read so far
}

// NewFrameReader reads frames from r.
func NewFrameReader(r io.Reader) *FrameReader {
	return &FrameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Read returns the next frame's type and body. The body is valid until the
// next call. io.EOF means the stream ended between frames; a stream cut
// inside a frame is io.ErrUnexpectedEOF.
func (f *FrameReader) Read() (MsgType, []byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(f.r, head[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n == 0 || n > MaxFrame {
		return 0, nil, fmt.Errorf("%w: a frame of %d bytes at byte %d (the limit is %d)", ErrTooLarge, n, f.n, MaxFrame)
	}
	if cap(f.buf) < int(n) {
		f.buf = make([]byte, n)
	}
	body := f.buf[:n]
	if _, err := io.ReadFull(f.r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	f.n += 4 + int64(n)
	return MsgType(body[0]), body[1:], nil
}

// Offset is how many bytes the reader has consumed.
func (f *FrameReader) Offset() int64 { return f.n }

// Decode decodes and checks a message of a known type.
func Decode(t MsgType, body []byte) (any, error) {
	var err error
	switch t {
	case MsgHello:
		var m Hello
		if err = decMode.Unmarshal(body, &m); err == nil {
			err = m.Check()
		}
		return &m, wrapDecode(t, err)
	case MsgCerts:
		var m Certs
		if err = decMode.Unmarshal(body, &m); err == nil {
			err = m.Check()
		}
		return &m, wrapDecode(t, err)
	case MsgBatch:
		var m Batch
		if err = decMode.Unmarshal(body, &m); err == nil {
			err = m.check()
		}
		return &m, wrapDecode(t, err)
	case MsgAck:
		var m Ack
		return &m, wrapDecode(t, decMode.Unmarshal(body, &m))
	case MsgDone:
		var m Done
		return &m, wrapDecode(t, decMode.Unmarshal(body, &m))
	case MsgError:
		var m Error
		if err = decMode.Unmarshal(body, &m); err == nil && len(m.Message) > MaxMessageLen {
			m.Message = m.Message[:MaxMessageLen]
		}
		return &m, wrapDecode(t, err)
	case MsgSeal:
		var m Seal
		if err = decMode.Unmarshal(body, &m); err == nil && len(m.Sig) != 64 {
			err = fmt.Errorf("signature of %d bytes", len(m.Sig))
		}
		return &m, wrapDecode(t, err)
	case MsgReceipts:
		var m Receipts
		if err = decMode.Unmarshal(body, &m); err == nil {
			err = m.Check()
		}
		return &m, wrapDecode(t, err)
	case MsgPhotoWants:
		var m PhotoWants
		if err = decMode.Unmarshal(body, &m); err == nil {
			err = m.Check()
		}
		return &m, wrapDecode(t, err)
	case MsgPhotoChunk:
		var m PhotoChunk
		if err = decMode.Unmarshal(body, &m); err == nil {
			err = m.Check()
		}
		return &m, wrapDecode(t, err)
	case MsgPhotoDone:
		var m PhotoDone
		return &m, wrapDecode(t, decMode.Unmarshal(body, &m))
	case MsgPhotoKept:
		var m PhotoKept
		if err = decMode.Unmarshal(body, &m); err == nil {
			err = m.Check()
		}
		return &m, wrapDecode(t, err)
	}
	return nil, fmt.Errorf("%w: unknown %s", ErrMalformed, t)
}

func wrapDecode(t MsgType, err error) error {
	if err == nil {
		return nil
	}
	var pe *ProtocolError
	if errors.As(err, &pe) || errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("%s: %w", t, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrMalformed, t, err)
}

func (b *Batch) check() error {
	switch {
	case b.Seq == 0:
		return fmt.Errorf("%w: batch number 0", ErrMalformed)
	case b.Size > MaxBatchBytes:
		return fmt.Errorf("%w: batch of %d bytes, the limit is %d", ErrTooLarge, b.Size, MaxBatchBytes)
	case b.Codec != CodecNone && b.Codec != CodecZstd:
		return fmt.Errorf("%w: batch codec %d", ErrMalformed, b.Codec)
	case b.Codec == CodecNone && int(b.Size) != len(b.Payload):
		return fmt.Errorf("%w: batch says %d bytes, holds %d", ErrMalformed, b.Size, len(b.Payload))
	}
	return nil
}

// Encoders and decoders are costly to make and safe to share.
var (
	zenc     *zstd.Encoder
	zdec     *zstd.Decoder
	zencOnce sync.Once
	zdecOnce sync.Once
)

func encoder() *zstd.Encoder {
	zencOnce.Do(func() {
		var err error
		zenc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<22))
		if err != nil {
			panic(fmt.Sprintf("syncproto: zstd encoder: %v", err))
		}
	})
	return zenc
}

func decoder() *zstd.Decoder {
	zdecOnce.Do(func() {
		var err error
		zdec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxBatchBytes), zstd.WithDecoderMaxWindow(1<<22))
		if err != nil {
			panic(fmt.Sprintf("syncproto: zstd decoder: %v", err))
		}
	})
	return zdec
}

// NewBatch encodes runs into a batch, compressed.
func NewBatch(seq uint64, runs []Run) (*Batch, error) {
	raw, err := encMode.Marshal(runs)
	if err != nil {
		return nil, fmt.Errorf("syncproto: encode batch: %w", err)
	}
	if len(raw) > MaxBatchBytes {
		return nil, fmt.Errorf("%w: batch of %d bytes", ErrTooLarge, len(raw))
	}
	return &Batch{Seq: seq, Codec: CodecZstd, Size: uint32(len(raw)), Payload: encoder().EncodeAll(raw, nil)}, nil
}

// Runs decompresses and decodes a batch's runs, checking their shape and
// that they hold at most MaxBatchChanges changes. The changes inside are
// not decoded: see DecodeChange.
func (b *Batch) Runs() ([]Run, error) {
	raw := b.Payload
	if b.Codec == CodecZstd {
		var err error
		raw, err = decoder().DecodeAll(b.Payload, make([]byte, 0, b.Size))
		if err != nil {
			return nil, fmt.Errorf("%w: batch %d: %v", ErrMalformed, b.Seq, err)
		}
		if len(raw) != int(b.Size) {
			return nil, fmt.Errorf("%w: batch %d says %d bytes, holds %d", ErrMalformed, b.Seq, b.Size, len(raw))
		}
	}
	runs, err := decodeRunsFast(raw)
	if err != nil {
		return nil, fmt.Errorf("batch %d: %w", b.Seq, err)
	}
	for i := range runs {
		if err := runs[i].Check(); err != nil {
			return nil, fmt.Errorf("batch %d: %w", b.Seq, err)
		}
		if n := runs[i].Bytes(); n > MaxRunBytes {
			return nil, fmt.Errorf("%w: batch %d: the run of %s from %d holds %d bytes under one signature, the limit is %d",
				ErrTooLarge, b.Seq, runs[i].Stream, runs[i].First, n, MaxRunBytes)
		}
	}
	return runs, nil
}
