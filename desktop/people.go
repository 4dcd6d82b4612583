package desktop

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
)

// People on a shared laptop (docs/desktop.md, "People and sign-in"): once
// someone was added, the app opens behind the sign-in, and every change
// made in it carries the name of the person signed in. Switching person,
// and the lock after a quiet spell, bring the sign-in back; whoever signs
// in next is the author from then on. The node is the door: it checks the
// passphrase and refuses a person headquarters revoked; the app checks
// again, as each change is made, that the person signed in still may.

// signedIn is the person signed in, "" if no one is.
func (u *UI) signedIn() string {
	if p := u.person.Load(); p != nil {
		return *p
	}
	return ""
}

// setPerson signs name in, or whoever is signed in out when name is "",
// and shows the forms as that person's drafts keep them.
func (u *UI) setPerson(name string) {
	u.person.Store(&name)
	if name != "" {
		u.useDrafts(u.personDrafts(name), false)
		return
	}
	signs, err := u.node.SignsIn(u.ctx)
	u.useDrafts("", err != nil || signs)
}

// useDrafts makes the forms keep their drafts in the subfolder sub of the
// drafts folder ("" for the folder itself), or keep none if off, and
// shows the New record screen, and the edit left on show on the Records
// screen, as they are there. The forms on show are written to their own
// folder first: what the previous person typed stays theirs, and is there
// when they sign in again.
//
// Whoever signs in takes the drafts of the drafts folder itself: nothing
// writes there while people sign in, so they are what was typed before
// anyone was added, or since the last one was removed. When the last is
// removed, the drafts of the person signed in go back to the drafts
// folder itself, for the laptop where no one signs in.
func (u *UI) useDrafts(sub string, off bool) {
	if sub == u.draftsSub && off == u.noDrafts {
		return
	}
	if fm := u.recordForm(); fm != nil {
		fm.writeDraft() // written at each change already; tried again if that failed
	}
	if v := u.screens.records; v != nil && v.editing != nil {
		v.editing.writeDraft()
	}
	var err error
	switch {
	case !off && sub != "":
		err = u.moveDrafts("", sub)
	case !off && !u.noDrafts && u.draftsSub != "":
		err = u.moveDrafts(u.draftsSub, "")
	}
	u.draftsSub, u.noDrafts = sub, off
	if err != nil {
		u.showError(fmt.Errorf(u.T("form.err.drafts.move"), err))
	}
	if s := u.screens.form; s != nil {
		s.reload()
	}
	if v := u.screens.records; v != nil {
		v.reloadEdits()
	}
}

// signInNeeded is why a change was refused: no one is signed in where
// the node's people sign in, or the person signed in was removed or
// revoked since. The app then asks for a sign-in (showError).
type signInNeeded struct {
	who string
	err error
}

func (e *signInNeeded) Error() string { return e.err.Error() }
func (e *signInNeeded) Unwrap() error { return e.err }

// author is who a change made now is by: the person signed in, where the
// node's people sign in, else the node's name. It reads the node, off the
// UI thread, as each change is made: a person removed or revoked since
// they signed in makes no more changes.
func (u *UI) author(ctx context.Context) (string, error) {
	signs, err := u.node.SignsIn(ctx)
	switch {
	case err != nil:
		return "", err
	case !signs:
		return u.node.Self().Name, nil
	}
	who := u.signedIn()
	if who == "" {
		return "", &signInNeeded{err: node.ErrSignIn}
	}
	people, err := u.node.People(ctx)
	if err != nil {
		return "", err
	}
	for _, p := range people {
		if node.FoldName(p.Name) == node.FoldName(who) {
			if p.Revoked {
				return "", &signInNeeded{who: who, err: fmt.Errorf("%s: %w", who, node.ErrPersonRevoked)}
			}
			return who, nil
		}
	}
	return "", &signInNeeded{who: who, err: fmt.Errorf("%s: %w", who, node.ErrNoPerson)}
}

// signInRefused says in lang why who did not sign in, or may no longer
// make changes.
func signInRefused(lang, who string, err error) string {
	who = node.Printable(who)
	switch {
	case errors.Is(err, node.ErrPassphrase):
		return fmt.Sprintf(text(lang, "signin.wrong"), who)
	case errors.Is(err, node.ErrPersonRevoked):
		return fmt.Sprintf(text(lang, "signin.revoked"), who)
	case errors.Is(err, node.ErrNoPerson):
		return fmt.Sprintf(text(lang, "signin.gone"), who)
	case errors.Is(err, node.ErrSignIn):
		return text(lang, "signin.needed")
	}
	return node.Printable(err.Error())
}

// RequireSignIn covers the window with the sign-in if the node's people
// sign in and no one is signed in: what the app does at start.
func (u *UI) RequireSignIn() {
	if signs, err := u.node.SignsIn(u.ctx); (err != nil || signs) && u.signedIn() == "" {
		u.signIn(u.T("signin.intro"), "")
	}
}

