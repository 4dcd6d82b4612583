package gps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// A Reader reads a receiver's stream of lines and keeps its latest fix.
// Run reads; Latest, Wait and Stats may be called from other goroutines
// at any time, while it runs and after.
type Reader struct {
	src    io.Reader
	name   string // in errors: "/dev/ttyACM0", "gpsd at 127.0.0.1:2947"
	hint   string // what to check when every line is unreadable
	frame  framer
	decode func(r *Reader, line []byte)
	now    func() time.Time

	// closer is the source when the Reader opened it (Open, DialGPSD),
	// closed when Run returns.
	closer    io.Closer
	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	fix     Fix // the latest with a position; Received is zero before the first
	stats   Stats
	changed chan struct{} // closed and replaced at every change
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{} // closed when Run returns
	err     error         // what Run returned
	// waiting, set by tests, runs as Wait is about to wait.
	waiting func()

	nmea nmeaState // used by Run's goroutine alone
	gpsd gpsdState
}

// Stats is what a Reader has seen, for saying why there is no fix.
type Stats struct {
	// Sentences is the number of lines read whole: NMEA sentences with a
	// right checksum, of any type, or gpsd reports.
	Sentences int
	// Skipped is the number of lines refused: noise, a wrong checksum, a
	// line too long, a malformed field. LastSkip says why the latest was.
	Skipped  int
	LastSkip error
	// LastRead is when the latest whole line arrived; zero before the first.
	LastRead time.Time
	// NoFix is set when the receiver's latest report said it has no
	// position, and Satellites is the number it used in that report.
	NoFix      bool
	Satellites int
}

// NewReader returns a Reader of the NMEA 0183 sentences in src. It reads
// nothing until Run.
func NewReader(src io.Reader) *Reader {
	return newReader(src, "NMEA input", MaxSentence, '$', (*Reader).nmeaLine)
}

func newReader(src io.Reader, name string, maxLine int, start byte, decode func(*Reader, []byte)) *Reader {
	return &Reader{
		src:     src,
		name:    name,
		frame:   framer{max: maxLine, start: start, line: make([]byte, 0, maxLine)},
		decode:  decode,
		now:     time.Now,
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// start runs the Reader in a goroutine of its own, for Open and DialGPSD.
func (r *Reader) start(ctx context.Context) {
	go r.Run(ctx) //nolint:errcheck // kept for Err and Wait
}

// Run reads until ctx ends (returning ctx's error), Close is called, the
// input ends (returning nil) or a read fails. Lines that cannot be read
// are counted and skipped. If the source has SetReadDeadline (a file of a
// tty or a pipe, a network connection), the end of ctx interrupts a read
// in progress; another source is left at its next line.
func (r *Reader) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errors.New("gps: Reader.Run called twice")
	}
	r.started = true
	ctx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	if r.closed {
		cancel()
	}
	r.mu.Unlock()

	err := r.read(ctx)
	cancel()
	if r.closer != nil {
		r.closeSource()
	}
	r.mu.Lock()
	r.err = err
	close(r.done)
	r.notify()
	r.mu.Unlock()
	return err
}

func (r *Reader) read(ctx context.Context) error {
	stop := context.AfterFunc(ctx, r.interrupt)
	defer stop()
	buf := make([]byte, 512)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.src.Read(buf)
		r.frame.feed(buf[:n], r.line)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err == io.EOF {
				r.frame.flush(r.line)
				return nil
			}
			return fmt.Errorf("read %s: %w", r.name, err)
		}
	}
}

// interrupt makes a Read in progress return.
func (r *Reader) interrupt() {
	type deadliner interface{ SetReadDeadline(time.Time) error }
	if d, ok := r.src.(deadliner); ok && d.SetReadDeadline(time.Unix(1, 0)) == nil {
		return
	}
	if r.closer != nil {
		r.closeSource()
	}
}

func (r *Reader) closeSource() {
	r.closeOnce.Do(func() { r.closeErr = r.closer.Close() })
}

// line takes one line from the framer: its bytes, or only its length
// when it was too long to keep.
func (r *Reader) line(b []byte, long int) {
	if long > 0 {
		r.skip(fmt.Errorf("a line %w: %d bytes, at most %d", ErrTooLong, long, r.frame.max))
		return
	}
	r.decode(r, b)
}

