package tui

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/identity"
	hostilekit "github.com/kubectl-access/kubectl-access/internal/testkit/hostile"
)

// hostileApp reads issue 28's universe of hostile names (internal/testkit/
// hostile) offline, with its group display names.
func hostileApp(t *testing.T) *access.App {
	t.Helper()
	manifests, namesFile := hostilekit.Write(t)
	names, err := identity.LoadNames(t.Context(), namesFile)
	if err != nil {
		t.Fatal(err)
	}
	a := offlineApp(t)
	a.Files, a.Origin, a.Names = []string{manifests}, access.Origin{Files: []string{"universe.yaml"}}, names
	return a
}

// sgr is the styling the explorer draws with: the only escape sequences
// its screen may hold.
var sgr = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// checkScreen: the screen as the explorer drew it holds no control
// character but its own styling, and (shows) shows the hostile names,
// escaped.
func checkScreen(t *testing.T, label, screen string, shows bool) {
	t.Helper()
	for _, raw := range []string{"\x1b[2J", "\x1b]", "\u009b", "\u202e", "\r"} {
		if strings.Contains(screen, raw) {
			t.Errorf("%s: the screen holds %q raw", label, raw)
		}
	}
	if bad := hostilekit.Controls(sgr.ReplaceAllString(screen, ""), false); len(bad) > 0 {
		t.Errorf("%s: the screen holds what a terminal acts on %v:\n%q", label, bad, screen)
	}
	for _, l := range strings.Split(plain(screen), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "FAKE LINE") {
			t.Errorf("%s: a forged line: %q", label, l)
		}
	}
	if shows && !strings.Contains(screen, `\x1b[2J`) {
		t.Errorf("%s: no hostile name on the screen, so it proves nothing:\n%s", label, plain(screen))
	}
}

// TestHostileUniverseOnEveryPage: issue 28's names (escape sequences, OSC
// 52, CR/LF, ^C, bidi, C1 controls, DEL, shell syntax) in subjects,
// bindings, roles, a namespace and group display names are shown escaped
// on every page, detail, scope, the fix's plan and diff, and the object's
// YAML.
func TestHostileUniverseOnEveryPage(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
		text string   // typed after keys
		then []string // pressed after the text
		wait tea.Msg
		see  string // on the screen too
	}{
		{name: "subjects", keys: []string{"1"}},
		{name: "subject matrix", keys: []string{"1", "/"}, text: "u-", then: []string{"<enter>", "<enter>"}},
		{name: "subject matrix in the hostile namespace", keys: []string{"1", "/"}, text: "u-", then: []string{"<enter>", "<enter>", "]"}},
		{name: "service account matrix", keys: []string{"1", "/"}, text: "kind:sa", then: []string{"<enter>", "<enter>"}},
		{name: "who can", keys: []string{"2"}, text: "get secrets -A", then: []string{"<enter>"}},
		{name: "who can through service accounts", keys: []string{"2"}, text: "create pods/exec -A", then: []string{"<enter>", "t"}},
		{name: "findings", keys: []string{"3"}},
		{name: "finding detail", keys: []string{"3", "/"}, text: "PWNED", then: []string{"<enter>", "<enter>"}},
		{name: "fix", keys: []string{"3", "/"}, text: "rule:secrets-read", then: []string{"<enter>", "f"}, wait: planMsg{}, see: "  subjects:"},
		{name: "fix narrowing", keys: []string{"3", "/"}, text: "rule:workload-create", then: []string{"<enter>", "f"}, wait: planMsg{}, see: "- roleRef:"},
		{name: "roles", keys: []string{"4"}},
		{name: "role detail", keys: []string{"4", "/"}, text: "PWNED", then: []string{"<enter>", "<enter>"}},
		{name: "object yaml", keys: []string{"4", "/"}, text: "PWNED", then: []string{"<enter>", "v"}, wait: objectMsg{}, see: "metadata:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, hostileApp(t), 140, 45, Options{})
			f.keys(tc.keys...)
			f.typeText(tc.text)
			f.keys(tc.then...)
			if tc.wait != nil {
				f.wait(tc.wait)
			}
			m, _ := f.finish()
			checkScreen(t, tc.name, m.lastScreen, true)
			if !strings.Contains(plain(m.lastScreen), tc.see) {
				t.Errorf("%s: the screen lacks %q:\n%s", tc.name, tc.see, plain(m.lastScreen))
			}
		})
	}
}

// TestHostileUniverseCopyAndWrite: for every fixable finding of the
// universe, y copies printable text that bash runs without running any
// name (each reaches kubectl whole), and w writes a Fix document that
// reads back with the exact names, its comment lines escaped.
func TestHostileUniverseCopyAndWrite(t *testing.T) {
	a := hostileApp(t)
	var ids []string
	for _, fi := range loadSession(t, a).Report().Findings {
		if b, _ := json.Marshal(fi); fi.Fixable && strings.Contains(string(b), "PWNED") {
			ids = append(ids, fi.ID)
		}
	}
	if len(ids) < 3 {
		t.Fatalf("only %d fixable findings on hostile names: %v", len(ids), ids)
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			dir := t.TempDir()
			f := start(t, hostileApp(t), 140, 45, Options{WriteDir: dir})
			f.keys("3", "/")
			f.typeText("id:" + id)
			f.keys("<enter>", "f")
			f.wait(planMsg{})
			f.keys("y")
			var copied string
			select {
			case copied = <-f.clip:
			case <-time.After(20 * time.Second):
				t.Fatal("y copied nothing within 20s")
			}
			f.keys("w")
			if w := f.wait(wroteMsg{}).(wroteMsg); w.err != nil {
				t.Fatal(w.err)
			}
			m, _ := f.finish()
			checkScreen(t, "after y and w", m.lastScreen, false)

			if bad := hostilekit.Unpastable(copied); len(bad) > 0 {
				t.Errorf("the clipboard holds %v: a paste acts on it:\n%q", bad, copied)
			}
			args, pwned := hostilekit.RunShell(t, copied)
			if len(pwned) > 0 {
				t.Errorf("running what y copied created %v:\n%s", pwned, copied)
			}
			if !slices.ContainsFunc(args, func(arg string) bool { return slices.Contains(hostilekit.N.All(), arg) }) {
				t.Errorf("no command got a hostile name whole: %q\n%s", args, copied)
			}

			body, err := os.ReadFile(dir + "/" + id + ".fix.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if bad := hostilekit.Controls(string(body), true); len(bad) > 0 {
				t.Errorf("the fix file holds control characters %v", bad)
			}
			var fx fix.Fix
			if err := yaml.Unmarshal(body, &fx); err != nil || fx.Finding != id || len(fx.Operations) == 0 {
				t.Fatalf("the fix file does not read back: %v\n%s", err, body)
			}
			if !slices.ContainsFunc(fx.Operations, func(op fix.Operation) bool { return slices.Contains(hostilekit.N.All(), op.Target.Name) }) {
				t.Errorf("the fix file's operations name no hostile object exactly: %+v", fx.Operations)
			}
		})
	}
}
