//go:build unix

package identity

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A pipe under a bundle's, a request's or a key's name is refused, saying
// so, and not opened to wait for a writer: a stick may hold one, and the
// command that read it waited for good, deaf to Ctrl-C. So that the test
// ends either way, a writer opens the pipe whenever a reader waits on it,
// and closes it at once.
func TestAPipeIsRefusedUnopened(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "cayo-07.bundle")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
			}
			// Opening to write without blocking succeeds only while a
			// reader holds the pipe open.
			if fd, err := syscall.Open(fifo, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				syscall.Close(fd)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, bundleErr := ReadPEMFile(fifo, "an enrollment bundle")
	_, keyErr := LoadKey(fifo, nil)
	close(done)
	<-stopped
	for _, err := range []error{bundleErr, keyErr} {
		if err == nil || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "not a file") {
			t.Errorf("a pipe: %v", err)
		}
	}
}
