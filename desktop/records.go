package desktop

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// recordsScreen is a placeholder until the screen is written.
func (u *UI) recordsScreen() fyne.CanvasObject { return widget.NewLabel("records") }
