package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// findingGrouping is how the Findings page groups its rows, as the CLI's
// audit table summarises them (access.GroupFindings): by rule, by the
// subject holding them, by the binding whose fix removes them, or not at
// all. Past audit.SummarizeAbove findings it starts by rule; b cycles;
// enter on a group shows its findings under it, or hides them.
type findingGrouping struct {
	by     audit.GroupBy // "" lists the findings
	chosen bool          // b was pressed: the default no longer applies
	groups []audit.Group
	open   map[string]bool // the groups expanded, by key
	// rows say what each row is: a group (finding -1) or a finding.
	rows []groupRow
}

type groupRow struct{ group, finding int }

// dflt groups by rule when there are too many findings to list, unless
// the grouping was chosen.
func (g *findingGrouping) dflt(listed int) {
	if !g.chosen {
		g.by = ""
		if listed > audit.SummarizeAbove {
			g.by = audit.ByRule
		}
	}
}

// groupKey cycles the grouping on b, or toggles the group under the
// cursor on enter; it says whether it took the key.
func (p *findingsPage) groupKey(km tea.KeyPressMsg) bool {
	k := p.c.Keys
	switch {
	case key.Matches(km, k.Group):
		order := append([]audit.GroupBy{""}, audit.Groupings...)
		next := 0
		for i, by := range order {
			if by == p.grouping.by {
				next = (i + 1) % len(order)
			}
		}
		p.grouping.by = order[next]
		p.grouping.chosen = true
		p.grouping.open = nil
		p.setRows()
		p.list.cursor, p.list.offset = 0, 0
		p.syncDetail(true)
		return true
	case key.Matches(km, k.Enter):
		g := p.currentGroup()
		if g == nil {
			return false
		}
		if p.grouping.open == nil {
			p.grouping.open = map[string]bool{}
		}
		p.grouping.open[g.Key()] = !p.grouping.open[g.Key()]
		p.setRows()
		p.syncDetail(true)
		return true
	}
	return false
}

// currentGroup is the group whose row is under the cursor, nil on a
// finding's row or when not grouped.
func (p *findingsPage) currentGroup() *audit.Group {
	i, ok := p.list.selected()
	if !ok || p.grouping.rows == nil || p.grouping.rows[i].finding >= 0 {
		return nil
	}
	return &p.grouping.groups[p.grouping.rows[i].group]
}

// setGroupRows lists the groups, each open one followed by its findings.
func (p *findingsPage) setGroupRows() {
	g := &p.grouping
	g.groups = access.GroupFindings(p.report.Findings, g.by)
	g.rows = g.rows[:0]
	var rows []row
	for gi := range g.groups {
		gr := &g.groups[gi]
		open := g.open[gr.Key()]
		g.rows = append(g.rows, groupRow{gi, -1})
		rows = append(rows, p.groupRow(gr, open))
		if open {
			for _, fi := range gr.Findings {
				g.rows = append(g.rows, groupRow{gi, fi})
				rows = append(rows, p.findingRow(&p.report.Findings[fi], "  "))
			}
		}
	}
	if g.rows == nil {
		g.rows = []groupRow{}
	}
	p.list.setRows(rows)
	p.syncDetail(true)
}

// groupRow is a group's row: its worst severity, rule (or how many),
// namespaces, and what it shares with its count.
func (p *findingsPage) groupRow(g *audit.Group, open bool) row {
	mark := "▸ "
	if open {
		mark = "▾ "
	}
	rule := g.Rule
	if rule == "" {
		rule = plural(g.Rules, "rule")
	}
	who := g.Key()
	if g.Subject != nil {
		who = subjectCell(p.names, *g.Subject)
	}
	text := fmt.Sprintf("%s%s: %s", mark, safe.Terminal(who), plural(g.Count, "finding"))
	switch g.By {
	case audit.BySubject:
		text += fmt.Sprintf(", reach %d", g.Reach)
	case audit.ByBinding:
		text += " its fix removes"
	}
	cat := ""
	if g.By == audit.ByRule && len(g.Findings) > 0 {
		cat = string(p.report.Findings[g.Findings[0]].Category)
	}
	sev := g.Severity.String()
	return row{
		cells:  []string{p.c.Styles.Severity[g.Severity].Render(sev), rule, plural(g.Namespaces, "namespace"), text},
		search: strings.ToLower(sev + " " + rule + " " + who),
		fields: map[string]string{"rule": g.Rule, "category": cat, "cat": cat, "sev": sev, "severity": sev},
	}
}

// renderGroup is a group's detail: what its findings share and count.
func (p *findingsPage) renderGroup(g *audit.Group) string {
	st := p.c.Styles
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n\n", st.Severity[g.Severity].Render(strings.ToUpper(g.Severity.String())), st.Bold.Render("by "+string(g.By)+": "+safe.Terminal(g.Key())))
	s := g.Summary
	fmt.Fprintf(&b, "%s: %d critical, %d high, %d medium, %d low, %d info\n", plural(g.Count, "finding"), s.Critical, s.High, s.Medium, s.Low, s.Info)
	fmt.Fprintf(&b, "reach %d (each finding counts critical 8, high 4, medium 2, low 1)\n", g.Reach)
	fmt.Fprintf(&b, "%s, %s, %s, %s\n", plural(g.Subjects, "subject"), plural(g.Bindings, "binding"), plural(g.Namespaces, "namespace"), plural(g.Rules, "rule"))
	if g.By == audit.ByBinding {
		b.WriteString("\nFixing this binding alone removes these findings (no other binding grants them).\n")
	}
	fmt.Fprintf(&b, "\nexample: %s\n\n", g.Example)
	b.WriteString(st.Muted.Render("enter shows or hides its findings; b groups otherwise"))
	return b.String()
}

// plural is "1 finding", "2 findings".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return itoa(n) + " " + word + "s"
}
