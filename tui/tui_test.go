package tui

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// The flows run the real Bubble Tea program (teatest) over the audit's
// fixture read offline, as `kubectl access -f` does, at 80x24 unless a
// test says otherwise; golden files hold the final screen with the ANSI
// (16-colour) profile. Regenerate them with `go test ./tui -update`.

const fixtures = "../audit/testdata/fixtures.yaml"

var groupNames = identity.Names{"masters": "Masters (not system:masters)"}

// testCluster serves the fixture as a live cluster would: it "applies" a
// fix to its snapshot, so a reload after an apply shows the cluster
// without the finding, as a real one would. (The real cluster's side is
// the tmux test's.)
type testCluster struct {
	mu      sync.Mutex
	snap    *rbac.Snapshot
	loads   int
	applied int // operations applied for real
	loadErr error
	// reviews counts SubjectAccessReviews; allowAlso is a subject the
	// cluster's authorizer allows everything, beyond RBAC.
	reviews   int
	allowAlso string
}

var _ access.Cluster = (*testCluster)(nil)

func (c *testCluster) Load(context.Context, loading.Scope) (*rbac.Snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.loads++
	if c.loadErr != nil {
		return nil, c.loadErr
	}
	s := *c.snap
	return &s, nil
}

func (c *testCluster) Exists(context.Context, rbac.ObjectRef) (bool, error) { return true, nil }

func (c *testCluster) Do(_ context.Context, op fix.Operation, dryRun bool) (map[string]any, map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changes, err := fix.Preview(c.snap, &fix.Fix{Operations: []fix.Operation{op}})
	if err != nil {
		return nil, nil, err
	}
	if !dryRun {
		if c.snap, err = fix.Apply(c.snap, []fix.Operation{op}); err != nil {
			return nil, nil, err
		}
		c.applied++
	}
	return changes[0].Before, changes[0].After, nil
}

// Review answers as the engine does over the cluster's snapshot, except
// that it also allows everything to the subject named allowAlso, as a
// webhook authorizer after RBAC would. (The real authorizer's side is
// cmd's TestVerify, against a real API server and webhook.)
func (c *testCluster) Review(_ context.Context, sub rbac.Subject, at rbac.Attributes) (access.Decision, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reviews++
	if c.allowAlso != "" && sub.String() == c.allowAlso {
		return access.Decision{Allowed: true, Reason: "allowed by the test authorizer"}, nil
	}
	if rbac.NewIndex(c.snap).Can(sub.Identity(), at).Allowed {
		return access.Decision{Allowed: true, Reason: "RBAC: allowed"}, nil
	}
	return access.Decision{}, nil
}

func readFixture(t testing.TB) *rbac.Snapshot {
	t.Helper()
	res, err := source.Read(t.Context(), []string{fixtures}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Snapshot
}

// offlineApp reads the fixture as `kubectl access -f` does.
func offlineApp(t testing.TB) *access.App {
	cat := loading.Builtin()
	return &access.App{Files: []string{fixtures}, Origin: access.Origin{Files: []string{"fixtures.yaml"}},
		Catalog: cat, Resolver: cluster.NewResolver(cat), Names: groupNames, Namespace: "default"}
}

// liveApp serves the fixture from a testCluster.
func liveApp(t testing.TB) (*access.App, *testCluster) {
	c := &testCluster{snap: readFixture(t)}
	a := offlineApp(t)
	a.Files, a.Cluster, a.Origin = nil, c, access.Origin{Context: "test", Server: "https://test"}
	return a, c
}

func loadSession(t testing.TB, a *access.App) *access.Session {
	t.Helper()
	s, err := a.Open(t.Context(), loading.Full)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// flow runs the explorer; seen is signalled for every message of the kinds
// a test waits for (the result of a command).
type flow struct {
	tm   *teatest.TestModel
	seen chan tea.Msg
	clip chan string // what the explorer put on the clipboard
	t    *testing.T
}

func start(t *testing.T, a *access.App, w, h int, o Options) *flow {
	t.Helper()
	f := &flow{t: t, seen: make(chan tea.Msg, 64), clip: make(chan string, 4)}
	snoop := func(_ tea.Model, msg tea.Msg) tea.Msg {
		if fmt.Sprintf("%T", msg) == "tea.setClipboardMsg" { // unexported: tea.SetClipboard's
			select {
			case f.clip <- fmt.Sprint(msg):
			default:
			}
		}
		switch msg.(type) {
		case loadedMsg, auditedMsg, planMsg, wroteMsg, dryRunMsg, appliedMsg, whoCanVerifiedMsg, whoCanMembersMsg, subjectVerifiedMsg, subjectGroupsMsg, objectMsg, jumpMsg:
			f.seen <- msg
		}
		return msg
	}
	if o.WriteDir == "" {
		o.WriteDir = t.TempDir()
	}
	o.App = a
	m := New(t.Context(), o)
	f.tm = teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithFilter(snoop), tea.WithColorProfile(colorprofile.ANSI)))
	f.loaded()
	return f
}

// loaded waits for a load and, when it succeeded, for the audit that
// follows the first screen.
func (f *flow) loaded() {
	f.t.Helper()
	if l := f.wait(loadedMsg{}).(loadedMsg); l.err == nil {
		f.wait(auditedMsg{})
	}
}

// wait blocks until a message of like's type has reached Update.
func (f *flow) wait(like tea.Msg) tea.Msg {
	f.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m := <-f.seen:
			if sameType(m, like) {
				// Sent before Update ran: let Update run before the next key.
				time.Sleep(20 * time.Millisecond)
				return m
			}
		case <-deadline:
			f.t.Fatalf("no %T within 20s", like)
		}
	}
}

func sameType(a, b tea.Msg) bool {
	switch a.(type) {
	case loadedMsg:
		_, ok := b.(loadedMsg)
		return ok
	case auditedMsg:
		_, ok := b.(auditedMsg)
		return ok
	case planMsg:
		_, ok := b.(planMsg)
		return ok
	case wroteMsg:
		_, ok := b.(wroteMsg)
		return ok
	case dryRunMsg:
		_, ok := b.(dryRunMsg)
		return ok
	case appliedMsg:
		_, ok := b.(appliedMsg)
		return ok
	case whoCanVerifiedMsg:
		_, ok := b.(whoCanVerifiedMsg)
		return ok
	case whoCanMembersMsg:
		_, ok := b.(whoCanMembersMsg)
		return ok
	case subjectGroupsMsg:
		_, ok := b.(subjectGroupsMsg)
		return ok
	case subjectVerifiedMsg:
		_, ok := b.(subjectVerifiedMsg)
		return ok
	case objectMsg:
		_, ok := b.(objectMsg)
		return ok
	case jumpMsg:
		_, ok := b.(jumpMsg)
		return ok
	}
	return false
}