// signIn signs out whoever is signed in and covers the window with the
// sign-in, intro above it and why, if not empty, below.
func (u *UI) signIn(intro, why string) {
	u.setPerson("")
	u.showHeader()
	if u.gate.isLocked() {
		if why != "" {
			u.gate.view.fail(why)
		}
		return
	}
	v := u.signInView(intro)
	if why != "" {
		v.fail(why)
	}
	u.gate.lock(v)
}

// idleScreen is what covers the window after a quiet spell: the sign-in,
// where the node's people sign in (whoever was signed in is signed out);
// else the passphrase of the node's key, if it is sealed; else nothing.
func (u *UI) idleScreen() *unlockView {
	if signs, err := u.node.SignsIn(u.ctx); err != nil || signs {
		u.setPerson("")
		u.showHeader()
		return u.signInView(fmt.Sprintf(u.T("signin.intro.idle"), u.gate.minutes()))
	}
	if !u.sealed {
		return nil
	}
	v := newUnlockView(u.Lang(), fmt.Sprintf(u.T("lock.intro.idle"), u.gate.minutes()), u.node.CheckKeyPassphrase, func() {})
	v.background, v.do = u.background, u.do
	return v
}

// signInView is the sign-in: a name among the people who may sign in
// here, and their passphrase.
func (u *UI) signInView(intro string) *unlockView {
	lang := u.Lang()
	v := newPassView(lang, "signin.title", "signin.button", intro)
	v.background, v.do = u.background, u.do
	v.who = widget.NewSelect(nil, nil)
	v.who.PlaceHolder = text(lang, "signin.who")
	fill := func() {
		people, err := u.node.People(u.ctx)
		if err != nil {
			v.fail(node.Printable(err.Error()))
			return
		}
		var names []string
		for _, p := range people {
			if !p.Revoked {
				names = append(names, p.Name)
			}
		}
		v.who.ClearSelected()
		v.who.SetOptions(names)
		switch len(names) {
		case 0:
			v.fail(text(lang, "signin.none"))
		case 1:
			v.who.SetSelected(names[0])
		}
	}
	fill()
	v.who.OnChanged = func(string) { u.win.Canvas().Focus(v.pass) }
	v.try = func(who string, p []byte) (string, error) { return u.node.SignIn(u.ctx, who, p) }
	v.refused = func(who string, err error) string {
		if errors.Is(err, node.ErrPersonRevoked) || errors.Is(err, node.ErrNoPerson) {
			fill() // they are no longer one to pick
		}
		return signInRefused(lang, who, err)
	}
	v.done = func(who string) {
		// What the dialogs left open would do (Save anyway on a warning,
		// discarding an edit) is of whoever opened them, who may not be
		// the person signing in: they go, and so does a review's reason
		// or a conflict's value, another person typed.
		closeOverlays(u.win.Canvas())
		if h := u.screens.hq; h != nil {
			h.review.signedIn(who)
		}
		if r := u.screens.records; r != nil {
			r.signedIn(who)
		}
		u.setPerson(who)
		u.showHeader()
	}
	return v
}

// peopleView is the People dialog: who signs in on this laptop, adding
// and removing them.
type peopleView struct {
	u      *UI
	d      dialog.Dialog
	intro  *widget.Label
	list   *fyne.Container
	people []node.Person

	name, pass, pass2 *widget.Entry
	add               *widget.Button
	result            *widget.Label
}

// showPeople opens the People dialog.
func (u *UI) showPeople() *peopleView {
	v := &peopleView{u: u, intro: widget.NewLabel(""), list: container.NewVBox(), result: widget.NewLabel(""),
		name: widget.NewEntry(), pass: widget.NewPasswordEntry(), pass2: widget.NewPasswordEntry()}
	v.intro.Wrapping = fyne.TextWrapWord
	v.result.Wrapping = fyne.TextWrapWord
	v.result.Hide()
	v.name.SetPlaceHolder(u.T("people.name"))
	v.pass.SetPlaceHolder(u.T("people.pass"))
	v.pass2.SetPlaceHolder(u.T("people.pass.again"))
	v.pass2.OnSubmitted = func(string) { v.addPerson() }
	v.add = widget.NewButton(u.T("people.add.button"), v.addPerson)
	v.add.Importance = widget.HighImportance
	content := container.NewBorder(v.intro,
		container.NewVBox(widget.NewSeparator(), recordsHeading(u.T("people.add")), v.name, v.pass, v.pass2, v.result, v.add),
		nil, nil, container.NewVScroll(v.list))
	v.d = dialog.NewCustom(u.T("people.title"), u.T("people.close"), content, u.win)
	v.d.Resize(fyne.NewSize(560, 560))
	v.d.Show()
	v.load()
	return v
}

