package tui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
)

func findingsPageOf(t *testing.T, a *access.App) *findingsPage {
	t.Helper()
	p := newFindingsPage(&Common{Styles: NewStyles(), Keys: DefaultKeyMap()}, &deps{})
	s := loadSession(t, a)
	s.Report()
	p.setSession(s)
	p.build()
	return p
}

var (
	pressB     = tea.KeyPressMsg{Code: 'b', Text: "b"}
	pressEnter = tea.KeyPressMsg{Code: tea.KeyEnter}
)

// TestFindingsGroups: b groups the Findings page as the CLI's audit
// summarises (the same groups, from access), enter on a group shows its
// findings under it (each a finding the detail shows), and b cycles on to
// subject, binding and back to the list.
func TestFindingsGroups(t *testing.T) {
	p := findingsPageOf(t, offlineApp(t))
	if p.grouping.by != "" || p.grouping.rows != nil {
		t.Fatalf("%d findings listed one per row until past %d: grouped by %q", len(p.report.Findings), audit.SummarizeAbove, p.grouping.by)
	}
	p.update(pressB)
	want := access.GroupFindings(p.report.Findings, audit.ByRule)
	if p.grouping.by != audit.ByRule || len(p.list.rows) != len(want) || len(want) < 2 {
		t.Fatalf("b: grouped by %q, %d rows, want the %d rule groups", p.grouping.by, len(p.list.rows), len(want))
	}
	if _, ok := p.current(); ok || p.currentGroup() == nil || p.currentGroup().Key() != want[0].Key() {
		t.Fatalf("the first row is not the first rule group %s", want[0].Key())
	}
	p.update(pressEnter)
	if len(p.list.rows) != len(want)+want[0].Count {
		t.Fatalf("enter: %d rows, want the %d groups and the first one's %d findings", len(p.list.rows), len(want), want[0].Count)
	}
	p.list.cursor = 1
	if f, ok := p.current(); !ok || f.Rule != want[0].Rule {
		t.Fatalf("the row under the open group is not one of its findings: %v %v", f, ok)
	}
	p.list.cursor = 0
	p.update(pressEnter)
	if len(p.list.rows) != len(want) {
		t.Errorf("enter again: %d rows, want the group closed", len(p.list.rows))
	}
	for _, by := range []audit.GroupBy{audit.BySubject, audit.ByBinding, ""} {
		p.update(pressB)
		if p.grouping.by != by {
			t.Fatalf("b: grouped by %q, want %q", p.grouping.by, by)
		}
	}
	if len(p.list.rows) != len(p.report.Findings) {
		t.Errorf("back to the list: %d rows for %d findings", len(p.list.rows), len(p.report.Findings))
	}
}

// TestFindingsGroupAtScale: past 200 findings the page opens grouped by
// rule, a screen of rows, as the CLI's table does.
func TestFindingsGroupAtScale(t *testing.T) {
	z := large.Scaled(10)
	z.Dense = true
	b, err := json.Marshal(large.Generate(1, z))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dense.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	a := offlineApp(t)
	a.Files = []string{file}
	p := findingsPageOf(t, a)
	if len(p.report.Findings) <= audit.SummarizeAbove || p.grouping.by != audit.ByRule {
		t.Fatalf("%d findings: grouped by %q, want by rule past %d", len(p.report.Findings), p.grouping.by, audit.SummarizeAbove)
	}
	if n := len(p.list.rows); n > 30 {
		t.Errorf("%d rows grouped by rule", n)
	}
}
