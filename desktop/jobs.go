package desktop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
)

// jobLine is the status line at the foot of the window for long work
// (sync, bundles, imports): what runs, how far it got, and Cancel. The
// work runs behind the window, so that data entry is never blocked; one
// job runs at a time. It outlives a language switch. Its fields are
// touched on the UI thread only.
type jobLine struct {
	box    *fyne.Container
	label  *widget.Label
	bar    *widget.ProgressBarInfinite
	cancel *widget.Button
	close  *widget.Button
	// stop cancels the job running, nil when none runs.
	stop context.CancelFunc
}

func (u *UI) newJobLine() *jobLine {
	j := &jobLine{label: widget.NewLabel(""), bar: widget.NewProgressBarInfinite()}
	j.label.Wrapping = fyne.TextWrapWord
	j.bar.Stop()
	j.cancel = widget.NewButton(u.T("cancel"), func() { j.cancelJob() })
	j.close = widget.NewButton(u.T("ok"), func() { j.box.Hide() })
	j.close.Hide()
	j.bar.Hide()
	j.box = container.NewBorder(widget.NewSeparator(), nil, nil, container.NewHBox(j.cancel, j.close),
		container.NewVBox(j.label, j.bar))
	j.box.Hide()
	return j
}

// relabel gives the line's buttons the words of the language now shown.
func (j *jobLine) relabel(u *UI) {
	j.cancel.SetText(u.T("cancel"))
	j.close.SetText(u.T("ok"))
}

// cancelJob asks the job running to stop; its own end says so.
func (j *jobLine) cancelJob() {
	if j.stop != nil {
		j.stop()
	}
}

// busy says whether a job runs.
func (j *jobLine) busy() bool { return j.stop != nil }

// job runs work behind the window, with the status line saying what and
// a Cancel that ends work's context. work says how far it got with
// progress (safe from any goroutine); done, if not nil, runs on the UI
// thread with its outcome, and says what the line shows at the end (""
// for nothing: the line closes). An error is shown on the line in plain
// words. While a job runs another is refused, with a line that says why.
func (u *UI) job(what string, work func(ctx context.Context, progress func(string)) error, done func(error) string) {
	j := u.jobs
	if j.busy() {
		u.showError(fmt.Errorf(u.T("job.busy"), j.label.Text))
		return
	}
	ctx, stop := context.WithCancel(u.ctx)
	j.stop = stop
	j.label.SetText(what)
	j.bar.Show()
	j.bar.Start()
	j.cancel.Show()
	j.close.Hide()
	j.box.Show()
	progress := func(s string) {
		u.do(func() {
			if j.stop != nil {
				j.label.SetText(what + " " + s)
			}
		})
	}
	u.background(func() {
		err := work(ctx, progress)
		cancelled := ctx.Err() != nil && u.ctx.Err() == nil
		if cancelled && err != nil && !errors.Is(err, context.Canceled) {
			// Work cut short fails as it can (a file read in part);
			// it failed because it was cancelled.
			err = errors.Join(context.Canceled, err)
		}
		stop()
		u.do(func() {
			j.stop = nil
			j.bar.Stop()
			j.bar.Hide()
			j.cancel.Hide()
			end := ""
			if done != nil {
				end = done(err)
			}
			var need *signInNeeded
			if end == "" && errors.As(err, &need) {
				j.box.Hide()
				u.showError(err) // the sign-in, which says why
				return
			}
			if end == "" && err != nil {
				if cancelled {
					end = u.T("job.cancelled")
				} else {
					end = fmt.Sprintf(u.T("job.failed"), plainError(u, err))
				}
			}
			if end == "" {
				j.box.Hide()
				return
			}
			j.label.SetText(end)
			j.close.Show()
		})
	})
}

// plainError says in the user's words why work with another node or a
// file failed: never "context deadline exceeded" or "i/o timeout", which
// tell a responder nothing.
func plainError(u *UI, err error) string {
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return u.T("err.cancelled")
	case errors.Is(err, node.ErrNotEnrolled):
		return u.T("err.notenrolled")
	case errors.Is(err, node.ErrNotWhoWasMeant):
		return u.T("err.another")
	case errors.As(err, &unknownCA), errors.As(err, &verify):
		return u.T("err.strangeca")
	case errors.As(err, &dns):
		return u.T("err.nohost")
	case errors.Is(err, syscall.ECONNREFUSED):
		return u.T("err.refused")
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return u.T("err.unreachable")
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return u.T("err.reset")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return u.T("err.timeout")
	case errors.Is(err, os.ErrNotExist):
		return u.T("err.nofile") + " " + node.Printable(err.Error())
	case errors.Is(err, os.ErrPermission):
		return u.T("err.permission") + " " + node.Printable(err.Error())
	}
	return node.Printable(err.Error())
}

// seconds says d in whole seconds, at least one.
func seconds(d time.Duration) int { return max(1, int(d.Round(time.Second)/time.Second)) }

// jobWriter is the file a job writes, counted: each write first checks
// that the job was not cancelled, so that Cancel stops the writing at
// the next block, and says how much is written at the first block and
// then every progressEvery bytes.
type jobWriter struct {
	ctx      context.Context
	w        io.Writer
	n        int64
	next     int64
	progress func(written int64)
}

const progressEvery = 256 << 10

func (w *jobWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := w.w.Write(p)
	w.n += int64(n)
	if w.n >= w.next && n > 0 {
		w.next = w.n + progressEvery
		w.progress(w.n)
	}
	return n, err
}

// megabytes says a file's size the way a responder reads it: "0.3 MB".
func megabytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
