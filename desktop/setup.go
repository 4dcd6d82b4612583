package desktop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"lifeline/node"
	"lifeline/schemas"
	"lifeline/syncproto"
)

// Enrollment says how a new node is enrolled at set-up.
type Enrollment struct {
	// Folder is a CA folder (on a USB stick, say) or an HQ node's data
	// folder, whose certificate authority signs this node's certificate.
	Folder string
	// MakeCA makes the deployment's certificate authority in this node's
	// folder (the first headquarters only).
	MakeCA bool
	// Passphrase opens the CA's key in Folder, or seals the one MakeCA
	// makes.
	Passphrase []byte
}

// Create makes a new node in cfg.DataDir, opens it and enrolls it as asked.
// A node that was made but could not be enrolled is returned open, with
// the enrollment's error: nothing is lost, and it can be enrolled later.
func Create(ctx context.Context, cfg node.Config, id node.Identity, e Enrollment) (*node.Node, error) {
	if err := node.Init(ctx, cfg, id); err != nil {
		return nil, err
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return n, enroll(ctx, n, e)
}

// enroll enrolls the node just made. The node's claims are those the form
// gave, so they are what is signed; an HQ is signed as one because the
// person chose headquarters on the form.
func enroll(ctx context.Context, n *node.Node, e Enrollment) error {
	passphrase := func() ([]byte, error) {
		if len(e.Passphrase) == 0 {
			return nil, errors.New("the certificate authority's key is sealed: type its passphrase")
		}
		return e.Passphrase, nil
	}
	switch {
	case e.MakeCA:
		_, err := n.InitCA(ctx, node.CAOptions{Passphrase: passphrase})
		return err
	case e.Folder != "":
		ca, err := node.OpenAuthority(e.Folder, passphrase)
		if err != nil {
			return err
		}
		if err := n.EnrollFrom(ctx, ca, node.SignOptions{HQ: n.Self().Role.Decides()}); err != nil {
			return fmt.Errorf("the folder %s: %w", e.Folder, err)
		}
	}
	return nil
}

// setupView is the first start's form.
type setupView struct {
	lang     string
	name     *widget.Entry
	role     *widget.RadioGroup
	district *widget.Select
	enroll   *widget.RadioGroup
	folder   string
	pass     *widget.Entry
	pass2    *widget.Entry
	hqLabel  *widget.Label
	// keyPass, typed twice, seals the node's key; keyWarn says what
	// leaving it empty means.
	keyPass  *widget.Entry
	keyPass2 *widget.Entry
	keyWarn  *widget.Label
	errLabel *widget.Label
	start    *widget.Button
	roles    map[string]syncproto.Role // label → role
	// langBtn switches the form's language; scroll holds the form, which
	// a small screen shows in part; scrollTo is where it opens.
	langBtn  *widget.Button
	scroll   *container.Scroll
	scrollTo fyne.Position
}

// Setup shows the first start's form in win, in lang; its language
// button switches it, keeping what was typed. When the node is made,
// opened and (if asked) enrolled, done gets it, on the UI thread, with the
// configuration it was made with (its key's passphrase, if it was given
// one, to open it again, and the language last chosen). An error is shown
// in the form, in words, and the form stays.
func Setup(ctx context.Context, win fyne.Window, cfg node.Config, lang string, done func(*node.Node, node.Config)) {
	newSetup(ctx, win, cfg, lang, done)
}

// setupScreen is the set-up form on show in its window.
type setupScreen struct {
	v    *setupView
	show func(lang string)
}

func newSetup(ctx context.Context, win fyne.Window, cfg node.Config, lang string, done func(*node.Node, node.Config)) *setupScreen {
	s := &setupScreen{}
	s.show = func(lang string) {
		v := newSetupView(lang)
		if s.v != nil {
			v.takeFrom(s.v)
		}
		s.v = v
		v.start.OnTapped = func() { v.submit(ctx, win, cfg, done) }
		pick := widget.NewButton(text(lang, "setup.pickhq"), func() {
			askFolder(win, func(dir string) {
				v.folder = dir
				v.hqLabel.SetText(v.folder)
				v.enroll.SetSelected(text(v.lang, "setup.hqdir"))
			})
		})
		v.langBtn = widget.NewButton(text(lang, "lang.switch"), func() { s.show(otherLang(v.lang)) })
		win.SetTitle(text(lang, "app.title") + " — " + text(lang, "setup.title"))
		win.SetContent(v.content(pick))
	}
	s.show(lang)
	return s
}

// otherLang is the language the language button switches to.
func otherLang(lang string) string {
	if lang == "es" {
		return "en"
	}
	return "es"
}

// submit makes the node the form describes, off the UI thread.
func (v *setupView) submit(ctx context.Context, win fyne.Window, cfg node.Config, done func(*node.Node, node.Config)) {
	lang := v.lang
	id, e, err := v.values()
	if err != nil {
		v.errLabel.SetText(node.Printable(err.Error()))
		v.errLabel.Show()
		return
	}
	cfg = v.sealWith(cfg)
	cfg.Lang = lang
	v.start.Disable()
	bar := widget.NewProgressBarInfinite()
	d := dialog.NewCustomWithoutButtons(text(lang, "setup.working"), bar, win)
	d.Show()
	go func() {
		n, err := Create(ctx, cfg, id, e)
		fyne.Do(func() {
			d.Hide()
			v.start.Enable()
			if n == nil {
				v.errLabel.SetText(node.Printable(err.Error()))
				v.errLabel.Show()
				return
			}
			if err != nil {
				dialog.ShowInformation(text(lang, "setup.title"), fmt.Sprintf(text(lang, "setup.notenrolled"), err), win)
			}
			done(n, cfg)
		})
	}()
}

// takeFrom carries what was typed and chosen in prev, the same form in
// the other language, into v.
func (v *setupView) takeFrom(prev *setupView) {
	v.name.SetText(prev.name.Text)
	role := prev.roles[prev.role.Selected]
	for label, r := range v.roles {
		if r == role {
			v.role.SetSelected(label)
		}
	}
	v.district.SetSelected(prev.district.Selected)
	if i := slices.Index(prev.enroll.Options, prev.enroll.Selected); i >= 0 && i < len(v.enroll.Options) {
		v.enroll.SetSelected(v.enroll.Options[i])
	}
	v.folder = prev.folder
	if v.folder != "" {
		v.hqLabel.SetText(v.folder)
	}
	v.pass.SetText(prev.pass.Text)
	v.pass2.SetText(prev.pass2.Text)
	v.keyPass.SetText(prev.keyPass.Text)
	v.keyPass2.SetText(prev.keyPass2.Text)
	v.scrollTo = prev.scroll.Offset
}

func newSetupView(lang string) *setupView {
	v := &setupView{lang: lang, name: widget.NewEntry(), hqLabel: widget.NewLabel(text(lang, "setup.nohq")),
		errLabel: widget.NewLabel(""), roles: map[string]syncproto.Role{},
		pass: widget.NewPasswordEntry(), pass2: widget.NewPasswordEntry()}
	v.pass.SetPlaceHolder(text(lang, "setup.pass.hint"))
	v.pass2.SetPlaceHolder(text(lang, "setup.pass.again"))
	v.keyPass, v.keyPass2 = widget.NewPasswordEntry(), widget.NewPasswordEntry()
	v.keyPass.SetPlaceHolder(text(lang, "setup.keypass.hint"))
	v.keyPass2.SetPlaceHolder(text(lang, "setup.pass.again"))
	v.keyWarn = widget.NewLabel(text(lang, "setup.keypass.none"))
	v.keyWarn.Importance = widget.WarningImportance
	v.keyWarn.Wrapping = fyne.TextWrapWord
	v.keyPass.OnChanged = func(p string) {
		if p == "" {
			v.keyWarn.Show()
		} else {
			v.keyWarn.Hide()
		}
	}
	host, _ := os.Hostname()
	v.name.SetText(defaultName(host))
	v.name.SetPlaceHolder(text(lang, "setup.name.hint"))
	var roleLabels []string
	for _, r := range syncproto.Roles {
		l := text(lang, "role."+string(r))
		v.roles[l] = r
		roleLabels = append(roleLabels, l)
	}
	v.enroll = widget.NewRadioGroup(nil, func(string) { v.passFields() })
	v.role = widget.NewRadioGroup(roleLabels, func(string) { v.enrollChoices() })
	v.role.Horizontal = true
	v.role.SetSelected(roleLabels[0])
	v.district = widget.NewSelect(schemas.Districts, nil)
	v.district.SetSelected(schemas.Districts[0])
	v.errLabel.Importance = widget.DangerImportance
	v.errLabel.Wrapping = fyne.TextWrapWord
	v.errLabel.Hide()
	v.start = widget.NewButton(text(lang, "setup.start"), nil)
	v.start.Importance = widget.HighImportance
	return v
}

// enrollChoices offers the enrollments the chosen role can have.
func (v *setupView) enrollChoices() {
	choices := []string{text(v.lang, "setup.later"), text(v.lang, "setup.hqdir")}
	if v.roles[v.role.Selected] == syncproto.RoleHQ {
		choices = append(choices, text(v.lang, "setup.makeca"))
	}
	v.enroll.Options = choices
	if !slices.Contains(choices, v.enroll.Selected) {
		v.enroll.Selected = choices[0]
	}
	v.enroll.Refresh()
	v.passFields()
}

// passFields asks a new authority's passphrase twice.
func (v *setupView) passFields() {
	if v.enroll.Selected == text(v.lang, "setup.makeca") {
		v.pass2.Show()
	} else {
		v.pass2.Hide()
	}
}

// content is the form between its title, with the language button, and
// its Start button, which stay in view however small the screen: the
// form scrolls between them.
func (v *setupView) content(pick fyne.CanvasObject) fyne.CanvasObject {
	intro := widget.NewLabel(text(v.lang, "setup.intro"))
	intro.Wrapping = fyne.TextWrapWord
	// Each label above its field, not beside it: the widest label and
	// the widest field side by side do not fit a small screen.
	form := container.NewVBox()
	for _, item := range []struct {
		label string
		field fyne.CanvasObject
	}{
		{"setup.name", v.name},
		{"setup.role", v.role},
		{"setup.district", v.district},
		{"setup.enroll", container.NewVBox(v.enroll, container.NewHBox(pick, v.hqLabel))},
		{"setup.passphrase", container.NewVBox(v.pass, v.pass2)},
		{"setup.keypass", container.NewVBox(v.keyPass, v.keyPass2, v.keyWarn)},
	} {
		form.Add(widget.NewLabelWithStyle(text(v.lang, item.label), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		form.Add(item.field)
	}
	title := widget.NewLabelWithStyle(text(v.lang, "setup.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	var top fyne.CanvasObject = title
	if v.langBtn != nil {
		top = container.NewBorder(nil, nil, nil, v.langBtn, title)
	}
	v.scroll = container.NewVScroll(container.NewVBox(intro, form))
	v.scroll.Offset = v.scrollTo
	return container.NewPadded(container.NewBorder(top, container.NewVBox(v.errLabel, v.start), nil, nil, v.scroll))
}

// values reads the form: what node to make and how to enroll it. The
// passphrase of the node's key, if one is typed in either entry, is
// checked here too (sealWith puts it in the configuration).
func (v *setupView) values() (node.Identity, Enrollment, error) {
	id := node.Identity{Name: strings.TrimSpace(v.name.Text), Role: v.roles[v.role.Selected], District: v.district.Selected}
	if err := id.Validate(); err != nil {
		return id, Enrollment{}, err
	}
	if v.keyPass.Text != "" || v.keyPass2.Text != "" {
		if v.keyPass.Text != v.keyPass2.Text {
			return id, Enrollment{}, fmt.Errorf("%s: %s", text(v.lang, "setup.keypass"), text(v.lang, "setup.pass.differ"))
		}
		if err := node.CheckPassphrase([]byte(v.keyPass.Text)); err != nil {
			return id, Enrollment{}, fmt.Errorf("%s: %w", text(v.lang, "setup.keypass"), err)
		}
	}
	var e Enrollment
	switch v.enroll.Selected {
	case text(v.lang, "setup.hqdir"):
		if v.folder == "" {
			return id, e, errors.New(text(v.lang, "setup.needhq"))
		}
		e.Folder = v.folder
		e.Passphrase = []byte(v.pass.Text)
	case text(v.lang, "setup.makeca"):
		if v.pass.Text != v.pass2.Text {
			return id, e, errors.New(text(v.lang, "setup.pass.differ"))
		}
		if err := node.CheckPassphrase([]byte(v.pass.Text)); err != nil {
			return id, e, err
		}
		e.MakeCA = true
		e.Passphrase = []byte(v.pass.Text)
	}
	return id, e, nil
}

// sealWith is cfg with the node's key to be sealed with the passphrase
// typed, if one was (values checked it).
func (v *setupView) sealWith(cfg node.Config) node.Config {
	if p := []byte(v.keyPass.Text); len(p) > 0 {
		cfg.SealKey = true
		cfg.Passphrase = func() ([]byte, error) { return p, nil }
	}
	return cfg
}

// defaultName is a node name made from the computer's: lower case, with
// what a name may not hold replaced by dashes.
func defaultName(host string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(host) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		return "field-laptop"
	}
	if len(name) > 48 {
		name = name[:48]
	}
	return name
}
