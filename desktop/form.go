package desktop

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// newRecordScreen is a placeholder until the screen is written.
func (u *UI) newRecordScreen() fyne.CanvasObject { return widget.NewLabel("form") }