// Close stops the Reader and waits for Run to return; the source is
// closed if the Reader opened it. The latest fix stays readable.
func (r *Reader) Close() error {
	r.mu.Lock()
	r.closed = true
	started, cancel := r.started, r.cancel
	r.mu.Unlock()
	if started {
		cancel()
		<-r.done
	} else if r.closer != nil {
		r.closeSource()
	}
	if r.closer != nil {
		return r.closeErr
	}
	return nil
}

// Done is closed when Run has returned; Err then says why.
func (r *Reader) Done() <-chan struct{} { return r.done }

// Err is what Run returned: nil at the end of the input, the context's
// error after Close or the end of its context, or the read's error (a
// device unplugged). It is nil while Run runs.
func (r *Reader) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Latest returns the latest fix with a position, and false if there has
// been none.
func (r *Reader) Latest() (Fix, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fix, !r.fix.Received.IsZero()
}

// Stats returns what the Reader has seen so far.
func (r *Reader) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Wait returns the latest fix as soon as there is one at most maxAge old
// (any age if maxAge is 0). If ctx ends first, or the Reader stops, the
// error wraps ErrNoFix and says what the Reader saw instead: nothing, only
// unreadable lines, or a receiver still without a fix.
func (r *Reader) Wait(ctx context.Context, maxAge time.Duration) (Fix, error) {
	for {
		// Run closes done under r.mu, after the last fix: read together,
		// a fix that came before the end is never taken for none.
		r.mu.Lock()
		fix, changed := r.fix, r.changed
		ended := false
		select {
		case <-r.done:
			ended = true
		default:
		}
		r.mu.Unlock()
		if !fix.Received.IsZero() && (maxAge <= 0 || r.now().Sub(fix.Received) <= maxAge) {
			return fix, nil
		}
		if ended {
			return Fix{}, r.noFix(fmt.Sprintf("reading stopped (%s)", stopCause(r.Err())))
		}
		if r.waiting != nil {
			r.waiting()
		}
		select {
		case <-changed:
		case <-r.done:
		case <-ctx.Done():
			return Fix{}, r.noFix("")
		}
	}
}

func stopCause(err error) string {
	if err == nil {
		return "its input ended: a device unplugged, or gpsd closed the connection"
	}
	return err.Error()
}

// noFix words why there is no fix, from the Reader's stats.
func (r *Reader) noFix(stopped string) error {
	r.mu.Lock()
	st, fix := r.stats, r.fix
	r.mu.Unlock()
	var why string
	switch {
	case st.Sentences == 0 && st.Skipped == 0:
		why = "nothing received: check that the receiver is plugged in and switched on, and that this is its device"
	case st.Sentences == 0:
		why = fmt.Sprintf("%d lines received, none readable (the latest: %v)", st.Skipped, st.LastSkip)
		if r.hint != "" {
			why += ": " + r.hint
		}
	case st.NoFix:
		why = fmt.Sprintf("the receiver has no fix yet (%d satellites in use): it needs open sky, and can take minutes after being off for long or moved far", st.Satellites)
	default:
		why = fmt.Sprintf("%d sentences read, none with a position", st.Sentences)
	}
	if !fix.Received.IsZero() {
		why = fmt.Sprintf("the latest position is %s old; %s", r.now().Sub(fix.Received).Round(time.Second), why)
	}
	if stopped != "" {
		why = stopped + "; " + why
	}
	return fmt.Errorf("%s: %w: %s", r.name, ErrNoFix, why)
}

// notify wakes every Wait; r.mu is held.
func (r *Reader) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// skip counts a refused line.
func (r *Reader) skip(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Skipped++
	r.stats.LastSkip = err
	r.notify()
}

// record counts a line read whole and lets apply change the fix and the
// stats by what it said; r.mu is held while apply runs.
func (r *Reader) record(now time.Time, apply func(fix *Fix, st *Stats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Sentences++
	r.stats.LastRead = now
	apply(&r.fix, &r.stats)
	r.notify()
}