// load reads the people again and lists them.
func (v *peopleView) load() {
	u := v.u
	u.background(func() {
		people, err := u.node.People(u.ctx)
		u.do(func() {
			if err != nil {
				v.say(node.Printable(err.Error()), widget.DangerImportance)
				return
			}
			v.show(people)
		})
	})
}

func (v *peopleView) show(people []node.Person) {
	u := v.u
	v.people = people
	if len(people) == 0 {
		v.intro.SetText(fmt.Sprintf(u.T("people.none"), node.Printable(u.node.Self().Name)))
	} else {
		v.intro.SetText(u.T("people.some"))
	}
	v.list.Objects = nil
	for _, p := range people {
		line := widget.NewLabel(fmt.Sprintf(u.T("people.row"), node.Printable(p.Name), recordsTime(p.Added)))
		line.Wrapping = fyne.TextWrapWord
		if p.Revoked {
			line.SetText(line.Text + " · " + u.T("people.revoked"))
			line.Importance = widget.WarningImportance
		}
		name := p.Name
		remove := widget.NewButton(u.T("people.remove"), func() {
			dialog.ShowConfirm(u.T("people.remove"), fmt.Sprintf(u.T("people.remove.confirm"), node.Printable(name)), func(yes bool) {
				if yes {
					v.remove(name)
				}
			}, u.win)
		})
		v.list.Add(container.NewBorder(nil, nil, nil, remove, line))
	}
	v.list.Refresh()
}

// refused says why a person was not added or removed; one who may no
// longer make changes goes back to the sign-in, which says why.
func (v *peopleView) refused(err error) {
	var need *signInNeeded
	if errors.As(err, &need) {
		v.d.Hide()
		v.u.showError(err)
		return
	}
	v.say(node.Printable(err.Error()), widget.DangerImportance)
}

// say puts a message under the form.
func (v *peopleView) say(msg string, importance widget.Importance) {
	v.result.Importance = importance
	v.result.SetText(msg)
	v.result.Show()
}

// addPerson adds the person typed, off the UI thread (Argon2id makes the
// verifier of their passphrase): the first by whoever holds the laptop,
// the next by someone signed in, as lifeline person add does. The first
// person added brings the sign-in: from then on, everyone signs in.
func (v *peopleView) addPerson() {
	u := v.u
	if v.add.Disabled() {
		return // Enter pressed while a person is being added
	}
	name := strings.TrimSpace(v.name.Text)
	switch {
	case name == "":
		v.say(u.T("people.name.need"), widget.DangerImportance)
		return
	case v.pass.Text != v.pass2.Text:
		v.say(u.T("people.pass.differ"), widget.DangerImportance)
		return
	}
	if err := node.CheckPassphrase([]byte(v.pass.Text)); err != nil {
		v.say(node.Printable(err.Error()), widget.DangerImportance)
		return
	}
	pass := []byte(v.pass.Text)
	v.add.Disable()
	v.add.SetText(u.T("people.adding"))
	u.background(func() {
		signed, err := u.node.SignsIn(u.ctx)
		if err == nil && signed {
			_, err = u.author(u.ctx)
		}
		kept := ""
		if err == nil {
			kept, err = u.node.AddPerson(u.ctx, name, pass)
		}
		u.do(func() {
			v.add.SetText(u.T("people.add.button"))
			v.add.Enable()
			if err != nil {
				v.refused(err)
				return
			}
			v.name.SetText("")
			v.pass.SetText("")
			v.pass2.SetText("")
			if !signed {
				v.d.Hide()
				u.signIn(u.T("signin.intro.first"), "")
				return
			}
			v.say(fmt.Sprintf(u.T("people.added"), node.Printable(kept)), widget.SuccessImportance)
			v.load()
		})
	})
}

// remove stops name signing in here, by someone signed in. The person
// who removes themselves is signed out; once no one is left, no one signs
// in.
func (v *peopleView) remove(name string) {
	u := v.u
	u.background(func() {
		_, err := u.author(u.ctx)
		if err == nil {
			err = u.node.RemovePerson(u.ctx, name)
		}
		signs := false
		if err == nil {
			signs, err = u.node.SignsIn(u.ctx)
		}
		u.do(func() {
			switch {
			case err != nil:
				v.refused(err)
			case !signs:
				u.setPerson("")
				u.showHeader()
				v.say(u.T("people.removed.last"), widget.MediumImportance)
			case node.FoldName(name) == node.FoldName(u.signedIn()):
				v.d.Hide()
				u.signIn(u.T("signin.intro"), "")
				return
			default:
				v.say(fmt.Sprintf(u.T("people.removed"), node.Printable(name)), widget.MediumImportance)
			}
			v.load()
		})
	})
}
