package gps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// speeds are the baud rates Open sets, with their termios constants.
var speeds = map[int]uint32{
	1200: unix.B1200, 2400: unix.B2400, 4800: unix.B4800, 9600: unix.B9600,
	19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600, 115200: unix.B115200,
	230400: unix.B230400, 460800: unix.B460800, 921600: unix.B921600,
}

// Open opens the serial device at path at baud (DefaultBaud if 0), in
// raw mode, 8 data bits, no parity, one stop bit, no flow control, and
// returns a Reader of its NMEA sentences, already reading until ctx ends
// or Close is called. Input received before the call is dropped: it may
// be minutes old.
func Open(ctx context.Context, path string, baud int) (*Reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if baud == 0 {
		baud = DefaultBaud
	}
	speed, ok := speeds[baud]
	if !ok {
		return nil, fmt.Errorf("open %s: %w: %d baud; receivers send at 4800 or 9600 (also possible: 1200 to 921600 in the usual steps)", path, ErrRange, baud)
	}
	// O_NONBLOCK, so that the open does not wait for a modem's carrier
	// and reads go through Go's poller, which a deadline or Close can
	// interrupt; O_NOCTTY, so that the device does not become the
	// terminal of a program without one.
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, openError(path, err)
	}
	if err := setRaw(f, speed); err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r := newReader(f, path, MaxSentence, '$', (*Reader).nmeaLine)
	r.hint = serialHint
	r.closer = f
	r.start(ctx)
	return r, nil
}

func openError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: the user must be in the group that owns it (dialout on Debian and Ubuntu: sudo usermod -aG dialout $USER, then sign out and in again)", err)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: the receiver is unplugged, or has another name now", err)
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("%w: another program holds it (gpsd? then read from gpsd)", err)
	}
	return err
}

// setRaw makes f a raw line at speed: no echo, no line editing, no
// translation of CR or LF, no signals, 8N1, the modem's lines ignored.
func setRaw(f *os.File, speed uint32) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	err = rc.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if errors.Is(err, unix.ENOTTY) {
			opErr = errors.New("not a serial device")
			return
		}
		if err != nil {
			opErr = fmt.Errorf("read its settings: %w", err)
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF | unix.IXANY
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CSTOPB | unix.CRTSCTS | unix.CBAUD
		t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL | speed
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		// TCSETSF also drops the input received so far, at the old speed
		// or from long ago.
		if err := unix.IoctlSetTermios(int(fd), unix.TCSETSF, t); err != nil {
			opErr = fmt.Errorf("set raw mode: %w", err)
		}
	})
	if err != nil {
		return err
	}
	return opErr
}

// Find lists the serial devices that may be a GPS receiver: USB ones
// (/dev/serial/by-id, /dev/ttyACM*, /dev/ttyUSB*) and the built-in ports
// behind which the kernel found a UART (/dev/ttyS*, where rugged laptops
// put their own receiver). A device reached by a by-id link is listed
// once, by the link.
func Find() []Device {
	return find("/")
}

func find(root string) []Device {
	var out []Device
	seen := map[string]bool{}
	add := func(path, name string) {
		target, err := filepath.EvalSymlinks(path)
		if err != nil || seen[target] {
			return
		}
		seen[target] = true
		if name == "" {
			name = filepath.Base(target)
		} else {
			name += " (" + filepath.Base(target) + ")"
		}
		out = append(out, Device{Path: path, Name: name})
	}
	glob := func(pattern string) []string {
		m, _ := filepath.Glob(filepath.Join(root, pattern))
		sort.Strings(m)
		return m
	}
	for _, p := range glob("dev/serial/by-id/*") {
		add(p, byIDName(filepath.Base(p)))
	}
	for _, p := range append(glob("dev/ttyACM*"), glob("dev/ttyUSB*")...) {
		add(p, "")
	}
	// Every PC has /dev/ttyS0 to ttyS31, most with nothing behind them;
	// the kernel says which have a UART by its type (0: none).
	for _, p := range glob("dev/ttyS*") {
		t, err := os.ReadFile(filepath.Join(root, "sys/class/tty", filepath.Base(p), "type"))
		if err == nil && strings.TrimSpace(string(t)) != "0" {
			add(p, "")
		}
	}
	return out
}

// byIDName tidies a by-id name for a person:
// "usb-u-blox_AG_-_www.u-blox.com_u-blox_7_-_GPS_GNSS_Receiver-if00"
// becomes "u-blox AG - www.u-blox.com u-blox 7 - GPS GNSS Receiver".
func byIDName(s string) string {
	s = strings.TrimPrefix(s, "usb-")
	if i := strings.LastIndex(s, "-if"); i > 0 {
		s = s[:i]
	}
	return strings.ReplaceAll(s, "_", " ")
}
