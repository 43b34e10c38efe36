package tui

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
)

// settle hands msg to m and runs what it starts (a jump, a verification,
// a fix plan, a read) a few levels deep, as the program would; a cursor's
// blink and a spinner's tick, which wait on a timer, are not run.
func settle(m *Model, msg tea.Msg) {
	_, cmd := m.Update(msg)
	for i := 0; cmd != nil && i < 4; i++ {
		out := run(cmd)
		if _, quit := out.(tea.QuitMsg); quit || out == nil {
			return
		}
		if b, ok := out.(tea.BatchMsg); ok {
			for _, c := range b {
				if o := run(c); o != nil {
					m.Update(o)
				}
			}
			return
		}
		_, cmd = m.Update(out)
	}
}

// run runs cmd unless it only waits on a timer (a blink, a tick).
func run(cmd tea.Cmd) tea.Msg {
	if cmd == nil {
		return nil
	}
	name := runtime.FuncForPC(reflect.ValueOf(cmd).Pointer()).Name()
	if strings.Contains(name, "/cursor.") || strings.Contains(name, "/spinner.") {
		return nil
	}
	return cmd()
}

// keyUniverse is every key a test presses: each printable character and
// the named keys the explorer could answer to.
func keyUniverse() []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for r := rune(33); r < 127; r++ {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	for _, c := range []rune{tea.KeySpace, tea.KeyEnter, tea.KeyEscape, tea.KeyTab, tea.KeyUp, tea.KeyDown, tea.KeyLeft, tea.KeyRight,
		tea.KeyPgUp, tea.KeyPgDown, tea.KeyHome, tea.KeyEnd, tea.KeyBackspace} {
		out = append(out, tea.KeyPressMsg{Code: c})
	}
	out = append(out, tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
	for _, r := range "bfunpc" {
		out = append(out, tea.KeyPressMsg{Code: r, Mod: tea.ModCtrl})
	}
	return out
}

// keyState is a page and state to press every key in.
type keyState struct {
	name string
	live bool     // on the live test cluster (the fix's dry run)
	keys []string // keyMsg's names
	text string   // typed after keys
	then []string
	// typing: printable keys type (they are not each listed).
	typing bool
}

var keyStates = []keyState{
	{name: "subjects list", keys: []string{"1", "<down>", "<down>", "<down>"}},
	{name: "subjects filter line", keys: []string{"1", "/"}, text: "u-", typing: true},
	{name: "subjects filtered list", keys: []string{"1", "/"}, text: "u", then: []string{"<enter>", "<down>", "<down>"}},
	{name: "subjects matrix", keys: []string{"1", "/"}, text: "system:nodes", then: []string{"<enter>", "<enter>", "<down>", "<right>"}},
	{name: "subjects matrix with scopes", keys: []string{"1", "/"}, text: "u-ns-admin", then: []string{"<enter>", "<enter>", "<down>", "<right>"}},
	{name: "subjects YAML", keys: []string{"1", "/"}, text: "kind:sa", then: []string{"<enter>", "<enter>", "v"}},
	{name: "who can query line", keys: []string{"2"}, text: "get secr", typing: true},
	{name: "who can list", keys: []string{"2"}, text: "get secrets -A", then: []string{"<enter>", "<down>", "<down>"}},
	{name: "who can detail", keys: []string{"2"}, text: "get secrets -A", then: []string{"<enter>", "<down>", "<enter>", "<down>"}},
	{name: "who can YAML", keys: []string{"2"}, text: "get secrets -A", then: []string{"<enter>", "<down>", "<enter>", "<down>", "v"}},
	{name: "findings list", keys: []string{"3", "<down>", "<down>", "<down>"}},
	{name: "findings filter line", keys: []string{"3", "/"}, text: "rule:", typing: true},
	{name: "findings detail", keys: []string{"3", "<down>", "<down>", "<enter>", "<down>"}},
	{name: "findings YAML", keys: []string{"3", "<down>", "<down>", "<enter>", "<down>", "v"}},
	{name: "findings fix", keys: []string{"3", "/"}, text: "rule:secrets-read", then: []string{"<enter>", "f", "<down>"}},
	{name: "findings fix confirmation", live: true, keys: []string{"3", "/"}, text: "rule:secrets-read", then: []string{"<enter>", "a"}},
	{name: "roles list", keys: []string{"4", "<down>", "<down>", "<down>"}},
	{name: "roles detail", keys: []string{"4", "/"}, text: "audit-all-star", then: []string{"<enter>", "<enter>", "<down>"}},
	{name: "roles YAML", keys: []string{"4", "/"}, text: "audit-all-star", then: []string{"<enter>", "<enter>", "v"}},
	{name: "help", keys: []string{"3", "?"}},
	{name: "problems", keys: []string{"!"}},
}

// setupState builds a model in st, at w x h, on sess.
func setupState(t *testing.T, sess *access.Session, st keyState, w, h int) *Model {
	t.Helper()
	if st.live {
		// A fresh cluster each time: a key may have applied the fix.
		a, _ := liveApp(t)
		sess = loadSession(t, a)
		sess.Report()
	}
	m := New(t.Context(), Options{App: sess.App, Initial: sess, WriteDir: t.TempDir()})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(auditedMsg{sess: sess})
	for _, k := range st.keys {
		settle(m, keyMsg(k))
	}
	for _, r := range st.text {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	for _, k := range st.then {
		settle(m, keyMsg(k))
	}
	return m
}

// screenOf is what a key may change: the screen, and whether it quits.
func screenOf(m *Model) string {
	return fmt.Sprintf("%s\nquit=%v", plain(m.render()), m.quitting)
}

func listed(keys []key.Binding, msg tea.KeyPressMsg) (key.Binding, bool) {
	for _, b := range keys {
		if key.Matches(msg, b) {
			return b, true
		}
	}
	return key.Binding{}, false
}

// TestEveryKeyListedActs: on every page and state, every key the state
// lists (the footer's and ?'s, from the page's help and the explorer's
// keys) changes the screen, and every key it does not list changes
// nothing. So ? never leaves out a key that acts, nor lists one that does
// nothing.
func TestEveryKeyListedActs(t *testing.T) {
	offline := loadSession(t, offlineApp(t))
	offline.Report()
	liveA, _ := liveApp(t)
	live := loadSession(t, liveA)
	live.Report()
	universe := keyUniverse()
	for _, st := range keyStates {
		t.Run(st.name, func(t *testing.T) {
			sess := offline
			if st.live {
				sess = live
			}
			m := setupState(t, sess, st, 80, 24)
			before := screenOf(m)
			page, global := m.stateKeys()
			all := append(append([]key.Binding{}, page...), global...)
			if len(page) == 0 && !st.typing && m.sess != nil && !m.showHelp && !m.showProblems {
				t.Fatalf("no keys of the page listed:\n%s", before)
			}
			// ? lists them all, each as the footer says it (captured as ?
			// does: while typing, ? is a letter).
			if !m.showHelp {
				m.helpFor, m.helpPage, m.helpGlobal = m.stateName(), page, global
				help := plain(m.fullHelp())
				for _, b := range all {
					if h := b.Help(); !strings.Contains(help, h.Key+" "+h.Desc) {
						t.Errorf("? does not list %q %q:\n%s", h.Key, h.Desc, help)
					}
				}
			}
			for _, msg := range universe {
				b, isListed := listed(all, msg)
				if st.typing && !isListed && msg.Text != "" && unicode.IsPrint([]rune(msg.Text)[0]) {
					continue // letters type
				}
				m := setupState(t, sess, st, 80, 24)
				settle(m, msg)
				after := screenOf(m)
				changed := after != before
				switch {
				case isListed && !changed && b.Help().Desc == editKeys.Help().Desc:
					// the cursor at the line's end: left and right as
					// the line stands
				case isListed && !changed:
					t.Errorf("%q is listed (%s %s) but changes nothing", msg.String(), b.Help().Key, b.Help().Desc)
				case !isListed && changed && !(st.name == "help" || st.name == "problems"):
					t.Errorf("%q is not listed but acts:\n%s", msg.String(), diffLines(before, after))
				}
			}
		})
	}
}

// diffLines shows the lines of b that differ from a.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("-%s\n+%s", x, y))
		}
	}
	if len(out) > 6 {
		out = out[:6]
	}
	return strings.Join(out, "\n")
}

