// Package tui is the interactive explorer: a Bubble Tea v2 program with a
// root model that owns one model per page (Subjects, Who can, Findings,
// Roles & bindings) and a Common of size, styles and keys. It reaches the
// cluster only through the application layer (package access), inside
// tea.Cmds that return typed messages; the model changes only in Update.
// It never imports client-go (a test of the import graph holds it to
// that).
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/loading"
)

// Options configure the explorer.
type Options struct {
	// App is where the data comes from: a cluster or files.
	App *access.App
	// WriteDir is where `w` writes fixes (default: the working directory).
	WriteDir string
	// Overwrite lets `w` replace a file of the same name.
	Overwrite bool
	// AllowLockout lets the fix flow offer a fix that leaves no person
	// with cluster-admin-equivalent rights (fix --allow-lockout); its
	// summary then says so.
	AllowLockout bool
	// Initial is a session already loaded; nil makes the explorer load one.
	Initial *access.Session
	// Page is the page to open on (0-3).
	Page int
	// Notices are lines to show as they come: what the credential plugin
	// prints while the screen is taken (a device code to enter, an error).
	Notices <-chan string
	// SignIn returns the command that signs in again on the real terminal
	// (the explorer hands the screen to it); nil when there is none.
	SignIn func(context.Context) tea.ExecCommand
}

// Model is the explorer's root model.
type Model struct {
	c        *Common
	deps     *deps
	sess     *access.Session
	pages    []page
	active   int
	loading  bool
	progress string
	spin     spinner.Model
	loadErr  error
	session  bool // the last error was a rejected sign-in
	// note is the explorer's word on the last action (cleared by the
	// next key); notice, the credential plugin's last line (cleared
	// when a load ends).
	note, notice string
	showHelp     bool
	// showProblems: the Problems panel (!) is open.
	showProblems bool
	// panelTop is the first line of the help or Problems panel shown;
	// panelMax the last it can be.
	panelTop, panelMax int
	// helpFor, helpPage and helpGlobal are the state ? was pressed in
	// and its keys, which the help lists first.
	helpFor              string
	helpPage, helpGlobal []key.Binding
	help                 help.Model
	loadCh               chan tea.Msg
	quitting             bool
	// interrupted: the user quit with Ctrl-C (the command exits 130).
	interrupted bool
	notices     <-chan string
	// lastScreen is the screen at the last screenMsg.
	lastScreen string
	// back are where jumps came from (esc returns to the last).
	back []place
}

// place is a page and, where the page can say, the object it showed.
type place struct {
	page int
	here *jumpMsg
}

// New returns the explorer's model.
func New(ctx context.Context, o Options) *Model {
	c := &Common{Styles: NewStyles(), Keys: DefaultKeyMap(), Width: 80, Height: 24}
	d := &deps{ctx: ctx, app: o.App, writeDir: o.WriteDir, overwrite: o.Overwrite, allowLockout: o.AllowLockout, signIn: o.SignIn}
	if d.writeDir == "" {
		d.writeDir = "."
	}
	m := &Model{c: c, deps: d, help: help.New(), notices: o.Notices}
	// The footer's separators in the muted grey of the rest: help's own
	// default is near-black, lost on a dark terminal.
	m.help.Styles.ShortSeparator = c.Styles.Muted
	m.spin = spinner.New(spinner.WithSpinner(spinner.Dot))
	m.pages = make([]page, pageCount)
	m.pages[pageSubjects], m.pages[pageWhoCan], m.pages[pageFindings], m.pages[pageRoles] = newSubjectsPage(c, d), newWhoCanPage(c, d), newFindingsPage(c, d), newRolesPage(c, d)
	m.active = min(max(o.Page, 0), len(m.pages)-1)
	if o.Initial != nil {
		m.setSession(o.Initial)
	}
	return m
}

// Init starts the first load, unless the data came with the options.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.waitNotice()}
	if m.sess != nil {
		cmds = append(cmds, m.enterPage(m.active), m.audit())
	} else {
		cmds = append(cmds, m.startLoad())
	}
	return tea.Batch(cmds...)
}

func (m *Model) waitNotice() tea.Cmd {
	if m.notices == nil {
		return nil
	}
	ch := m.notices
	return func() tea.Msg {
		n, ok := <-ch
		if !ok {
			return nil
		}
		return noticeMsg(n)
	}
}

// setSession hands the session to every page and builds the page on
// screen; the others build when first shown.
func (m *Model) setSession(s *access.Session) {
	m.sess = s
	for _, p := range m.pages {
		p.setSession(s)
	}
	m.pages[m.active].build()
}

// audit runs the session's audit after the first screen: the Findings
// page and the FINDINGS column fill in when it ends.
func (m *Model) audit() tea.Cmd {
	s := m.sess
	if s == nil {
		return nil
	}
	return func() tea.Msg {
		s.Report()
		return auditedMsg{sess: s}
	}
}

