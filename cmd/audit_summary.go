package cmd

import (
	"fmt"
	"io"
	"strconv"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/identity"
)

// summaryTop is how many subjects and bindings the summary ranks; the
// rules are all shown (a few dozen at most).
const summaryTop = 10

// printSummary writes the findings summarised: by rule, then the worst
// subjects by reach, then the bindings whose fix removes the most
// findings; with --group-by, that one grouping whole.
func printSummary(w io.Writer, rep *audit.Report, o auditTable, listed int) {
	if o.groupBy != "" {
		gs := audit.Groups(rep.Findings, o.groupBy, o.all)
		wrap(w, o.width, 0, 2, fmt.Sprintf("%d findings %s: %s.", listed, groupTitle(o.groupBy), groupMeaning(o.groupBy)))
		printGroupTable(w, gs, o.groupBy, o.names, len(gs))
		return
	}
	wrap(w, o.width, 0, 2, fmt.Sprintf("%d findings, more than %d: summarised by rule, subject and binding (--all lists each one, --group-by rule, subject or binding shows one grouping whole).",
		listed, audit.SummarizeAbove))
	for _, by := range audit.Groupings {
		gs := audit.Groups(rep.Findings, by, o.all)
		fmt.Fprintln(w)
		shown := len(gs)
		if by != audit.ByRule {
			shown = min(shown, summaryTop)
		}
		head := fmt.Sprintf("%s: %s", groupTitle(by), groupMeaning(by))
		if shown < len(gs) {
			head += fmt.Sprintf(" (the first %d of %d)", shown, len(gs))
		}
		wrap(w, o.width, 0, 2, head)
		printGroupTable(w, gs, by, o.names, shown)
	}
}

// groupTitle heads a grouping.
func groupTitle(by audit.GroupBy) string {
	switch by {
	case audit.BySubject:
		return "BY SUBJECT"
	case audit.ByBinding:
		return "BY BINDING"
	}
	return "BY RULE"
}

// groupMeaning says how a grouping counts and ranks.
func groupMeaning(by audit.GroupBy) string {
	switch by {
	case audit.BySubject:
		return "the subjects holding the findings, the widest reach first (REACH: each finding counts critical 8, high 4, medium 2, low 1)"
	case audit.ByBinding:
		return "the bindings whose fix alone removes the most findings (REMOVES: the findings no other binding also grants)"
	}
	return "each rule with its findings, the distinct subjects, bindings and namespaces they involve, and one example (kubectl access fix ID)"
}

// printGroupTable writes the first n groups as a table.
func printGroupTable(w io.Writer, gs []audit.Group, by audit.GroupBy, names identity.Names, n int) {
	header, row := groupColumns(by, names)
	t := newRows(w, FormatTable, header...)
	for _, g := range gs[:n] {
		t.add(row(&g)...)
	}
	_ = t.flush() // the command's output: a failed write has nowhere to go
}

// groupColumns are a grouping's columns, in the table as in CSV and
// Markdown.
func groupColumns(by audit.GroupBy, names identity.Names) ([]string, func(*audit.Group) []string) {
	n := strconv.Itoa
	switch by {
	case audit.BySubject:
		return []string{"SUBJECT", "REACH", "FINDINGS", "CRITICAL", "HIGH", "MEDIUM", "LOW", "RULES", "BINDINGS", "NAMESPACES", "EXAMPLE"},
			func(g *audit.Group) []string {
				s := g.Summary
				return []string{names.Subject(*g.Subject), n(g.Reach), n(g.Count), n(s.Critical), n(s.High), n(s.Medium), n(s.Low), n(g.Rules), n(g.Bindings), n(g.Namespaces), g.Example}
			}
	case audit.ByBinding:
		return []string{"BINDING", "REMOVES", "CRITICAL", "HIGH", "MEDIUM", "LOW", "REACH", "SUBJECTS", "RULES", "EXAMPLE"},
			func(g *audit.Group) []string {
				s := g.Summary
				return []string{g.Binding.String(), n(g.Count), n(s.Critical), n(s.High), n(s.Medium), n(s.Low), n(g.Reach), n(g.Subjects), n(g.Rules), g.Example}
			}
	}
	return []string{"RULE", "SEVERITY", "FINDINGS", "SUBJECTS", "BINDINGS", "NAMESPACES", "EXAMPLE"},
		func(g *audit.Group) []string {
			return []string{g.Rule, g.Severity.String(), n(g.Count), n(g.Subjects), n(g.Bindings), n(g.Namespaces), g.Example}
		}
}

// printGroupRows writes one grouping as CSV or Markdown, every group.
func printGroupRows(w io.Writer, format string, rep *audit.Report, by audit.GroupBy, all bool, names identity.Names) error {
	header, row := groupColumns(by, names)
	if rep.Namespace != nil {
		header = append(header[:len(header):len(header)], "NAMESPACE")
	}
	t := newAnswerRows(w, format, rep.Incomplete, header...)
	for _, g := range audit.Groups(rep.Findings, by, all) {
		cells := row(&g)
		if rep.Namespace != nil {
			cells = append(cells, rep.Namespace.Name)
		}
		t.add(cells...)
	}
	return t.flush()
}