// TestFooterHelpAndQuitEverywhere: at 80x24 and 60x20, on every page and
// state, the footer's last line shows ? and q and fits the width.
func TestFooterHelpAndQuitEverywhere(t *testing.T) {
	offline := loadSession(t, offlineApp(t))
	offline.Report()
	liveA, _ := liveApp(t)
	live := loadSession(t, liveA)
	live.Report()
	for _, size := range [][2]int{{80, 24}, {60, 20}} {
		for _, st := range keyStates {
			sess := offline
			if st.live {
				sess = live
			}
			m := setupState(t, sess, st, size[0], size[1])
			screen := plain(m.render())
			lines := strings.Split(screen, "\n")
			last := lines[len(lines)-1]
			if len(lines) != size[1] || !strings.Contains(last, "? ") || !strings.Contains(last, "q quit") || ansi.StringWidth(last) > size[0] {
				t.Errorf("%dx%d %s: the footer %q loses ? or q (or the screen is not %d lines):\n%s", size[0], size[1], st.name, last, size[1], screen)
			}
		}
	}
}

// statusOf is the status line of a screen: the line above the keys.
func statusOf(screen string) string {
	lines := strings.Split(plain(screen), "\n")
	return lines[len(lines)-2]
}

// TestStatusLineClears: the status says a state while it lasts. After an
// apply, "reloading" goes once the reload is done (the restore command
// stays until the next action); the next key, or a manual reload, clears
// it; a failed reload is said until the next key.
func TestStatusLineClears(t *testing.T) {
	apply := func(t *testing.T) (*flow, *testCluster) {
		a, c := liveApp(t)
		f := start(t, a, 100, 40, Options{})
		f.keys("3", "/")
		f.typeText("user:u-secrets")
		f.keys("<enter>", "a")
		f.wait(planMsg{})
		f.wait(dryRunMsg{})
		f.keys("Y")
		if ap := f.wait(appliedMsg{}).(appliedMsg); ap.err != nil {
			t.Fatal(ap.err)
		}
		f.loaded()
		return f, c
	}
	t.Run("reload done", func(t *testing.T) {
		f, _ := apply(t)
		_, screen := f.finish()
		if s := statusOf(screen); !strings.Contains(s, "applied the fix for") || strings.Contains(s, "reloading") {
			t.Errorf("after the reload the status is %q", s)
		}
	})
	t.Run("next key", func(t *testing.T) {
		f, _ := apply(t)
		f.keys("<esc>")
		_, screen := f.finish()
		if s := statusOf(screen); strings.Contains(s, "applied") {
			t.Errorf("after the next key the status is %q", s)
		}
	})
	t.Run("manual reload", func(t *testing.T) {
		f, _ := apply(t)
		f.keys("r")
		f.loaded()
		_, screen := f.finish()
		if s := statusOf(screen); strings.Contains(s, "applied") || strings.Contains(s, "reloading") {
			t.Errorf("after r the status is %q", s)
		}
	})
	for _, next := range []bool{false, true} {
		t.Run(fmt.Sprintf("failed reload, then a key %v", next), func(t *testing.T) {
			a, c := liveApp(t)
			f := start(t, a, 100, 40, Options{})
			c.mu.Lock()
			c.loadErr = errors.New("connection refused")
			c.mu.Unlock()
			f.keys("r")
			f.wait(loadedMsg{})
			if next {
				f.keys("<down>")
			}
			m, screen := f.finish()
			if s := statusOf(screen); strings.Contains(s, "reload failed: connection refused") == next {
				t.Errorf("the status is %q", s)
			}
			if m.sess == nil {
				t.Fatal("the failed reload dropped the view")
			}
		})
	}
}

