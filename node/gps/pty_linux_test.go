package gps

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: its master side, and the path of its
// slave, which Open opens as it would a receiver's device.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	if _, err := os.Stat("/dev/ptmx"); errors.Is(err, fs.ErrNotExist) {
		t.Skip("no /dev/ptmx on this system, so no pseudo-terminal to stand for a receiver")
	}
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	// unlockpt(3) and ptsname(3), as glibc does them.
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("number of the pseudo-terminal: %v", err)
	}
	return master, "/dev/pts/" + strconv.Itoa(n)
}

func TestOpenPTY(t *testing.T) {
	master, slave := openPTY(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := Open(ctx, slave, 9600)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	// Open set the line raw at 9600 baud: CR and LF arrive as they are
	// sent, and a sentence is not held back until a line's end.
	tio, err := unix.IoctlGetTermios(int(master.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Cflag&unix.CBAUD != unix.B9600 || tio.Lflag&unix.ICANON != 0 || tio.Iflag&unix.ICRNL != 0 {
		t.Errorf("termios after Open: cflag %#x lflag %#x iflag %#x", tio.Cflag, tio.Lflag, tio.Iflag)
	}

	// A receiver without a fix yet, with noise: Wait says why it waits.
	noise := "PGGA,0315\r\n\x00\xff\xfe\x01garbage\r\n" +
		"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48\r\n" +
		"$GPTXT," + strings.Repeat("x", 300) + "\r\n" +
		stream(sentence("GPRMC,,V,,,,,,,,,,N"), sentence("GPGGA,,,,,,0,02,,,,,,,"))
	if _, err := master.WriteString(noise); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return r.Stats().NoFix })
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = r.Wait(short, 0)
	cancelShort()
	if !errors.Is(err, ErrNoFix) || !strings.Contains(err.Error(), slave+": no position from the GPS: the receiver has no fix yet (2 satellites in use)") {
		t.Errorf("Wait without a fix: %v", err)
	}

	// Then the fix, one byte at a time as a slow line brings it.
	sent := time.Now()
	for _, b := range []byte(stream(ubloxEpoch...)) {
		if _, err := master.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	wait, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	fix, err := r.Wait(wait, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := time.Now()
	if math.Abs(fix.Lat - -33.045) > 1e-9 || math.Abs(fix.Lon - -71.62) > 1e-9 || fix.Quality == QualityNone {
		t.Errorf("fix %v", fix)
	}
	if fix.Received.Before(sent) || fix.Received.After(got) {
		t.Errorf("received at %v, not between %v and %v", fix.Received, sent, got)
	}
	if age := fix.Age(); age < 0 || age > got.Sub(sent)+time.Second {
		t.Errorf("age %v", age)
	}

	// Wait returned at the epoch's first sentence; once all are read,
	// the fix is the whole epoch's.
	eventually(t, func() bool { return r.Stats().Sentences == 7 })
	fix, _ = r.Latest()
	want := Fix{Lat: -33.045, Lon: -71.62, Quality: QualityDGPS, Satellites: 12, HDOP: 0.7,
		Altitude: 41, HasAltitude: true, Time: time.Date(2026, 3, 15, 3, 15, 2, 0, time.UTC), Received: fix.Received}
	if !sameFix(fix, want) {
		t.Errorf("fix %+v\nwant %+v", fix, want)
	}
	st := r.Stats()
	// Two sentences without a fix and five of the epoch; the half
	// sentence, the garbage, the flipped bit, the long line.
	if st.Sentences != 7 || st.Skipped != 4 {
		t.Errorf("stats %+v, want 7 sentences and 4 skipped", st)
	}

	// The end of its context stops the Reader and closes the device.
	cancel()
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("still reading after the end of its context")
	}
	if !errors.Is(r.Err(), context.Canceled) {
		t.Errorf("Err: %v", r.Err())
	}
}

// A device that goes away (the master side closed, as a receiver
// unplugged) stops the Reader, and Wait says so at once.
func TestOpenPTYHangUp(t *testing.T) {
	master, slave := openPTY(t)
	r, err := Open(context.Background(), slave, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	master.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.Wait(ctx, 0); !errors.Is(err, ErrNoFix) || !strings.Contains(err.Error(), "reading stopped") {
		t.Errorf("Wait: %v", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "not-a-tty")
	os.WriteFile(file, []byte("$GPGGA"), 0o644)
	if _, err := Open(ctx, file, 4800); err == nil || !strings.Contains(err.Error(), "not a serial device") {
		t.Errorf("a file: %v", err)
	}
	if _, err := Open(ctx, "/dev/ttyUSB99", 4800); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "unplugged") {
		t.Errorf("no such device: %v", err)
	}
	if _, err := Open(ctx, file, 4801); !errors.Is(err, ErrRange) {
		t.Errorf("4801 baud: %v", err)
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"dev/serial/by-id", "sys/class/tty/ttyS0", "sys/class/tty/ttyS1"} {
		os.MkdirAll(filepath.Join(root, dir), 0o755)
	}
	for _, name := range []string{"ttyACM0", "ttyUSB0", "ttyS0", "ttyS1", "tty0"} {
		os.WriteFile(filepath.Join(root, "dev", name), nil, 0o644)
	}
	os.WriteFile(filepath.Join(root, "sys/class/tty/ttyS0/type"), []byte("0\n"), 0o644)
	os.WriteFile(filepath.Join(root, "sys/class/tty/ttyS1/type"), []byte("4\n"), 0o644)
	byID := filepath.Join(root, "dev/serial/by-id/usb-u-blox_AG_-_www.u-blox.com_u-blox_7_-_GPS_GNSS_Receiver-if00")
	os.Symlink("../../ttyACM0", byID)
	os.Symlink("../../ttyUSB7", filepath.Join(root, "dev/serial/by-id/usb-gone-if00-port0"))

	got := find(root)
	want := []Device{
		{Path: byID, Name: "u-blox AG - www.u-blox.com u-blox 7 - GPS GNSS Receiver (ttyACM0)"},
		{Path: filepath.Join(root, "dev/ttyUSB0"), Name: "ttyUSB0"},
		{Path: filepath.Join(root, "dev/ttyS1"), Name: "ttyS1"},
	}
	if len(got) != len(want) {
		t.Fatalf("find: %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("device %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	Find() // the machine's own: whatever it has, without failing
}