// keys sends key presses: single characters, or names (enter, esc, tab,
// shift+tab, up, down, left, right, ctrl+c) between angle brackets.
func (f *flow) keys(ks ...string) {
	for _, k := range ks {
		f.tm.Send(keyMsg(k))
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *flow) typeText(s string) {
	for _, r := range s {
		f.tm.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "<enter>":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "<esc>":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "<tab>":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "<shift+tab>":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "<up>":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "<down>":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "<left>":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "<right>":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "<ctrl+c>":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "<ctrl+u>":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// finish quits and returns the last screen as the ANSI profile draws it.
func (f *flow) finish() (*Model, string) {
	f.t.Helper()
	// The screen before q: q itself clears it.
	time.Sleep(30 * time.Millisecond)
	f.tm.Send(screenMsg{})
	f.keys("<ctrl+c>")
	m := f.tm.FinalModel(f.t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
	var b bytes.Buffer
	w := colorprofile.NewWriter(&b, nil)
	w.Profile = colorprofile.ANSI
	if _, err := w.WriteString(m.lastScreen); err != nil {
		f.t.Fatal(err)
	}
	return m, b.String()
}

// plain is a screen without its escape sequences, for assertions.
func plain(s string) string { return ansi.Strip(s) }

func TestPages(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
		want []string
	}{
		{"subjects", []string{"1"}, []string{"KIND  NAME", "user  u-admin", "cluster-wide"}},
		{"whocan", []string{"2"}, []string{"who can", "create pods/exec -A", "tab completes"}},
		{"findings", []string{"3"}, []string{"SEVERITY RULE", "critical", "cluster-admin-equivalent"}},
		{"roles", []string{"4"}, []string{"ClusterRole", "audit-all-star"}},
		// Who can's query line takes tab (completion) on the first visit: esc leaves it.
		{"tab", []string{"<tab>", "<esc>", "<tab>"}, []string{"SEVERITY RULE"}},
		{"shift-tab", []string{"<shift+tab>"}, []string{"audit-all-star"}},
		{"help", []string{"?"}, []string{"Now: Subjects, list", "Here    ↓/j down", "? help", "more lines"}},
		{"help-end", []string{"?", "G"}, []string{"Filters: words match anywhere", "sign in again", "res:, verb:, group:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, offlineApp(t), 80, 24, Options{})
			f.keys(tc.keys...)
			_, screen := f.finish()
			for _, w := range tc.want {
				if !strings.Contains(plain(screen), w) {
					t.Errorf("screen lacks %q:\n%s", w, plain(screen))
				}
			}
			golden.RequireEqual(t, screen)
		})
	}
}

func TestFilterSubjects(t *testing.T) {
	f := start(t, offlineApp(t), 80, 24, Options{})
	f.keys("/")
	f.typeText("u-sec")
	f.keys("<enter>")
	m, screen := f.finish()
	p := m.pages[0].(*subjectsPage)
	if len(p.list.match) != 1 || p.subs[p.list.match[0]].s.Name != "u-secrets" {
		t.Fatalf("filter u-sec matched %d subjects, want only u-secrets", len(p.list.match))
	}
	if !strings.Contains(plain(screen), "filter: u-sec") {
		t.Errorf("the filter is not shown:\n%s", plain(screen))
	}
	golden.RequireEqual(t, screen)
}

func TestProvenanceTree(t *testing.T) {
	f := start(t, offlineApp(t), 100, 30, Options{})
	f.keys("/")
	f.typeText("u-secrets")
	f.keys("<enter>", "<enter>") // close the filter, open the matrix
	_, screen := f.finish()
	// u-secrets gets secrets cluster-wide: the first row and column.
	for _, w := range []string{"get secrets cluster-wide: allowed", "ClusterRoleBinding", "└──"} {
		if !strings.Contains(plain(screen), w) {
			t.Errorf("screen lacks %q:\n%s", w, plain(screen))
		}
	}
	golden.RequireEqual(t, screen)
}

func TestWhoCanQuery(t *testing.T) {
	f := start(t, offlineApp(t), 80, 24, Options{})
	f.keys("2")
	f.typeText("get secr")
	f.keys("<tab>") // completes "secrets"
	f.typeText(" -n audit-a")
	f.keys("<enter>")
	m, screen := f.finish()
	p := m.pages[1].(*whoCanPage)
	if p.query != "get secrets -n audit-a" {
		t.Fatalf("query = %q, want the completed one", p.query)
	}
	// The engine's own answer, as `who-can` gives it.
	want := p.sess.Index.WhoCan(rbac.Attributes{Verb: "get", Resource: "secrets", Namespace: "audit-a"}, false)
	if len(p.res.Subjects) != len(want.Subjects) || len(want.Subjects) == 0 {
		t.Fatalf("%d subjects shown, the engine says %d", len(p.res.Subjects), len(want.Subjects))
	}
	if !strings.Contains(plain(screen), "u-secrets") {
		t.Errorf("u-secrets not on screen:\n%s", plain(screen))
	}
	golden.RequireEqual(t, screen)
}

func TestFixPreviewAndWrite(t *testing.T) {
	// A fixed path: the screen (and so the golden file) shows it.
	dir := filepath.Join(os.TempDir(), "kubectl-access-tui-write")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) }) // best effort: it is under the temporary directory
	f := start(t, offlineApp(t), 100, 40, Options{WriteDir: dir})
	f.keys("3", "/")
	f.typeText("user:u-secrets")
	f.keys("<enter>", "f")
	f.wait(planMsg{})
	f.keys("w")
	w := f.wait(wroteMsg{}).(wroteMsg)
	if w.err != nil {
		t.Fatal(w.err)
	}
	m, screen := f.finish()
	fp := m.pages[2].(*findingsPage)
	fi, ok := fp.current()
	if !ok || fi.Rule != "secrets-read" {
		t.Fatalf("current finding = %+v, want the secrets-read of u-secrets", fi)
	}
	path := filepath.Join(dir, fi.ID+".fix.yaml")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	body, _ := os.ReadFile(path)
	for _, want := range []string{"kind: Fix", "finding: " + fi.ID, "Apply with:", "kubectl patch"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("%s lacks %q:\n%s", path, want, body)
		}
	}
	for _, want := range []string{"Checked on a copy of the snapshot", "loses user:u-secrets", "wrote " + path} {
		if !strings.Contains(plain(screen), want) {
			t.Errorf("screen lacks %q:\n%s", want, plain(screen))
		}
	}
	golden.RequireEqual(t, screen)
}

func TestCopyShowsCommands(t *testing.T) {
	f := start(t, offlineApp(t), 100, 40, Options{})
	f.keys("3", "/")
	f.typeText("user:u-secrets")
	f.keys("<enter>", "f")
	f.wait(planMsg{})
	f.keys("y", "G") // G: to the end of the fix, where the commands are
	_, screen := f.finish()
	for _, want := range []string{"copied the kubectl commands", "kubectl patch clusterrolebinding"} {
		if !strings.Contains(plain(screen), want) {
			t.Errorf("screen lacks %q:\n%s", want, plain(screen))
		}
	}
}

// TestCopyIsPasteSafe: y on the fix of a binding named with ^C and \r
// copies printable text, the name in $'...': pasted into bash, it runs
// nothing (issue 28, B).
func TestCopyIsPasteSafe(t *testing.T) {
	a := offlineApp(t)
	a.Files = []string{"../cmd/testdata/hostile.yaml"}
	f := start(t, a, 120, 40, Options{})
	f.keys("3", "/")
	f.typeText("user:peggy")
	f.keys("<enter>", "f")
	f.wait(planMsg{})
	f.keys("y")
	var copied string
	select {
	case copied = <-f.clip:
	case <-time.After(20 * time.Second):
		t.Fatal("y copied nothing within 20s")
	}
	f.finish()
	for _, r := range copied {
		if r != '\n' && r != ' ' && !unicode.IsPrint(r) {
			t.Errorf("the clipboard holds %U: a paste acts on it:\n%q", r, copied)
		}
	}
	if want := `$'pj3\x03 x; touch PASTEPWNED\r#'`; !strings.Contains(copied, want) {
		t.Errorf("the clipboard lacks the binding's name as %s:\n%q", want, copied)
	}
}

func TestApplyOfflineIsRefused(t *testing.T) {
	f := start(t, offlineApp(t), 100, 40, Options{})
	f.keys("3", "/")
	f.typeText("user:u-secrets")
	f.keys("<enter>", "f")
	f.wait(planMsg{})
	f.keys("a")
	_, screen := f.finish()
	if !strings.Contains(plain(screen), "read from files: nothing to apply to") {
		t.Errorf("an offline view applied or did not say why not:\n%s", plain(screen))
	}
}

// TestApplyFlow walks a: one press builds the fix and runs the dry run,
// the confirmation asks for Y, n cancels, Y applies, and the reload drops
// the finding. The real cluster's side is the tmux test's.
func TestApplyFlow(t *testing.T) {
	a, c := liveApp(t)
	f := start(t, a, 100, 40, Options{})
	f.keys("3", "/")
	f.typeText("user:u-secrets")
	f.keys("<enter>", "a") // one press: build, check, dry run
	f.wait(planMsg{})
	f.wait(dryRunMsg{})
	f.keys("y") // copy's key does not apply
	f.keys("n") // cancel: nothing applied
	f.keys("a")
	f.wait(dryRunMsg{})
	f.keys("Y")
	applied := f.wait(appliedMsg{}).(appliedMsg)
	f.loaded()
	m, screen := f.finish()
	if c.applied == 0 || applied.err != nil {
		t.Fatalf("applied %d operations (%v), want the fix's", c.applied, applied.err)
	}
	fp := m.pages[2].(*findingsPage)
	for _, fi := range fp.report.Findings {
		if fi.ID == applied.id {
			t.Errorf("finding %s is still listed after the apply and reload", fi.ID)
		}
	}
	if c.loads != 2 {
		t.Errorf("%d loads, want 2 (the first and the reload after the apply)", c.loads)
	}
	if !strings.Contains(plain(screen), "applied the fix for "+applied.id) {
		t.Errorf("no word of the apply on screen:\n%s", plain(screen))
	}
}

func TestResize(t *testing.T) {
	f := start(t, offlineApp(t), 80, 24, Options{})
	f.keys("3")
	f.tm.Send(tea.WindowSizeMsg{Width: 140, Height: 30})
	time.Sleep(20 * time.Millisecond)
	m, wide := f.finish()
	if !m.pages[2].(*findingsPage).lay.wide {
		t.Error("140 columns should lay the list and the detail side by side")
	}
	for _, l := range strings.Split(plain(wide), "\n") {
		if ansi.StringWidth(l) > 140 {
			t.Fatalf("a line is wider than the terminal: %q", l)
		}
	}
	if n := strings.Count(wide, "\n") + 1; n != 30 {
		t.Errorf("%d lines, want 30", n)
	}
	golden.RequireEqual(t, wide)
}

