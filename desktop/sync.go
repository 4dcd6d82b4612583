package desktop

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// syncScreen is a placeholder until the screen is written.
func (u *UI) syncScreen() fyne.CanvasObject { return widget.NewLabel("sync") }
