package desktop

import (
	"errors"
	"fmt"
	"image/color"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
)

// syncBanner is what keeps the node from syncing over the network, said
// at the top of the window for as long as it lasts, with what to do. It
// outlives the screens: a language switch says it again in the other
// language. Read and written on the UI thread.
type syncBanner struct {
	// stopped is why the node's network part stopped (a port another
	// program holds, say), nil while it runs or has not started.
	stopped error
	// installed says a certificate was installed in this run: sync over
	// the network starts when Lifeline starts again.
	installed bool
	// renewBy is when the node's certificate ends, when that is soon
	// enough to renew it now; "" otherwise.
	renewBy string
	// box is the banner on show; retry, when set, starts the node's
	// network part again.
	box   *fyne.Container
	retry func()
}

// bannerText is what the banner says now, in the user's language, and
// whether it offers to try again; "" when the node can sync.
func (u *UI) bannerText() (msg string, retry bool) {
	b := &u.banner
	switch {
	case b.stopped != nil:
		if portTaken(b.stopped) {
			return fmt.Sprintf(u.T("banner.port"), node.Printable(b.stopped.Error())), b.retry != nil
		}
		return fmt.Sprintf(u.T("banner.stopped"), node.Printable(b.stopped.Error())), b.retry != nil
	case !u.node.Enrolled():
		return u.T("banner.notenrolled"), false
	case b.installed:
		return u.T("banner.restart"), false
	case b.renewBy != "":
		return fmt.Sprintf(u.T("banner.renew"), when(u, b.renewBy)), false
	}
	return "", false
}

// portTaken says err is a port another program holds. Gossip's library
// keeps only the words of the system's error.
func portTaken(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

// newBanner makes the banner's place above the window's header.
func (u *UI) newBanner() fyne.CanvasObject {
	u.banner.box = container.NewStack()
	u.showBanner()
	return u.banner.box
}

// showBanner shows the banner as things stand, or hides it.
func (u *UI) showBanner() {
	box := u.banner.box
	if box == nil {
		return
	}
	msg, retry := u.bannerText()
	if msg == "" {
		box.Objects = nil
		box.Hide()
		box.Refresh()
		return
	}
	label := widget.NewLabel(msg)
	label.Wrapping = fyne.TextWrapWord
	label.Importance = widget.WarningImportance
	label.TextStyle = fyne.TextStyle{Bold: true}
	var right fyne.CanvasObject
	if retry {
		again := widget.NewButton(u.T("banner.retry"), func() {
			if f := u.banner.retry; f != nil {
				u.banner.stopped = nil
				u.showBanner()
				f()
			}
		})
		right = container.NewCenter(again)
	}
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameWarning))
	bg.FillColor = withAlpha(bg.FillColor, 0x40)
	box.Objects = []fyne.CanvasObject{bg, container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), right, label)}
	box.Show()
	box.Refresh()
}

// syncStopped tells the banner that the node's network part stopped, for
// err (nil: it runs again).
func (u *UI) syncStopped(err error) {
	u.banner.stopped = err
	u.showBanner()
}

// checkCertificate reads, off the UI thread, whether the node's
// certificate ends soon, and shows it in the banner.
func (u *UI) checkCertificate() {
	if !u.node.Enrolled() {
		u.showBanner()
		return
	}
	u.background(func() {
		st, err := u.node.Status(u.ctx)
		if err != nil {
			return
		}
		u.do(func() {
			u.banner.renewBy = ""
			if st.Renew {
				u.banner.renewBy = st.Certificate
			}
			u.showBanner()
		})
	})
}

// withAlpha is c made see-through to a of 255.
func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}