// startLoad opens a session in a command; progress arrives as messages
// through a channel the model reads one message at a time.
func (m *Model) startLoad() tea.Cmd {
	m.loading, m.progress, m.loadErr, m.session = true, "connecting", nil, false
	ch := make(chan tea.Msg, 16)
	m.loadCh = ch
	go load(m.deps.ctx, m.deps.app, ch)
	return tea.Batch(m.spin.Tick, waitFor(ch))
}

// load reads everything, reporting progress on ch as LIST pages arrive,
// then the session (the audit runs after the first screen is drawn).
func load(ctx context.Context, app *access.App, ch chan<- tea.Msg) {
	progress := func(s string) {
		select {
		case ch <- progressMsg(s):
		default: // a slow screen skips progress, never the result
		}
	}
	var mu sync.Mutex
	counts := map[string]int{}
	ctx = loading.WithProgress(ctx, func(resource string, n int) {
		mu.Lock()
		counts[resource] = n
		total := 0
		for _, c := range counts {
			total += c
		}
		mu.Unlock()
		progress(fmt.Sprintf("%s objects read (%s: %s)", itoa(total), resource, itoa(n)))
	})
	progress("reading " + app.Origin.String())
	sess, err := app.Open(ctx, loading.Full)
	ch <- loadedMsg{sess: sess, err: err}
}

func waitFor(ch chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

// Update is the only place the model changes.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.Width, m.c.Height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case tea.ColorProfileMsg:
		// The terminal's colours known: the severities' styles for it,
		// and the rows drawn with them drawn again.
		m.c.Styles.Severity = SeverityStyles(msg.Profile)
		m.pages[pageFindings].(*findingsPage).restyle()
		return m, nil
	case screenMsg:
		m.lastScreen = m.render()
		return m, nil
	case noticeMsg:
		m.notice = string(msg)
		return m, m.waitNotice()
	case progressMsg:
		m.progress = string(msg)
		return m, waitFor(m.loadCh)
	case loadedMsg:
		m.loading = false
		if msg.err != nil {
			m.loadErr = msg.err
			m.session = errors.Is(msg.err, access.ErrSignIn)
			return m, nil
		}
		m.notice = ""
		m.setSession(msg.sess)
		m.resize()
		return m, tea.Batch(m.enterPage(m.active), m.audit())
	case auditedMsg:
		if msg.sess == m.sess {
			for _, p := range m.pages {
				p.audited()
			}
		}
		return m, nil
	case spinner.TickMsg:
		if !m.loading {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case reloadMsg:
		if m.loading {
			return m, nil
		}
		return m, m.startLoad()
	case signedInMsg:
		if msg.err != nil {
			m.loadErr, m.session = fmt.Errorf("sign-in failed: %w", msg.err), true
			return m, nil
		}
		return m, m.startLoad()
	case jumpMsg:
		return m, m.jump(msg)
	case whoCanVerifiedMsg, whoCanMembersMsg:
		// To its page, whichever is shown now.
		return m, m.pages[pageWhoCan].update(msg)
	case subjectVerifiedMsg, subjectGroupsMsg:
		return m, m.pages[pageSubjects].update(msg)
	case appliedMsg:
		if msg.err != nil && errors.Is(msg.err, access.ErrSignIn) {
			m.loadErr, m.session = msg.err, true
		}
	case tea.KeyPressMsg:
		// What the status said of the last action ends with the next
		// one: a note, a failed reload (a rejected sign-in stays, with
		// what to do).
		m.note = ""
		if m.sess != nil && !m.session {
			m.loadErr = nil
		}
		if cmd, done := m.globalKey(msg); done {
			return m, cmd
		}
		// esc on a page a jump led to, with nothing of its own to step
		// back from, returns to where the jump came from.
		if n := len(m.back); n > 0 && m.sess != nil && key.Matches(msg, m.c.Keys.Back) {
			if t, ok := m.pages[m.active].(interface{ atTop() bool }); ok && t.atTop() {
				prev := m.back[n-1]
				m.back = m.back[:n-1]
				cmd := m.enterPage(prev.page)
				if prev.here != nil {
					m.show(prev.page, *prev.here)
				}
				return m, cmd
			}
		}
	}
	if m.sess == nil {
		return m, nil
	}
	return m, m.pages[m.active].update(msg)
}