func TestTinyTerminal(t *testing.T) {
	f := start(t, offlineApp(t), 30, 8, Options{})
	_, screen := f.finish()
	if !strings.Contains(plain(screen), "needs at least") || !strings.Contains(plain(screen), "Enlarge it") {
		t.Errorf("a tiny terminal is not explained:\n%s", plain(screen))
	}
}

func TestQuitFromAnyState(t *testing.T) {
	for _, keys := range [][]string{
		{"q"},
		{"<ctrl+c>"},
		{"/", "<ctrl+c>"},      // while typing a filter
		{"2", "q", "<ctrl+c>"}, // q is text in the query line; ctrl+c quits
		{"?", "<ctrl+c>"},
	} {
		f := start(t, offlineApp(t), 80, 24, Options{})
		f.keys(keys...)
		m := f.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
		if !m.quitting {
			t.Errorf("%v: did not quit", keys)
		}
	}
}

func TestSessionExpiredIsShown(t *testing.T) {
	a, c := liveApp(t)
	c.loadErr = errors.Join(access.ErrSignIn, errors.New("Unauthorized"))
	f := start(t, a, 80, 24, Options{})
	_, screen := f.finish()
	if !strings.Contains(plain(screen), "Your session has expired or was rejected") || !strings.Contains(plain(screen), "then press r") {
		t.Errorf("an expired session is not explained with what to do:\n%s", plain(screen))
	}

	// Signed in again outside: r loads.
	f = start(t, a, 80, 24, Options{})
	c.mu.Lock()
	c.loadErr = nil
	c.mu.Unlock()
	f.keys("r")
	f.wait(loadedMsg{})
	m, _ := f.finish()
	if m.sess == nil || m.loadErr != nil {
		t.Error("r did not load again after the session came back")
	}
}

func TestListFilterNarrowsLikeAFullPass(t *testing.T) {
	p := newFindingsPage(&Common{Styles: NewStyles(), Keys: DefaultKeyMap()}, &deps{})
	s := loadSession(t, offlineApp(t))
	s.Report()
	p.setSession(s)
	p.build()
	full := func(f string) []int {
		l := *p.list
		l.match, l.filter = nil, ""
		l.setFilter(f)
		return slices.Clone(l.match)
	}
	typed := "rule:secrets-read u-"
	for i := 1; i <= len(typed); i++ {
		p.list.setFilter(typed[:i])
		if got, want := p.list.match, full(typed[:i]); !slices.Equal(got, want) {
			t.Fatalf("after typing %q: %d matches, a full pass gives %d", typed[:i], len(got), len(want))
		}
	}
	if len(p.list.match) == 0 {
		t.Fatal("the typed filter should match the secrets-read findings of users u-*")
	}
}

func TestMouseWheelScrollsTheList(t *testing.T) {
	f := start(t, offlineApp(t), 80, 24, Options{})
	f.tm.Send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	f.tm.Send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	m, _ := f.finish()
	if c := m.pages[0].(*subjectsPage).list.cursor; c != 6 {
		t.Errorf("two wheel notches down moved the cursor to %d, want 6", c)
	}
}

// TestNoColor runs the program as a NO_COLOR terminal would: the renderer
// draws no colour (nor reverse video), and the selection still shows.
func TestNoColor(t *testing.T) {
	m := New(t.Context(), Options{App: offlineApp(t)})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithEnvironment([]string{"NO_COLOR=1", "TERM=xterm-256color"})))
	var out []byte // everything drawn until the first screen
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		out = slices.Clone(b)
		return bytes.Contains(b, []byte("u-admin"))
	}, teatest.WithDuration(10*time.Second))
	// The Findings page too: the severities' colours are fixed ones.
	tm.Send(tea.KeyPressMsg{Code: '3', Text: "3"})
	var findings []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		findings = slices.Clone(b)
		return bytes.Contains(b, []byte("critical"))
	}, teatest.WithDuration(10*time.Second))
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	for _, sgr := range []string{"\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[90m", "38;5;", "38;2;"} {
		if bytes.Contains(out, []byte(sgr)) || bytes.Contains(findings, []byte(sgr)) {
			t.Errorf("NO_COLOR output has the colour sequence %q", sgr)
		}
	}
	if !bytes.Contains(out, []byte("›user  system:nodeadm")) || !bytes.Contains(out, []byte("[1 Subjects]")) {
		t.Errorf("NO_COLOR output does not mark the selected row and page in text:\n%q", out[:min(len(out), 3000)])
	}
}

// TestHostileNamesOnEveryPage: names holding escape sequences, a forged
// line, a bidi override and shell syntax are shown as visible escapes on
// every page and in every detail, never acted on (issue 14, item 2).
func TestHostileNamesOnEveryPage(t *testing.T) {
	a := offlineApp(t)
	a.Files = []string{"../cmd/testdata/hostile.yaml"}
	a.Names = identity.Names{"g-\x1b[31mred\x1b[0m": "Team \x1b]0;TITLE\x07Evil\r\nFAKE LINE: admin"}
	check := func(label, screen string) {
		t.Helper()
		for _, bad := range []string{"\x07", "\r", "\x1b]", "\x1b[2J", "\x1b[31mred", "\u202e", "\u202c"} {
			if strings.Contains(screen, bad) {
				t.Errorf("%s: the screen holds %q raw:\n%s", label, bad, plain(screen))
			}
		}
		for _, l := range strings.Split(plain(screen), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "FAKE LINE") {
				t.Errorf("%s: a forged line: %q", label, l)
			}
		}
	}
	for _, tc := range []struct {
		name string
		keys []string
		text string
		see  string // a visible escape that proves the name was shown
	}{
		{"subjects", []string{"1"}, "", `Team \x1b]0;TITLE\x07`},
		{"subject detail", []string{"1", "/"}, "eve", `\r\nFAKE LINE`},
		{"who can", []string{"2"}, "create pods/exec -n hostile", `\u202eevil`},
		{"findings", []string{"3", "<enter>"}, "", `nl-test\ntouch PWNED2`},
		{"fix", []string{"3", "f"}, "", `nl-test\ntouch PWNED2`},
		{"roles", []string{"4", "/"}, "evil", `\x1b]0;PWNED-TITLE\x07`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, a, 120, 40, Options{})
			f.keys(tc.keys...)
			if tc.text != "" {
				f.typeText(tc.text)
				f.keys("<enter>")
				if tc.name == "subject detail" || tc.name == "roles" {
					f.keys("<enter>")
				}
			}
			if tc.name == "fix" {
				f.wait(planMsg{})
			}
			_, screen := f.finish()
			check(tc.name, screen)
			if !strings.Contains(plain(screen), tc.see) {
				t.Errorf("%s: the screen does not show %q as a visible escape:\n%s", tc.name, tc.see, plain(screen))
			}
		})
	}
}

// TestWriteNeverFollowsALink: a link planted where a fix would be written
// (finding ids are predictable) is neither followed nor chmod'ed; without
// overwrite an existing name is an error, with it the link itself is
// replaced (issue 14, item 7).
func TestWriteNeverFollowsALink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	fx := &fix.Fix{Finding: "secrets-read-0123456789", Description: "x"}
	link := filepath.Join(dir, fx.Finding+".fix.yaml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := access.WriteFix(dir, fx, false); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("writing over a link: %v", err)
	}
	if _, err := access.WriteFix(dir, fx, true); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(target)
	st, _ := os.Stat(target)
	if string(b) != "keep me" || st.Mode().Perm() != 0o644 {
		t.Errorf("the link's target was written (%q) or chmod'ed (%v)", b, st.Mode())
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink != 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("with overwrite the link should be a 0600 file now: %v %v", fi.Mode(), err)
	}
}

// TestConfirmationFitsTheSmallestScreen: the apply question is a dialog
// that fits 80x24, whatever the diff above it holds.
func TestConfirmationFitsTheSmallestScreen(t *testing.T) {
	a, _ := liveApp(t)
	f := start(t, a, 80, 24, Options{})
	f.keys("3", "/")
	f.typeText("user:u-secrets")
	f.keys("<enter>", "a")
	f.wait(dryRunMsg{})
	_, screen := f.finish()
	for _, want := range []string{"Apply 1 change(s)", "Y (shift+y) apply", "n or esc cancel"} {
		if !strings.Contains(plain(screen), want) {
			t.Errorf("at 80x24 the confirmation lacks %q:\n%s", want, plain(screen))
		}
	}
}