// luminance is the WCAG relative luminance of a "#RRGGBB" colour.
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	var r, g, b int
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
		t.Fatalf("%s: %v", hex, err)
	}
	lin := func(c int) float64 {
		v := float64(c) / 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// TestSeverityColorsReadable: each severity's colour contrasts at least
// 3:1 (WCAG) with a black and with a white background, and no two are
// alike (at least 60 apart in RGB, the width of a hue step).
func TestSeverityColorsReadable(t *testing.T) {
	if len(SeverityColors) != 5 {
		t.Fatalf("%d severity colours, want 5", len(SeverityColors))
	}
	rgb := map[audit.Severity][3]int{}
	for sev, hex := range SeverityColors {
		l := luminance(t, hex)
		onBlack, onWhite := (l+0.05)/0.05, 1.05/(l+0.05)
		if onBlack < 3 || onWhite < 3 {
			t.Errorf("%s %s: contrast %.2f:1 on black, %.2f:1 on white, want 3:1 on both", sev, hex, onBlack, onWhite)
		}
		var c [3]int
		if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &c[0], &c[1], &c[2]); err != nil {
			t.Fatal(err)
		}
		rgb[sev] = c
	}
	for a, ca := range rgb {
		for b, cb := range rgb {
			if a >= b {
				continue
			}
			d := math.Sqrt(float64((ca[0]-cb[0])*(ca[0]-cb[0]) + (ca[1]-cb[1])*(ca[1]-cb[1]) + (ca[2]-cb[2])*(ca[2]-cb[2])))
			if d < 60 {
				t.Errorf("%s and %s are %.0f apart, too alike", a, b, d)
			}
		}
	}
}