// globalKey handles the keys every page shares; done is false when the
// key belongs to the page.
func (m *Model) globalKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.c.Keys
	if key.Matches(msg, k.ForceQuit) {
		m.quitting, m.interrupted = true, true
		return tea.Quit, true
	}
	if m.showHelp || m.showProblems {
		return m.panelKey(msg), true
	}
	typing := m.sess != nil && m.pages[m.active].typing()
	if typing {
		return nil, false
	}
	switch {
	case key.Matches(msg, k.Quit):
		m.quitting = true
		return tea.Quit, true
	case key.Matches(msg, k.Help):
		m.helpFor, m.panelTop = m.stateName(), 0
		m.helpPage, m.helpGlobal = m.stateKeys()
		m.showHelp = true
		return nil, true
	case key.Matches(msg, k.Problems) && m.sess != nil:
		m.showProblems, m.panelTop = true, 0
		return nil, true
	case key.Matches(msg, k.SignIn) && m.session:
		if m.deps.signIn != nil {
			return tea.Exec(m.deps.signIn(m.deps.ctx), func(err error) tea.Msg { return signedInMsg{err: err} }), true
		}
		return nil, true
	case key.Matches(msg, k.Reload):
		if m.loading {
			return nil, true
		}
		return m.startLoad(), true
	}
	if m.sess == nil {
		return nil, true
	}
	switch {
	case key.Matches(msg, k.Narrow), key.Matches(msg, k.Widen):
		shift := m.c.ListShift + 1
		if key.Matches(msg, k.Narrow) {
			shift = m.c.ListShift - 1
		}
		m.c.ListShift = min(max(shift, -2), 3)
		m.resize()
		return nil, true
	case key.Matches(msg, k.Zoom):
		m.c.Zoom = !m.c.Zoom
		m.resize()
		return nil, true
	case key.Matches(msg, k.NextPage):
		return m.enterPage((m.active + 1) % len(m.pages)), true
	case key.Matches(msg, k.PrevPage):
		return m.enterPage((m.active + len(m.pages) - 1) % len(m.pages)), true
	case key.Matches(msg, k.Page1):
		return m.enterPage(pageSubjects), true
	case key.Matches(msg, k.Page2):
		return m.enterPage(pageWhoCan), true
	case key.Matches(msg, k.Page3):
		return m.enterPage(pageFindings), true
	case key.Matches(msg, k.Page4):
		return m.enterPage(pageRoles), true
	}
	return nil, false
}

// The explorer's pages, in the order of their keys (1-4) and tabs.
const (
	pageSubjects = iota
	pageWhoCan
	pageFindings
	pageRoles
	pageCount
)

// jump shows an object on its page and remembers where it came from.
func (m *Model) jump(j jumpMsg) tea.Cmd {
	target := -1
	switch {
	case j.subject != nil:
		target = pageSubjects
	case j.ref != nil:
		target = pageRoles
	}
	if target < 0 || m.sess == nil {
		return nil
	}
	from := place{page: m.active}
	if h, ok := m.pages[m.active].(interface{ here() *jumpMsg }); ok {
		from.here = h.here()
	}
	cmd := m.enterPage(target)
	if !m.show(target, j) {
		m.note = "not on its page: " + jumpName(j)
	}
	m.back = append(m.back, from)
	return cmd
}

// show selects the object of j on page i.
func (m *Model) show(i int, j jumpMsg) bool {
	switch p := m.pages[i].(type) {
	case *subjectsPage:
		return j.subject != nil && p.show(*j.subject)
	case *rolesPage:
		return j.ref != nil && p.show(*j.ref)
	}
	return false
}

func jumpName(j jumpMsg) string {
	if j.subject != nil {
		return safe.Terminal(j.subject.String())
	}
	return safe.Terminal(j.ref.String())
}

// enterPage switches pages.
func (m *Model) enterPage(i int) tea.Cmd {
	m.active = i
	m.pages[i].build()
	return m.pages[i].enter()
}

const headerLines, footerLines = 2, 2

func (m *Model) resize() {
	h := max(m.c.Height-headerLines-footerLines, 3)
	for _, p := range m.pages {
		p.setSize(m.c.Width, h)
	}
}

// View renders the whole screen.
func (m *Model) View() tea.View {
	var v tea.View
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "kubectl access"
	if m.quitting {
		return v
	}
	v.SetContent(m.render())
	return v
}

func (m *Model) render() string {
	w, h := m.c.Width, m.c.Height
	if w < 40 || h < 10 {
		return fit(ansi.Wordwrap(fmt.Sprintf("kubectl access needs at least 40x10 characters; this terminal is %dx%d. Enlarge it, or press q to quit.", w, h), w, " "), w, h)
	}
	var b strings.Builder
	b.WriteString(m.header() + "\n")
	bodyH := h - headerLines - footerLines
	switch {
	case m.showHelp:
		b.WriteString(m.panel(m.fullHelp(), bodyH))
	case m.showProblems && m.sess != nil:
		b.WriteString(m.panel(m.problems(), bodyH))
	case m.sess == nil && m.loading:
		b.WriteString(fit("\n  "+m.spin.View()+" loading: "+safe.Terminal(m.progress)+"…", w, bodyH))
	case m.sess == nil && m.loadErr != nil:
		b.WriteString(fit(m.errorText(), w, bodyH))
	case m.sess == nil:
		b.WriteString(fit("", w, bodyH))
	default:
		b.WriteString(fit(m.pages[m.active].view(), w, bodyH))
	}
	b.WriteString("\n" + m.footer())
	return b.String()
}