// The first screen needs only the Subjects page: it is drawn without the
// audit (which runs after, in a command) and without building the other
// pages, which build on first visit; when the audit ends, the FINDINGS column
// and the Findings badge fill in, the cursor kept.
func TestFirstScreenBeforeTheAudit(t *testing.T) {
	s := loadSession(t, offlineApp(t))
	m := New(t.Context(), Options{App: s.App, Initial: s})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	screen := plain(m.render())
	if s.Audited() != nil {
		t.Fatal("the first screen ran the audit")
	}
	if !strings.Contains(screen, "Findings (…)") {
		t.Errorf("the Findings badge does not say the audit is running:\n%s", screen)
	}
	sp := m.pages[0].(*subjectsPage)
	for _, r := range sp.list.rows {
		if r.cells[4] != "…" {
			t.Fatalf("FINDINGS shows %q before the audit", r.cells[4])
		}
	}
	if rp := m.pages[3].(*rolesPage); len(rp.list.rows) != 0 || rp.items != nil {
		t.Error("the Roles page was built for the first screen")
	}
	if fp := m.pages[2].(*findingsPage); fp.report != nil || len(fp.list.rows) != 0 {
		t.Error("the Findings page was built for the first screen")
	}
	m.Update(keyMsg("<down>"))
	m.Update(keyMsg("<down>"))
	before := sp.list.cursor

	msg := m.audit()()
	if _, ok := msg.(auditedMsg); !ok {
		t.Fatalf("the audit command returned %T", msg)
	}
	m.Update(msg)
	rep := s.Audited()
	if rep == nil || len(rep.Findings) == 0 {
		t.Fatal("no report after the audit")
	}
	if !strings.Contains(plain(m.render()), "Findings ("+itoa(len(rep.Findings))+")") {
		t.Errorf("the badge does not count %d findings:\n%s", len(rep.Findings), plain(m.render()))
	}
	total := 0
	for i, r := range sp.list.rows {
		if r.cells[4] != itoa(sp.subs[i].findings) {
			t.Fatalf("row %d: FINDINGS %q, the subject has %d findings", i, r.cells[4], sp.subs[i].findings)
		}
		total += sp.subs[i].findings
	}
	if total == 0 {
		t.Error("no subject has a finding after the audit")
	}
	if sp.list.cursor != before {
		t.Errorf("the audit moved the cursor from %d to %d", before, sp.list.cursor)
	}
	m.Update(keyMsg("4"))
	if rp := m.pages[3].(*rolesPage); len(rp.list.rows) == 0 {
		t.Error("the Roles page is empty on its first visit")
	}
	m.Update(keyMsg("3"))
	if fp := m.pages[2].(*findingsPage); len(fp.list.rows) != len(rep.Findings) {
		t.Errorf("the Findings page lists %d rows, the report has %d findings", len(fp.list.rows), len(rep.Findings))
	}
}