// TestWholeRowHighlight: on every page the cursor's row is one reverse
// run from its first cell to its last (Findings' severity colour did end
// it after the severity word).
func TestWholeRowHighlight(t *testing.T) {
	sess := loadSession(t, offlineApp(t))
	sess.Report()
	for _, st := range []keyState{
		{name: "subjects", keys: []string{"1"}},
		{name: "who can", keys: []string{"2"}, text: "get secrets -A", then: []string{"<enter>"}},
		{name: "findings", keys: []string{"3"}},
		{name: "roles", keys: []string{"4"}},
	} {
		m := setupState(t, sess, st, 120, 30)
		var p *list
		switch pg := m.pages[m.active].(type) {
		case *subjectsPage:
			p = pg.list
		case *whoCanPage:
			p = pg.list
		case *findingsPage:
			p = pg.list
		case *rolesPage:
			p = pg.list
		}
		for _, l := range strings.Split(p.view(), "\n") {
			if !strings.Contains(l, "›") {
				continue
			}
			// One style opened, closed once at the end.
			if n := strings.Count(l, "\x1b["); n > 2 {
				t.Errorf("%s: the cursor row changes style %d times: %q", st.name, n, l)
			}
		}
	}
}

// TestSeverityColorsOn16Colours: on a 16-colour terminal the severities
// take five different colours of its own (critical no longer the bright
// twin of high's red).
func TestSeverityColorsOn16Colours(t *testing.T) {
	seen := map[string]audit.Severity{}
	for sev, st := range SeverityStyles(colorprofile.ANSI) {
		c := fmt.Sprint(st.GetForeground())
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s share the colour %s", sev, other, c)
		}
		seen[c] = sev
	}
	if len(seen) != 5 {
		t.Errorf("%d colours for 5 severities", len(seen))
	}
}

// keysMarkdown is the README's key table: a row per group of the full
// help, each key as ? and the footer say it.
func keysMarkdown(k *KeyMap) string {
	var b strings.Builder
	b.WriteString("| keys | |\n| --- | --- |\n")
	for _, g := range k.HelpGroups() {
		var keys []string
		for _, kb := range g.Keys {
			h := kb.Help()
			keys = append(keys, "`"+h.Key+"` "+strings.ReplaceAll(h.Desc, "|", `\|`))
		}
		b.WriteString("| " + g.Name + " | " + strings.Join(keys, " · ") + " |\n")
	}
	return b.String()
}

// TestReadmeKeys: the README's key table is the key map's, as ? lists it
// (UPDATE_DOCS=1 go test ./tui -run TestReadmeKeys writes it).
func TestReadmeKeys(t *testing.T) {
	const doc = "../README.md"
	const begin, end = "<!-- keys: begin (from tui.KeyMap: UPDATE_DOCS=1 go test ./tui -run TestReadmeKeys) -->\n", "<!-- keys: end -->"
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %q ... %q markers", doc, begin, end)
	}
	want := keysMarkdown(DefaultKeyMap())
	if s[i+len(begin):j] == want {
		return
	}
	if os.Getenv("UPDATE_DOCS") == "1" {
		if err := os.WriteFile(doc, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the key table of %s is not the key map's: run UPDATE_DOCS=1 go test ./tui -run TestReadmeKeys", doc)
}

// TestEveryKeyListedActsAtTheEnds: on a list's first and last row, the
// keys listed still all act (up is not listed on the first, down not on
// the last), and those not listed do nothing.
func TestEveryKeyListedActsAtTheEnds(t *testing.T) {
	sess := loadSession(t, offlineApp(t))
	sess.Report()
	for _, st := range []keyState{
		{name: "first", keys: []string{"4"}},
		{name: "last", keys: []string{"4", "G"}},
	} {
		m := setupState(t, sess, st, 80, 24)
		before := screenOf(m)
		page, global := m.stateKeys()
		all := append(append([]key.Binding{}, page...), global...)
		for _, msg := range []tea.KeyPressMsg{keyMsg("<up>"), keyMsg("<down>"), {Code: tea.KeyHome}, {Code: tea.KeyEnd}, {Code: tea.KeyPgUp}, {Code: tea.KeyPgDown}} {
			_, isListed := listed(all, msg)
			m := setupState(t, sess, st, 80, 24)
			settle(m, msg)
			if changed := screenOf(m) != before; changed != isListed {
				t.Errorf("%s row: %s listed %v, changed the screen %v", st.name, msg.String(), isListed, changed)
			}
		}
	}
}
