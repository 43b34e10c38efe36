package tui

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
)

// The explorer on LARGE in memory: the model built from a loaded snapshot
// and its audit (the first screen, less the LISTs that `make bench`'s live
// half measures), a filter typed one key at a time, and one View of a page
// of more than 10,000 rows, which must stay under 16 ms (a frame at 60 Hz).
// BenchmarkExplorerBaselineSprintf, in the same run, is the baseline:
// formatting the page's rows as plain text once.

var largeSession = func() func(testing.TB) *access.Session {
	var s *access.Session
	return func(tb testing.TB) *access.Session {
		if s == nil {
			a := offlineApp(tb)
			a.Files, a.Cluster, a.Origin = nil, &testCluster{snap: large.Snapshot(1)}, access.Origin{Context: "LARGE"}
			s = loadSession(tb, a)
			s.Report()
		}
		return s
	}
}()

func largeModel(b *testing.B) *Model {
	s := largeSession(b)
	m := New(b.Context(), Options{App: s.App, Initial: s})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	return m
}

func BenchmarkExplorerBaselineSprintf(b *testing.B) {
	m := largeModel(b)
	p := m.pages[0].(*subjectsPage)
	n := 0
	for b.Loop() {
		for _, s := range p.subs {
			n += len(fmt.Sprintf("%s %s %s %d %d", s.s.Kind, s.s.Name, s.s.Namespace, s.bindings, s.findings))
		}
	}
	_ = n
}

func BenchmarkExplorerFirstScreen(b *testing.B) {
	s := largeSession(b)
	rows := 0
	for b.Loop() {
		m := New(b.Context(), Options{App: s.App, Initial: s})
		m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
		_ = m.render()
		rows = len(m.pages[0].(*subjectsPage).subs)
	}
	b.ReportMetric(float64(rows), "subjects")
}

func BenchmarkExplorerView10kRows(b *testing.B) {
	m := largeModel(b)
	if n := len(m.pages[0].(*subjectsPage).list.rows); n < 10000 {
		b.Fatalf("the subjects page has %d rows, want a page of at least 10,000", n)
	}
	for b.Loop() {
		_ = m.render()
	}
}

func BenchmarkExplorerFindingsView(b *testing.B) {
	m := largeModel(b)
	m.Update(tea.KeyPressMsg{Code: '3', Text: "3"})
	b.ReportMetric(float64(len(m.sess.Report().Findings)), "findings")
	for b.Loop() {
		_ = m.render()
	}
}

// BenchmarkExplorerTypeFilter types "team-007" into the subjects filter,
// rendering after each key as the program does.
func BenchmarkExplorerTypeFilter(b *testing.B) {
	m := largeModel(b)
	for b.Loop() {
		m.Update(tea.KeyPressMsg{Code: '/', Text: "/"})
		for _, r := range "team-007" {
			m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
			_ = m.render()
		}
		m.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	}
}

// BenchmarkExplorerSelectBusySA moves the cursor onto the service account
// bound in every namespace (about 1,700 rules in 500 scopes) and renders:
// its rules, the matrix of its first scope and the screen, as a user
// arrowing onto it waits for them; then back to its neighbour.
func BenchmarkExplorerSelectBusySA(b *testing.B) {
	m := largeModel(b)
	p := m.pages[0].(*subjectsPage)
	at := -1
	for i, s := range p.subs {
		if s.s.Kind == "ServiceAccount" && s.s.Name == large.BusySA && s.s.Namespace == large.Namespace(0) {
			at = i
		}
	}
	if at < 1 {
		b.Fatal("the busy service account is not listed")
	}
	p.list.cursor = at - 1
	p.syncDetail()
	for b.Loop() {
		m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
		_ = m.render()
		if len(p.rules) < 500 {
			b.Fatalf("%d rules: not the busy service account", len(p.rules))
		}
		m.Update(tea.KeyPressMsg{Code: tea.KeyUp})
	}
}
