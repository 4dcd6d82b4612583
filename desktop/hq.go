package desktop

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// hqScreen is a placeholder until the screen is written.
func (u *UI) hqScreen() fyne.CanvasObject { return widget.NewLabel("hq") }