// TestVerifyKey: V on Who can asks the cluster's authorizer about the
// answer (every listed subject marked verified, a subject the cluster
// allows beyond RBAC told with its reason); V on Subjects about the
// selected subject's rules; offline it says why it cannot.
func TestVerifyKey(t *testing.T) {
	a, c := liveApp(t)
	sess := loadSession(t, a)
	ans := sess.Index.WhoCan(rbac.Attributes{Verb: "get", Resource: "secrets", Namespace: "audit-a"}, false)
	listed := map[string]bool{}
	for _, g := range ans.Subjects {
		listed[g.Subject().String()] = true
	}
	var unlisted []string
	for _, b := range sess.Index.Bindings() {
		for _, s := range b.Subjects {
			if s.Kind == "User" && !listed["user:"+s.Name] {
				unlisted = append(unlisted, "user:"+s.Name)
			}
		}
	}
	slices.Sort(unlisted)
	if len(unlisted) == 0 {
		t.Fatal("the fixture binds no user outside the answer")
	}
	c.allowAlso = unlisted[0]

	f := start(t, a, 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -n audit-a")
	f.keys("<enter>", "V")
	f.wait(whoCanVerifiedMsg{})
	_, screen := f.finish()
	s := plain(screen)
	for _, w := range []string{"✓ verified", "NOT VERIFIED: the cluster decided 1 of", "• " + c.allowAlso + " get secrets in audit-a: here denied, the cluster allowed", "by the test authorizer"} {
		if !strings.Contains(s, w) {
			t.Errorf("Who can after V lacks %q:\n%s", w, s)
		}
	}
	if strings.Contains(s, "✗") {
		t.Errorf("a listed subject is marked as disputed:\n%s", s)
	}

	c.allowAlso = ""
	f = start(t, a, 160, 50, Options{})
	f.keys("V")
	f.wait(subjectVerifiedMsg{})
	_, screen = f.finish()
	if s := plain(screen); !strings.Contains(s, "verified: the cluster's authorizer agreed on all") {
		t.Errorf("Subjects after V:\n%s", s)
	}
	if c.reviews == 0 {
		t.Error("no SubjectAccessReview was asked")
	}

	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -n audit-a")
	f.keys("<enter>", "V")
	f.wait(whoCanVerifiedMsg{})
	_, screen = f.finish()
	if s := plain(screen); !strings.Contains(s, "not verified: verifying asks the cluster's own authorizer, and this answer was read from files") {
		t.Errorf("V offline:\n%s", s)
	}
}

// TestWhoCanEveryNamespace: -A is headed "in every namespace", and each
// subject's WHERE is where its grants apply, not its own namespace.
func TestWhoCanEveryNamespace(t *testing.T) {
	f := start(t, offlineApp(t), 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -A")
	f.keys("<enter>")
	m, screen := f.finish()
	s := plain(screen)
	if !strings.Contains(s, "get secrets in every namespace:") || strings.Contains(s, "in default") || !strings.Contains(s, "WHERE") {
		t.Errorf("who can -A heading:\n%s", s)
	}
	p := m.pages[1].(*whoCanPage)
	seen := false
	for _, g := range p.res.Subjects {
		w := access.Where(g.Via)
		if g.Via[0].Binding != nil && g.Via[0].Binding.Kind == "RoleBinding" {
			seen = true
			if w != g.Via[0].Binding.Namespace && !strings.Contains(w, g.Via[0].Binding.Namespace) {
				t.Errorf("%s: WHERE %q lacks its RoleBinding's namespace %q", g.Name, w, g.Via[0].Binding.Namespace)
			}
		}
		if !strings.Contains(s, w) {
			t.Errorf("%s: WHERE %q not on screen", g.Name, w)
		}
	}
	if !seen {
		t.Error("no subject granted through a RoleBinding: the test proves nothing")
	}
}

// TestFindingsNamespaceAndNegation: Findings has a NAMESPACE column that
// ns: filters on, and !term keeps the rows a term does not match.
func TestFindingsNamespaceAndNegation(t *testing.T) {
	f := start(t, offlineApp(t), 160, 50, Options{})
	f.keys("3", "/")
	f.typeText("ns:audit-a !rule:secrets")
	f.keys("<enter>")
	m, screen := f.finish()
	p := m.pages[2].(*findingsPage)
	if !strings.Contains(plain(screen), "NAMESPACE") {
		t.Errorf("no NAMESPACE column:\n%s", plain(screen))
	}
	want := 0
	for _, x := range p.report.Findings {
		if findingNamespace(&x) == "audit-a" && !strings.Contains(x.Rule, "secrets") {
			want++
		}
	}
	if want == 0 || len(p.list.match) != want {
		t.Errorf("ns:audit-a !rule:secrets matched %d findings, want %d", len(p.list.match), want)
	}
	for _, i := range p.list.match {
		x := p.report.Findings[i]
		if findingNamespace(&x) != "audit-a" || strings.Contains(x.Rule, "secrets") {
			t.Errorf("%s (%s in %q) matched", x.ID, x.Rule, findingNamespace(&x))
		}
	}
}

// TestFocusAndBack: the pane with the keyboard is marked in text (NO_COLOR
// loses colour), esc steps back one level at a time and then clears an
// applied filter, / works from the detail, and a click selects a row.
func TestFocusAndBack(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	f := start(t, offlineApp(t), 80, 24, Options{})
	f.keys("/")
	f.typeText("u-")
	f.keys("<enter>", "<enter>") // filter applied, into the matrix
	_, screen := f.finish()
	if s := plain(screen); !strings.Contains(s, "▼ detail has the keys") || !strings.Contains(s, "filter: u-") {
		t.Errorf("detail focus not marked in text:\n%s", s)
	}

	f = start(t, offlineApp(t), 80, 24, Options{})
	f.keys("/")
	f.typeText("u-")
	f.keys("<enter>", "<enter>", "<esc>") // back to the list, the filter kept
	m, screen := f.finish()
	p := m.pages[0].(*subjectsPage)
	if s := plain(screen); !strings.Contains(s, "▲ list has the keys") || p.filter.value() != "u-" || p.focus {
		t.Errorf("one esc from the matrix: focus %v, filter %q\n%s", p.focus, p.filter.value(), s)
	}

	f = start(t, offlineApp(t), 80, 24, Options{})
	f.keys("/")
	f.typeText("u-")
	f.keys("<enter>", "<enter>", "<esc>", "<esc>") // and the filter cleared
	m, _ = f.finish()
	p = m.pages[0].(*subjectsPage)
	if p.filter.value() != "" || len(p.list.match) != len(p.subs) {
		t.Errorf("second esc: filter %q, %d of %d rows", p.filter.value(), len(p.list.match), len(p.subs))
	}

	// / from the matrix opens the filter on the list.
	f = start(t, offlineApp(t), 80, 24, Options{})
	f.keys("<enter>", "/")
	f.typeText("u-sec")
	m, _ = f.finish()
	p = m.pages[0].(*subjectsPage)
	if p.focus || !p.filter.active || p.filter.value() != "u-sec" {
		t.Errorf("/ from the matrix: focus %v, filter active %v %q", p.focus, p.filter.active, p.filter.value())
	}

	// A click on the third row selects it, from the detail too.
	f = start(t, offlineApp(t), 80, 24, Options{})
	f.keys("<enter>")
	m0 := 2 + 1 + 1 + 2 // header, filter line, column titles, then the third row
	f.tm.Send(tea.MouseClickMsg{X: 5, Y: m0, Button: tea.MouseLeft})
	time.Sleep(50 * time.Millisecond)
	m, _ = f.finish()
	p = m.pages[0].(*subjectsPage)
	if i, _ := p.list.selected(); i != 2 || p.focus {
		t.Errorf("click on the third row: selected %d, focus %v", i, p.focus)
	}
}

// TestMatrixWholeWords: at 160 and at 80 columns every verb is written
// whole in the matrix's titles (staggered over two lines), and a resource
// name longer than its column wraps whole, never cut.
func TestMatrixWholeWords(t *testing.T) {
	sess := loadSession(t, offlineApp(t))
	for _, w := range []int{160, 80} {
		m := setupState(t, sess, keyState{keys: []string{"1", "/"}, text: "u-wild", then: []string{"<enter>", "<enter>"}}, w, 40)
		s := plain(m.render())
		words := strings.Fields(strings.NewReplacer("┃", " ", "│", " ").Replace(s))
		for _, v := range append(matrixVerbs, "selfsubjectaccessreviews.", "authorization.k8s.io") {
			if !slices.Contains(words, v) {
				t.Errorf("%d columns: the matrix lacks %q whole:\n%s", w, v, s)
			}
		}
		lines := strings.Split(s, "\n")
		if body := strings.Join(lines[2:len(lines)-2], "\n"); strings.Contains(body, "…") {
			t.Errorf("%d columns: something is cut:\n%s", w, body)
		}
	}
}

// TestMatrixStickyTitlesAndPath: at 80x24, in a matrix longer than its
// pane, the cursor at the last resource (G moves it, not only the view),
// the titles are kept at the top and the path of the cell is on screen.
func TestMatrixStickyTitlesAndPath(t *testing.T) {
	sess := loadSession(t, offlineApp(t))
	m := setupState(t, sess, keyState{keys: []string{"1", "/"}, text: "u-viewer", then: []string{"<enter>", "<enter>", "G"}}, 80, 24)
	p := m.pages[pageSubjects].(*subjectsPage)
	if p.row != len(p.mx.Rows)-1 {
		t.Fatalf("G: the cursor is on row %d of %d", p.row, len(p.mx.Rows))
	}
	s := plain(m.render())
	last := p.mx.Rows[p.row].Label
	if !strings.Contains(s, "RESOURCE") || !strings.Contains(s, "deletecollection") {
		t.Errorf("the titles are not on screen:\n%s", s)
	}
	if !strings.Contains(s, "get "+last[:min(len(last), 20)]) || !strings.Contains(s, "└──") {
		t.Errorf("the path of the cell (get %s) is not on screen:\n%s", last, s)
	}
	if p.detail.vp.YOffset() <= p.matrixTop {
		t.Errorf("the matrix did not scroll (offset %d): the titles were not put back", p.detail.vp.YOffset())
	}
}

// TestMatrixOpensWhereTheSubjectHolds: a subject whose grants are in a
// namespace opens on that namespace's matrix, not on cluster-wide, where
// it holds only what every signed-in user holds.
func TestMatrixOpensWhereTheSubjectHolds(t *testing.T) {
	sess := loadSession(t, offlineApp(t))
	m := setupState(t, sess, keyState{keys: []string{"1", "/"}, text: "u-ns-admin", then: []string{"<enter>"}}, 80, 24)
	p := m.pages[pageSubjects].(*subjectsPage)
	if p.mx.Scope != "audit-a" {
		t.Errorf("the matrix opens on %q, want audit-a", p.mx.Scope)
	}
}

// TestLayoutKeys: < and > move the split between list and detail, z
// zooms the pane with the keys to the whole body and back.
func TestLayoutKeys(t *testing.T) {
	sess := loadSession(t, offlineApp(t))
	for _, w := range []int{80, 160} {
		m := setupState(t, sess, keyState{keys: []string{"4"}}, w, 40)
		p := m.pages[pageRoles].(*rolesPage)
		size := func() int {
			if p.lay.wide {
				return p.lay.listW
			}
			return p.lay.listH
		}
		before := size()
		m.Update(keyMsg(">"))
		wider := size()
		m.Update(keyMsg("<"))
		m.Update(keyMsg("<"))
		narrower := size()
		if !(wider > before && narrower < before) {
			t.Errorf("%d columns: the list's size %d, > %d, < < %d", w, before, wider, narrower)
		}
		m.Update(keyMsg("z"))
		s := plain(m.render())
		if strings.Contains(s, "detail has the keys") || strings.Contains(s, "list has the keys") || strings.Contains(s, "│") || !strings.Contains(s, "KIND") {
			t.Errorf("%d columns: z shows more than the list:\n%s", w, s)
		}
		m.Update(keyMsg("<enter>"))
		if s := plain(m.render()); strings.Contains(s, "KIND") || !strings.Contains(s, "Rules") {
			t.Errorf("%d columns: zoomed, enter shows more than the detail:\n%s", w, s)
		}
		m.Update(keyMsg("z"))
		if s := plain(m.render()); !strings.Contains(s, "KIND") || !strings.Contains(s, "Rules") {
			t.Errorf("%d columns: z again does not bring both panes back:\n%s", w, s)
		}
	}
}

// TestRolesAnswerQuestions: bindings are rows beside roles (a dangling
// one marked), res: finds every role and binding whose rules grant the
// resource as the authorizer matches it ("*" and "pods/*" included), and
// the detail names the holders before the rules.
func TestRolesAnswerQuestions(t *testing.T) {
	a := offlineApp(t)
	a.Files = []string{"../testdata/demo/cluster.yaml"}
	f := start(t, a, 160, 50, Options{})
	f.keys("4", "/")
	f.typeText("res:pods/exec")
	f.keys("<enter>")
	m, screen := f.finish()
	p := m.pages[3].(*rolesPage)
	// The engine's word: every item whose rules allow create pods/exec.
	want := 0
	for _, it := range p.items {
		for _, r := range it.rules {
			at := rbac.Attributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "x"}
			r.Verbs = []string{"*"} // any verb: the term names only the resource
			if rbac.RuleAllows(&at, &r) {
				want++
				break
			}
		}
	}
	if want == 0 || len(p.list.match) != want {
		t.Errorf("res:pods/exec matched %d rows, the engine says %d", len(p.list.match), want)
	}
	s := plain(screen)
	i, _ := p.list.selected()
	if it := p.items[i]; it.binding == nil && strings.Index(s, "Held by") > strings.Index(s, "Rules") {
		t.Errorf("the holders are not first:\n%s", s)
	}

	f = start(t, a, 160, 50, Options{})
	f.keys("4", "/")
	f.typeText("dangling")
	f.keys("<enter>")
	m, screen = f.finish()
	p = m.pages[3].(*rolesPage)
	if len(p.list.match) != 1 || !strings.Contains(plain(screen), "contractor  (dangling: no") || !strings.Contains(plain(screen), "does not exist") {
		t.Errorf("the dangling binding payments/contractor (%d rows):\n%s", len(p.list.match), plain(screen))
	}
}

// TestWhoCanHistory: up and down in the query line walk the queries
// asked; past the newest, the line being typed comes back.
func TestWhoCanHistory(t *testing.T) {
	f := start(t, offlineApp(t), 80, 24, Options{})
	f.keys("2")
	f.typeText("get secrets -n audit-a")
	f.keys("<enter>", "/")
	f.typeText("list pods -A")
	f.keys("<enter>", "/")
	f.typeText("get no")
	f.keys("<up>", "<up>")
	m, _ := f.finish()
	p := m.pages[1].(*whoCanPage)
	if got := p.input.Value(); got != "get secrets -n audit-a" || len(p.history) != 2 {
		t.Errorf("two ups: %q (history %q)", got, p.history)
	}
	f = start(t, offlineApp(t), 80, 24, Options{})
	f.keys("2")
	f.typeText("get secrets -n audit-a")
	f.keys("<enter>", "/")
	f.typeText("get no")
	f.keys("<up>", "<down>")
	m, _ = f.finish()
	// (/ returns to the last query, so the typing went after it.)
	if got := m.pages[1].(*whoCanPage).input.Value(); got != "get secrets -n audit-aget no" {
		t.Errorf("up then down: %q, want the line being typed", got)
	}
}

// TestSort: s cycles the order of Subjects (kind and name, findings,
// bindings, namespace, name) and of Findings (severity, namespace, rule,
// subject); each order is checked row by row.
func TestSort(t *testing.T) {
	f := start(t, offlineApp(t), 80, 24, Options{})
	f.keys("s") // by findings
	m, screen := f.finish()
	p := m.pages[0].(*subjectsPage)
	if !strings.Contains(plain(screen), "by findings") {
		t.Errorf("the status does not say the order:\n%s", plain(screen))
	}
	// The most severe finding first, then the most findings: a critical
	// finding is above any number of info ones.
	bySeverity := func(a, b subjectInfo) int {
		return cmp.Or(cmp.Compare(min(b.findings, 1), min(a.findings, 1)), cmp.Compare(b.worst, a.worst), cmp.Compare(b.findings, a.findings))
	}
	if !slices.IsSortedFunc(p.subs, bySeverity) || p.subs[0].findings == 0 || p.subs[0].worst != audit.Critical {
		t.Errorf("not by findings: first %+v", p.subs[0])
	}
	if i := slices.IndexFunc(p.subs, func(s subjectInfo) bool { return s.worst < p.subs[0].worst && s.findings > p.subs[0].findings }); i < 0 {
		t.Errorf("no subject with more but milder findings below the first: the order by severity is not exercised")
	}
	f = start(t, offlineApp(t), 80, 24, Options{})
	f.keys("s", "s") // by bindings
	m, _ = f.finish()
	p = m.pages[0].(*subjectsPage)
	if !slices.IsSortedFunc(p.subs, func(a, b subjectInfo) int { return b.bindings - a.bindings }) {
		t.Error("not by bindings")
	}
	f = start(t, offlineApp(t), 80, 24, Options{})
	f.keys("3", "s") // findings by namespace
	m, screen = f.finish()
	fp := m.pages[2].(*findingsPage)
	if !strings.Contains(plain(screen), "by namespace") || !slices.IsSortedFunc(fp.report.Findings, func(a, b audit.Finding) int {
		return strings.Compare(findingNamespace(&a), findingNamespace(&b))
	}) {
		t.Errorf("findings not by namespace:\n%s", plain(screen))
	}
	if sessRep := fp.sess.Audited(); !slices.IsSortedFunc(sessRep.Findings, func(a, b audit.Finding) int { return int(b.Severity) - int(a.Severity) }) {
		t.Error("sorting the page reordered the session's report")
	}
}

// TestWhoCanTransitive: t adds, below the direct answer, who reaches the
// request through a service account (u-tokens mints tokens for
// sa:audit-a:powerful, which reads secrets), and t again hides them.
func TestWhoCanTransitive(t *testing.T) {
	f := start(t, offlineApp(t), 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -A")
	f.keys("<enter>", "t")
	m, screen := f.finish()
	p := m.pages[1].(*whoCanPage)
	s := plain(screen)
	if !strings.Contains(s, "chains through service accounts") || !strings.Contains(s, "u-tokens  → sa:audit-a:powerful") || len(p.list.rows) != len(p.res.Subjects)+len(p.res.Transitive) {
		t.Errorf("t on Who can:\n%s", s)
	}
	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -A")
	f.keys("<enter>", "t", "t")
	m, screen = f.finish()
	if p := m.pages[1].(*whoCanPage); len(p.res.Transitive) != 0 || strings.Contains(plain(screen), "u-tokens") || !strings.Contains(plain(screen), "directly (t: through service accounts too)") {
		t.Errorf("t twice:\n%s", plain(screen))
	}
}

// TestCrossNavigation: enter on a Who can subject's detail shows it on
// Subjects and esc comes back; enter on a matrix cell shows its binding
// on Roles & bindings; enter on a binding's detail its role; v shows the
// object's YAML as read.
func TestCrossNavigation(t *testing.T) {
	f := start(t, offlineApp(t), 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -n audit-a")
	f.keys("<enter>", "<down>", "<enter>", "<enter>") // the second subject, its detail, go to
	f.wait(jumpMsg{})
	m, _ := f.finish()
	wp := m.pages[1].(*whoCanPage)
	want := wp.res.Subjects[1].Subject()
	sp := m.pages[0].(*subjectsPage)
	if i, ok := sp.list.selected(); m.active != 0 || !ok || sp.subs[i].s.String() != want.String() || len(m.back) != 1 {
		t.Fatalf("enter on %s: page %d, back %v", want, m.active, m.back)
	}

	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -n audit-a")
	f.keys("<enter>", "<down>", "<enter>", "<enter>")
	f.wait(jumpMsg{}) // a person's esc comes after the jump
	f.keys("<esc>")
	m, _ = f.finish()
	if m.active != 1 || len(m.back) != 0 {
		t.Errorf("esc after the jump: page %d, back %v; want Who can", m.active, m.back)
	}

	// In the detail, down marks the first path's binding: enter goes to
	// it on Roles & bindings.
	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -n audit-a")
	f.keys("<enter>", "<enter>", "<down>")
	m, screen := f.finish()
	wp = m.pages[1].(*whoCanPage)
	wantRef := *wp.res.Subjects[0].Via[0].Binding
	if !strings.Contains(plain(screen), "› "+wantRef.String()) {
		t.Errorf("the binding is not marked:\n%s", plain(screen))
	}
	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -n audit-a")
	f.keys("<enter>", "<enter>", "<down>", "<enter>")
	f.wait(jumpMsg{})
	m, _ = f.finish()
	rp := m.pages[3].(*rolesPage)
	if i, ok := rp.list.selected(); m.active != 3 || !ok || rp.items[i].ref.String() != wantRef.String() {
		t.Errorf("enter on a marked binding: page %d, want %s", m.active, wantRef)
	}

	// u-secrets' matrix: its first cell (get secrets) comes from
	// ClusterRoleBinding audit-secrets.
	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("/")
	f.typeText("u-secrets")
	f.keys("<enter>", "<enter>", "<enter>") // the filter, the matrix, go to
	f.wait(jumpMsg{})
	m, screen = f.finish()
	rp = m.pages[3].(*rolesPage)
	i, _ := rp.list.selected()
	if m.active != 3 || rp.items[i].ref.Name != "audit-secrets" || rp.items[i].ref.Kind != "ClusterRoleBinding" {
		t.Errorf("enter on a matrix cell: page %d, %v\n%s", m.active, rp.items[i].ref, plain(screen))
	}

	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("/")
	f.typeText("u-secrets")
	f.keys("<enter>", "<enter>", "<enter>")
	f.wait(jumpMsg{})
	f.keys("<enter>", "<enter>") // the binding's detail, its role
	f.wait(jumpMsg{})
	m, _ = f.finish()
	rp = m.pages[3].(*rolesPage)
	i, _ = rp.list.selected()
	if rp.items[i].ref.Kind != "ClusterRole" || rp.items[i].ref.Name != "audit-secret-reader" {
		t.Errorf("enter on a binding's detail: %v", rp.items[i].ref)
	}

	// On Roles & bindings: a role's detail marks its first binding, down
	// the binding's subject; enter goes to it, esc comes back to the role.
	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("4", "/")
	f.typeText("audit-secret-reader")
	f.keys("<enter>", "<enter>", "<down>", "<enter>")
	f.wait(jumpMsg{})
	m, _ = f.finish()
	sp = m.pages[0].(*subjectsPage)
	if i, ok := sp.list.selected(); m.active != 0 || !ok || sp.subs[i].s.String() != "user:u-secrets" {
		t.Errorf("down, enter on a role's detail: page %d", m.active)
	}
	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("4", "/")
	f.typeText("audit-secret-reader")
	f.keys("<enter>", "<enter>", "<enter>")
	f.wait(jumpMsg{})
	f.keys("<esc>")
	m, _ = f.finish()
	rp = m.pages[3].(*rolesPage)
	if i, ok := rp.list.selected(); m.active != 3 || !ok || rp.items[i].ref.Name != "audit-secret-reader" || rp.items[i].ref.Kind != "ClusterRole" {
		t.Errorf("esc after going from a role to its binding: page %d, %v", m.active, rp.items[i].ref)
	}

	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("4", "/")
	f.typeText("audit-secret-reader")
	f.keys("<enter>", "v")
	f.wait(objectMsg{})
	_, screen = f.finish()
	if s := plain(screen); !strings.Contains(s, "as read from ../audit/testdata/fixtures.yaml:") || !strings.Contains(s, "rules:") || !strings.Contains(s, "name: audit-secret-reader") {
		t.Errorf("v on a role:\n%s", s)
	}
}

// TestFooterKeysWork walks every key the footer shows, on each page and
// in each state, and checks that it does something there: the screen
// changes (a key that is shown and does nothing is a defect).
func TestFooterKeysWork(t *testing.T) {
	sess := loadSession(t, offlineApp(t))
	sess.Report() // the audit done, as after the first screen
	press := func(m *Model, k key.Binding) {
		name := k.Keys()[0]
		var msg tea.KeyPressMsg
		switch name {
		case "up", "down", "left", "right", "enter", "esc", "tab", "pgup", "pgdown", "home", "end":
			msg = keyMsg("<" + name + ">")
			switch name {
			case "pgup":
				msg = tea.KeyPressMsg{Code: tea.KeyPgUp}
			case "pgdown":
				msg = tea.KeyPressMsg{Code: tea.KeyPgDown}
			case "home":
				msg = tea.KeyPressMsg{Code: tea.KeyHome}
			case "end":
				msg = tea.KeyPressMsg{Code: tea.KeyEnd}
			}
		default:
			msg = keyMsg(name)
		}
		_, cmd := m.Update(msg)
		// Run what the key started (a jump, a verification, a fix plan)
		// and hand its message back, as the program would.
		for i := 0; cmd != nil && i < 3; i++ {
			out := cmd()
			if _, quit := out.(tea.QuitMsg); quit || out == nil {
				break
			}
			if b, ok := out.(tea.BatchMsg); ok {
				for _, c := range b {
					if c != nil {
						if o := c(); o != nil {
							m.Update(o)
						}
					}
				}
				break
			}
			_, cmd = m.Update(out)
		}
	}
	// system:nodes' matrix has rows above and below the cursor, and a
	// cell granted through a binding under it; u-ns-admin's two scopes.
	states := []struct {
		name  string
		w, h  int
		setup []string // keys, as keyMsg reads them
		text  string   // typed after setup
		after []string
	}{
		{"subjects list", 140, 40, []string{"1", "<down>", "<down>"}, "", nil},
		{"subjects matrix", 140, 40, []string{"1", "/"}, "system:nodes", []string{"<enter>", "<enter>", "<down>", "<right>"}},
		{"subjects matrix on a granted cell", 140, 40, []string{"1", "/"}, "system:nodes", []string{"<enter>", "<enter>", "<down>"}},
		{"subjects matrix with scopes", 140, 40, []string{"1", "/"}, "u-ns-admin", []string{"<enter>", "<enter>"}},
		{"who can results", 140, 40, []string{"2"}, "get secrets -A", []string{"<enter>", "<down>"}},
		{"who can detail", 80, 13, []string{"2"}, "get secrets -A", []string{"<enter>", "<down>", "<down>", "<enter>", "<down>"}},
		{"findings list", 140, 40, []string{"3", "<down>", "<down>"}, "", nil},
		{"findings detail", 80, 13, []string{"3", "<down>", "<enter>", "<down>"}, "", nil},
		{"roles list", 140, 40, []string{"4", "<down>", "<down>"}, "", nil},
		{"roles detail", 80, 13, []string{"4", "/"}, "audit-all-star", []string{"<enter>", "<enter>", "<down>"}},
	}
	for _, st := range states {
		setup := func() *Model {
			m := New(t.Context(), Options{App: sess.App, Initial: sess, WriteDir: t.TempDir()})
			m.Update(tea.WindowSizeMsg{Width: st.w, Height: st.h})
			m.Update(auditedMsg{sess: sess})
			for _, k := range st.setup {
				m.Update(keyMsg(k))
			}
			for _, r := range st.text {
				m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
			}
			for _, k := range st.after {
				m.Update(keyMsg(k))
			}
			return m
		}
		m := setup()
		keys := m.pages[m.active].help()
		if len(keys) < 3 {
			t.Fatalf("%s: footer of %d keys", st.name, len(keys))
		}
		has := func(desc string) bool {
			return slices.ContainsFunc(keys, func(k key.Binding) bool { return k.Help().Desc == desc || k.Help().Key == desc })
		}
		if st.name == "subjects matrix on a granted cell" && !has("go to") || st.name == "subjects matrix with scopes" && !has("[") {
			t.Errorf("%s: the footer lacks the key the state is for: %d keys", st.name, len(keys))
		}
		for _, k := range keys {
			// These states are here for some keys only: the scopes of
			// a subject with one row, go to on a granted cell at column 0.
			if st.name == "subjects matrix with scopes" && k.Help().Key != "[" && k.Help().Key != "]" ||
				st.name == "subjects matrix on a granted cell" && k.Help().Desc != "go to" {
				continue
			}
			m := setup()
			before := plain(m.render())
			press(m, k)
			if after := plain(m.render()); after == before {
				t.Errorf("%s: %s (%s) changed nothing on the screen", st.name, k.Help().Key, k.Help().Desc)
			}
		}
	}
}

// TestPagesWide: every page at 160x50, list and detail side by side, the
// detail focused where it has one, against golden files.
func TestPagesWide(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
		text string
		want []string
	}{
		{"subjects-matrix", []string{"1", "<down>", "<enter>"}, "", []string{"┃", "deletecollection"}},
		{"whocan", []string{"2"}, "get secrets -A", []string{"in every namespace", "WHERE"}},
		{"findings", []string{"3", "<enter>"}, "", []string{"NAMESPACE", "┃"}},
		{"roles", []string{"4", "/"}, "res:pods/exec", []string{"RoleBinding", "Held by"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, offlineApp(t), 160, 50, Options{})
			f.keys(tc.keys...)
			if tc.text != "" {
				f.typeText(tc.text)
				f.keys("<enter>")
			}
			_, screen := f.finish()
			for _, w := range tc.want {
				if !strings.Contains(plain(screen), w) {
					t.Errorf("screen lacks %q:\n%s", w, plain(screen))
				}
			}
			golden.RequireEqual(t, screen)
		})
	}
}

// TestFindingLinks: in a finding's detail, down marks the next object
// (its subjects, then each path's binding and role) and enter goes to it.
func TestFindingLinks(t *testing.T) {
	f := start(t, offlineApp(t), 160, 50, Options{})
	f.keys("3", "/")
	f.typeText("rule:secrets-read u-secrets")
	f.keys("<enter>", "<enter>", "<down>", "<enter>")
	f.wait(jumpMsg{})
	m, _ := f.finish()
	fp := m.pages[2].(*findingsPage)
	rp := m.pages[3].(*rolesPage)
	i, ok := rp.list.selected()
	if len(fp.links) < 2 || m.active != 3 || !ok || fp.links[1].ref == nil || rp.items[i].ref.String() != fp.links[1].ref.String() {
		t.Errorf("down, enter on a finding's detail: page %d, links %d", m.active, len(fp.links))
	}
}

// TestAzureRBACBanner: while Azure RBAC decides after RBAC and its role
// assignments are not read, the header says so on every page, and Who
// can says why its list may lack subjects (not that RBAC objects could
// not be read).
func TestAzureRBACBanner(t *testing.T) {
	a, c := liveApp(t)
	c.snap.AzureRBAC = &rbac.Probe{State: rbac.ProbeActive, Detail: "guard answered"}
	f := start(t, a, 160, 40, Options{})
	f.keys("2", "/")
	f.typeText("get secrets -n team-a")
	f.keys("<enter>")
	time.Sleep(200 * time.Millisecond)
	_, screen := f.finish()
	for _, want := range []string{"INCOMPLETE VIEW: Azure RBAC decides too, not loaded", "Azure RBAC decides after RBAC here and its role assignments are not read"} {
		if !strings.Contains(plain(screen), want) {
			t.Errorf("the screen lacks %q:\n%s", want, plain(screen))
		}
	}
}

// TestFooterKeepsHelpAndQuit: at 80x24, on every page, the footer's keys
// end with ? and q, whatever the page's own keys take.
func TestFooterKeepsHelpAndQuit(t *testing.T) {
	f := start(t, offlineApp(t), 80, 24, Options{})
	m, _ := f.finish()
	for i := range m.pages {
		m.active = i
		lines := strings.Split(plain(m.footer()), "\n")
		last := lines[len(lines)-1]
		if !strings.Contains(last, "? help") || !strings.HasSuffix(strings.TrimSpace(last), "q quit") || ansi.StringWidth(last) > 80 {
			t.Errorf("page %s: footer %q loses ? or q (or is wider than 80)", m.pages[i].title(), last)
		}
	}
}

// TestFilterReopensToEdit: / on a filtered list opens the filter applied,
// to edit in sight (typing goes on from its end, ctrl+u empties the line),
// never a blind new line appended to it.
func TestFilterReopensToEdit(t *testing.T) {
	f := start(t, offlineApp(t), 80, 24, Options{})
	f.keys("/")
	f.typeText("u-sec")
	f.keys("<enter>", "/")
	time.Sleep(30 * time.Millisecond)
	f.tm.Send(screenMsg{})
	f.typeText("rets")
	f.keys("<enter>", "/", "<ctrl+u>")
	f.typeText("u-admin")
	f.keys("<enter>")
	m, screen := f.finish()
	p := m.pages[0].(*subjectsPage)
	if v := p.filter.value(); v != "u-admin" {
		t.Errorf("the filter after ctrl+u is %q, want u-admin", v)
	}
	if len(p.list.match) == 0 || !strings.Contains(plain(screen), "filter: u-admin") {
		t.Errorf("the new filter matched %d subjects:\n%s", len(p.list.match), plain(screen))
	}
}

// TestFilterReopenShowsTheFilter: the reopened line holds the filter
// applied, and what is typed goes on from its end.
func TestFilterReopenShowsTheFilter(t *testing.T) {
	sess := loadSession(t, offlineApp(t))
	m := setupState(t, sess, keyState{keys: []string{"1", "/"}, text: "u-sec", then: []string{"<enter>", "/"}}, 80, 24)
	if !strings.Contains(plain(m.render()), "/u-sec") {
		t.Fatalf("the reopened filter line does not show the filter:\n%s", plain(m.render()))
	}
	for _, r := range "rets" {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	if v := m.pages[0].(*subjectsPage).filter.value(); v != "u-secrets" {
		t.Errorf("typing on the reopened filter gives %q, want u-secrets", v)
	}
}

// TestCategoryFilterOnTheFilterLine: the findings' category filter (c) is
// on the filter line, as every filter applied is.
func TestCategoryFilterOnTheFilterLine(t *testing.T) {
	f := start(t, offlineApp(t), 80, 24, Options{})
	f.keys("3", "c")
	_, screen := f.finish()
	lines := strings.Split(plain(screen), "\n")
	found := false
	for _, l := range lines[:4] {
		if strings.Contains(l, "category: rbac") {
			found = true
		}
	}
	if !found {
		t.Errorf("the category filter is not on the filter line:\n%s", strings.Join(lines[:4], "\n"))
	}
}

// TestWhoCanAzureDoors: the explorer's who-can lists the ways in through
// Azure's control plane as the CLI does (the same answer from access),
// each with its assignment -> role -> action and the identity's grant.
func TestWhoCanAzureDoors(t *testing.T) {
	a := offlineApp(t)
	a.Files = []string{"../testdata/aks/rbac.yaml", "../testdata/aks/cluster.json", "../testdata/aks/assignments.json"}
	f := start(t, a, 200, 50, Options{})
	f.keys("2")
	f.typeText("delete namespaces")
	f.keys("<enter>")
	// The first door row: past the four subjects.
	f.keys("<down>", "<down>", "<down>", "<down>")
	m, screen := f.finish()
	s := plain(screen)
	p := m.pages[pageWhoCan].(*whoCanPage)
	if len(p.res.AzureDoors) != 3 {
		t.Fatalf("doors: %+v", p.res.AzureDoors)
	}
	if n := strings.Count(s, "⇢az   user:"); n != 3 {
		t.Errorf("%d door rows, want 3:\n%s", n, s)
	}
	for _, w := range []string{"user:contributor@contoso.com  azure-credential", "user:uaa@contoso.com  azure-reconfigure",
		"Azure role \"Contributor\" (built-in actions)", "listClusterAdminCredential/action -> user clusterAdmin"} {
		if !strings.Contains(s, w) {
			t.Errorf("the screen lacks %q:\n%s", w, s)
		}
	}
	if strings.Contains(s, "reader@contoso.com") || strings.Contains(s, "user-role@contoso.com") {
		t.Errorf("the Reader or the Cluster User Role holder listed:\n%s", s)
	}
}

// TestSubjectWorkloadIdentity: a service account's detail says the Azure
// identity its pods act as, with its roles, as what-can does (access's
// words), and an annotation that grants nothing as such.
func TestSubjectWorkloadIdentity(t *testing.T) {
	a := offlineApp(t)
	a.Files = []string{"../testdata/aks-identity"}
	for _, c := range []struct{ filter, want string }{
		{"orders", "acts in Azure as managed identity id-orders"},
		{"reports", "not as client id"},
	} {
		f := start(t, a, 220, 40, Options{})
		f.keys("/")
		f.typeText(c.filter)
		f.keys("<enter>")
		_, screen := f.finish()
		if s := plain(screen); !strings.Contains(s, c.want) {
			t.Errorf("sa %s: the detail lacks %q:\n%s", c.filter, c.want, s)
		}
	}
}

// TestExploreAllowLockout: a fix the lockout guard refuses is not offered
// (and the note says how to have it), unless the explorer runs with
// --allow-lockout, whose summary then warns, as fix --allow-lockout does.
func TestExploreAllowLockout(t *testing.T) {
	for _, allow := range []bool{false, true} {
		f := start(t, offlineApp(t), 160, 50, Options{AllowLockout: allow})
		f.keys("3", "/")
		f.typeText("rule:cluster-admin-equivalent u-admin")
		f.keys("<enter>", "f")
		if allow {
			f.wait(planMsg{})
		}
		_, screen := f.finish()
		s := plain(screen)
		switch {
		case !allow && !strings.Contains(s, "explore --allow-lockout offers it"):
			t.Errorf("without --allow-lockout:\n%s", s)
		case allow && !strings.Contains(s, "WARNING (--allow-lockout)"):
			t.Errorf("with --allow-lockout:\n%s", s)
		}
	}
}

// TestHelpHasEveryKey: the full help (?) lists every key of the key map,
// each once: no field of KeyMap is left out of HelpGroups.
func TestHelpHasEveryKey(t *testing.T) {
	k := DefaultKeyMap()
	var listed []string
	for _, g := range k.HelpGroups() {
		for _, b := range g.Keys {
			listed = append(listed, strings.Join(b.Keys(), ","))
		}
	}
	v := reflect.ValueOf(*k)
	for i := range v.NumField() {
		b, ok := v.Field(i).Interface().(key.Binding)
		if !ok {
			continue
		}
		keys := strings.Join(b.Keys(), ",")
		if n := slices.Index(listed, keys); n < 0 {
			t.Errorf("KeyMap.%s (%s) is not in the full help", v.Type().Field(i).Name, keys)
		}
	}
	if len(listed) != v.NumField() {
		t.Errorf("the full help lists %d keys, the map has %d", len(listed), v.NumField())
	}
	f := start(t, offlineApp(t), 160, 50, Options{})
	f.keys("?")
	_, screen := f.finish()
	for _, w := range []string{"v YAML", "Y apply (shift+y)", "n/esc cancel"} {
		if !strings.Contains(plain(screen), w) {
			t.Errorf("the help screen lacks %q", w)
		}
	}
}

// TestSubjectsAzureReach: where some subject acts as an Azure identity, the
// Subjects list has an AZURE column with the worst reach of each, and a
// subject's detail says each identity and step in what-can's words; a
// cluster without any keeps its columns.
func TestSubjectsAzureReach(t *testing.T) {
	a := offlineApp(t)
	a.Files = []string{"../testdata/aks-identity"}
	f := start(t, a, 220, 40, Options{})
	f.keys("/")
	f.typeText("c7c7c7c7")
	f.keys("<enter>")
	_, screen := f.finish()
	s := plain(screen)
	for _, want := range []string{"AZURE", "acts in Azure by a step in the cluster:",
		"critical managed identity id-orders (Contributor on subscription 22222222-2222-4222-8222-222222222222",
		"create pods in namespace shop that run as sa:shop:orders, via RB shop/shop-edit -> CR edit",
		"high the nodes' kubelet identity"} {
		if !strings.Contains(s, want) {
			t.Errorf("the group's Subjects page lacks %q:\n%s", want, s)
		}
	}
	row := ""
	for _, ln := range strings.Split(s, "\n") {
		if list, _, ok := strings.Cut(ln, "│"); ok && strings.Contains(list, "c7c7c7c7-0000-4000-8000-000000000007") {
			row = list
			break
		}
	}
	if !strings.Contains(row, "critical") {
		t.Errorf("the group's row lacks its worst reach: %q", row)
	}
	// The demo has no Azure identity: no AZURE column.
	f = start(t, offlineApp(t), 220, 40, Options{})
	_, screen = f.finish()
	if strings.Contains(plain(screen), "AZURE") {
		t.Errorf("a view without Azure identities has the AZURE column:\n%s", plain(screen))
	}
}

// TestSubjectDanglingBinding: a binding naming the subject whose role does
// not exist is said in the subject's detail (it grants nothing until the
// role exists), beside the bindings that name it.
func TestSubjectDanglingBinding(t *testing.T) {
	extra := filepath.Join(t.TempDir(), "dangling.yaml")
	if err := os.WriteFile(extra, []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ghost-binding, namespace: audit-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: not-there}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: u-ghost}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := offlineApp(t)
	a.Files = append(a.Files, extra)
	f := start(t, a, 160, 40, Options{})
	f.keys("/")
	f.typeText("u-ghost")
	f.keys("<enter>")
	_, screen := f.finish()
	if s := plain(screen); !strings.Contains(s, "bound by RoleBinding audit-a/ghost-binding") ||
		!strings.Contains(s, "its role does not exist (grants nothing until it does): RoleBinding audit-a/ghost-bind") {
		t.Errorf("the dangling binding is not said:\n%s", s)
	}
}
