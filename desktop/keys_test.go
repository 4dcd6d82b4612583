package desktop

import (
	"testing"

	"fyne.io/fyne/v2"
	fdesktop "fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"lifeline/syncproto"
)

// Ctrl+Shift+S saves the new record and starts another keeping where the
// responder stands, as "Save and start another" does: typed in an entry,
// which has the keyboard, or with nothing focused, to the window. On the
// Records screen it saves nothing.
func TestCtrlShiftSSavesAndStartsAnother(t *testing.T) {
	u := newTestUI(t, syncproto.RoleField, "Cayo")
	fm := fillDamage(t, u)
	test.Type(fm.input(t, "damage_level").entry, "4")
	test.Type(fm.input(t, "household_size").entry, "5")
	head := fm.input(t, "head_of_household").entry
	test.Type(head, "Maria Tzul")
	keys := &fdesktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierControl | fyne.KeyModifierShift}
	if fyne.KeyModifierShortcutDefault != fyne.KeyModifierControl {
		keys.Modifier = fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift // Cmd+Shift+S on a Mac
	}
	u.win.Canvas().Focus(head)
	// What the driver does with a shortcut while an entry has the keyboard.
	u.win.Canvas().Focused().(fyne.Shortcutable).TypedShortcut(keys)
	u.bg.Wait()
	recs := records(t, u, fm.t.Name)
	if len(recs) != 1 {
		t.Fatalf("Ctrl+Shift+S in an entry saved %d records, want 1; the form says %q", len(recs), fm.summary.Text)
	}
	for name, want := range map[string]any{"village": "San Ignacio", "damage_level": int64(4), "head_of_household": "Maria Tzul"} {
		if got := recs[0].Fields[name]; got != want {
			t.Errorf("saved %s = %#v, want %#v", name, got, want)
		}
	}
	// The next form keeps the location, and nothing found at the last.
	for name, want := range map[string]string{"village": "San Ignacio", "lat": "17.1589", "lon": "-89.0696", "damage_level": "", "head_of_household": ""} {
		if got := fm.input(t, name).entry.Text; got != want {
			t.Errorf("the next form has %s %q, want %q", name, got, want)
		}
	}

	test.Type(fm.input(t, "damage_level").entry, "2")
	test.Type(fm.input(t, "household_size").entry, "3")
	fm.input(t, "structure_type").sel.SetSelected("Timber on stilts")
	test.Tap(fm.input(t, "reported_at").button)
	u.win.Canvas().Unfocus()
	u.win.Canvas().(fyne.Shortcutable).TypedShortcut(keys)
	u.bg.Wait()
	if n := len(records(t, u, fm.t.Name)); n != 2 {
		t.Fatalf("Ctrl+Shift+S to the window saved %d records in all, want 2; the form says %q", n, fm.summary.Text)
	}
	if got := fm.input(t, "village").entry.Text; got != "San Ignacio" {
		t.Errorf("the third form has village %q, want San Ignacio kept", got)
	}

	// On the Records screen the keys save no new record.
	test.Type(fm.input(t, "damage_level").entry, "1")
	test.Type(fm.input(t, "household_size").entry, "2")
	fm.input(t, "structure_type").sel.SetSelected("Timber on stilts")
	test.Tap(fm.input(t, "reported_at").button)
	u.tabs.SelectIndex(1)
	u.win.Canvas().Unfocus()
	u.win.Canvas().(fyne.Shortcutable).TypedShortcut(keys)
	u.bg.Wait()
	if n := len(records(t, u, fm.t.Name)); n != 2 {
		t.Fatalf("Ctrl+Shift+S on the Records screen saved a record: %d in all, want 2", n)
	}
}