func (m *Model) errorText() string {
	st := m.c.Styles
	var b strings.Builder
	if m.session {
		b.WriteString("\n  " + st.Error.Render("Your session has expired or was rejected.") + "\n\n")
		b.WriteString("  " + wrapText(safe.Error(m.loadErr), m.c.Width-4, "  ") + "\n\n")
		hint := "Sign in again (for example `kubelogin convert-kubeconfig` or `az login`), then press r to reload; q quits."
		if m.deps.signIn != nil {
			hint = "Press L to sign in again: the explorer hands the terminal to the sign-in (a device-code prompt shows there), then reloads. r retries, q quits."
		}
		b.WriteString("  " + wrapText(hint, m.c.Width-4, "  ") + "\n")
		return b.String()
	}
	b.WriteString("\n  " + st.Error.Render("Could not load the cluster") + "\n\n  " + wrapText(safe.Error(m.loadErr), m.c.Width-4, "  ") + "\n\n  r retries, q quits.\n")
	return b.String()
}

func wrapText(s string, w int, indent string) string {
	return strings.ReplaceAll(ansi.Wordwrap(s, max(w, 20), " "), "\n", "\n"+indent)
}

func (m *Model) header() string {
	st, w := m.c.Styles, m.c.Width
	src := ""
	if m.sess != nil {
		src = safe.Terminal(m.deps.app.Origin.String())
		switch {
		case m.sess.AzureRBACPending():
			// Azure RBAC decides after RBAC and its assignments are not
			// read: every page's Entra answers lack what it grants.
			src = st.Incomplete.Render("INCOMPLETE VIEW: Azure RBAC decides too, not loaded (! why)") + " " + src
		case m.sess.Incomplete():
			src = st.Incomplete.Render("INCOMPLETE VIEW (! why)") + " " + src
		}
	}
	title := st.Title.Render("kubectl access") + "  " + st.Source.Render(src)
	var tabs []string
	for i, p := range m.pages {
		t := fmt.Sprintf("%d %s", i+1, p.title())
		if b := p.badge(); b != "" && m.sess != nil {
			t += " (" + b + ")"
		}
		if i == m.active {
			tabs = append(tabs, st.ActiveTab.Render("["+t+"]"))
		} else {
			tabs = append(tabs, st.Tab.Render(" "+t+" "))
		}
	}
	return ansi.Truncate(title, w, "…") + "\n" + ansi.Truncate(strings.Join(tabs, ""), w, "…")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// Run runs the explorer on the terminal until the user quits or ctx ends,
// and restores the terminal whatever happens. Ctrl-C inside the explorer
// and a signal outside it both end it with context.Canceled (the command
// exits 130, as the CLI does on Ctrl-C).
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer, opts ...tea.ProgramOption) error {
	m := New(ctx, o)
	opts = append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)}, opts...)
	final, err := tea.NewProgram(m, opts...).Run()
	switch {
	case errors.Is(err, tea.ErrInterrupted) || errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return context.Canceled
	case err != nil:
		return err
	}
	if fm, ok := final.(*Model); ok && fm.interrupted {
		return context.Canceled
	}
	return nil
}

// problems is the Problems panel: every gap and warning of the load, with
// its cause and what fixes it, as access says them.
func (m *Model) problems() string {
	st, w := m.c.Styles, m.c.Width
	ps := m.sess.Problems()
	var b strings.Builder
	b.WriteString("\n" + st.Title.Render("Problems of this view") + st.Muted.Render("  (any key closes)") + "\n\n")
	if len(ps) == 0 {
		b.WriteString("  " + st.Muted.Render("None: everything was read, nothing assumed.") + "\n")
		return b.String()
	}
	for _, p := range ps {
		label := st.Warning.Render("WARNING")
		if p.Kind == access.ProblemGap {
			label = st.Incomplete.Render("GAP    ")
		}
		b.WriteString("  " + label + " " + wrapText(safe.Terminal(p.What), w-12, "          ") + "\n")
		if p.Cause != "" {
			b.WriteString("          " + st.Muted.Render("cause: ") + wrapText(safe.Terminal(p.Cause), w-19, "                 ") + "\n")
		}
		if p.Fix != "" {
			b.WriteString("          " + st.Bold.Render("fix:   ") + wrapText(safe.Terminal(p.Fix), w-19, "                 ") + "\n")
		}
	}
	return b.String()
}
