package audit

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// GroupBy names a way of summarising findings: by rule, by the subject
// that holds them, or by the binding whose fix removes them.
type GroupBy string

// The groupings.
const (
	ByRule    GroupBy = "rule"
	BySubject GroupBy = "subject"
	ByBinding GroupBy = "binding"
)

// Groupings are the groupings, in the order a summary shows them.
var Groupings = []GroupBy{ByRule, BySubject, ByBinding}

// ParseGroupBy reads rule, subject or binding.
func ParseGroupBy(s string) (GroupBy, error) {
	if g := GroupBy(s); slices.Contains(Groupings, g) {
		return g, nil
	}
	return "", fmt.Errorf("unknown grouping %q: use rule, subject or binding", s)
}

// SummarizeAbove is how many listed findings a table lists one per line;
// above it, the tables (the CLI's and the explorer's) summarise them by
// rule, subject and binding, since nobody reads thousands of lines.
const SummarizeAbove = 200

// Weight is what one finding of severity s adds to a subject's or a
// binding's reach: critical 8, high 4, medium 2, low 1, info 0 (each
// severity twice the one below), so a critical finding outweighs a
// handful of lesser ones and info never counts.
func (s Severity) Weight() int {
	if s <= Info || s > Critical {
		return 0
	}
	return 1 << (s - Low)
}

// Group is the findings that share a rule, a subject that holds them, or
// a binding whose fix removes them.
type Group struct {
	By GroupBy `json:"by"`
	// Rule, Subject or Binding: what the findings share (by By).
	Rule    string          `json:"rule,omitempty"`
	Subject *rbac.Subject   `json:"subject,omitempty"`
	Binding *rbac.ObjectRef `json:"binding,omitempty"`
	// Severity is the most severe finding's.
	Severity Severity `json:"severity"`
	// Count is how many findings; Summary counts them by severity.
	Count   int     `json:"findings"`
	Summary Summary `json:"summary"`
	// Reach is the findings' weights summed (Severity.Weight).
	Reach int `json:"reach"`
	// Subjects, Bindings and Namespaces count the distinct subjects that
	// hold the findings, the bindings on their paths, and the namespaces
	// of those bindings and of the findings' objects (cluster-wide ones
	// are not a namespace); Rules the distinct rules.
	Subjects   int `json:"subjects"`
	Bindings   int `json:"bindings"`
	Namespaces int `json:"namespaces"`
	Rules      int `json:"rules"`
	// Example is the id of the group's first finding (the most severe,
	// in the report's order).
	Example string `json:"example"`
	// Findings are the group's findings, as indexes into the findings
	// grouped, in their order.
	Findings []int `json:"-"`
}

// Key is what the group's findings share, as a word: the rule's name,
// the subject (kind:name) or the binding (Kind ns/name).
func (g *Group) Key() string {
	switch {
	case g.Subject != nil:
		return g.Subject.String()
	case g.Binding != nil:
		return g.Binding.String()
	}
	return g.Rule
}

// Holders are the subjects that hold f's risk: all its subjects, or for
// a chain (escalation-path) the first, whose reach the others are.
func (f *Finding) Holders() []rbac.Subject {
	if f.actors > 0 && f.actors <= len(f.Subjects) {
		return f.Subjects[:f.actors]
	}
	return f.Subjects
}

// RemovedBy are the bindings a fix of any one of which removes f: for
// one link of its paths (a plain finding has one; a chain two, both
// needed), the binding every path of that link runs through. A finding
// with several ways to its risk, through several bindings, is removed by
// no single one. Azure role assignments are not bindings.
func (f *Finding) RemovedBy() []rbac.ObjectRef {
	links := [][]rbac.Path{f.Evidence}
	if f.links > 0 && f.links < len(f.Evidence) {
		links = [][]rbac.Path{f.Evidence[:f.links], f.Evidence[f.links:]}
	}
	var out []rbac.ObjectRef
	for _, l := range links {
		if len(l) == 0 || l[0].Binding == nil || l[0].Azure != nil {
			continue
		}
		b := *l[0].Binding
		if !slices.ContainsFunc(l[1:], func(p rbac.Path) bool { return p.Binding == nil || p.Azure != nil || *p.Binding != b }) && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// Groups summarises the listed findings (Listed, with all) by rule (the
// most severe first, then the most frequent), by subject (the widest
// reach first) or by binding (the most findings removed first). Each
// group's Findings index fs.
func Groups(fs []Finding, by GroupBy, all bool) []Group {
	at := map[string]int{}
	var groups []Group
	type seen struct {
		subjects          map[subjectID]bool
		namespaces, rules map[string]bool
		bindings          map[rbac.ObjectRef]bool
	}
	var sets []seen
	add := func(key string, g Group, i int) {
		j, ok := at[key]
		if !ok {
			j = len(groups)
			at[key] = j
			groups = append(groups, g)
			sets = append(sets, seen{map[subjectID]bool{}, map[string]bool{}, map[string]bool{}, map[rbac.ObjectRef]bool{}})
		}
		groups[j].Findings = append(groups[j].Findings, i)
	}
	for i := range fs {
		f := &fs[i]
		if !Listed(f, all) {
			continue
		}
		switch by {
		case ByRule:
			add(f.Rule, Group{By: by, Rule: f.Rule}, i)
		case BySubject:
			for _, s := range f.Holders() {
				s := s
				add("s\x00"+s.Key(), Group{By: by, Subject: &s}, i)
			}
		case ByBinding:
			for _, b := range f.RemovedBy() {
				b := b
				add("b\x00"+b.Kind+"\x00"+b.Namespace+"\x00"+b.Name, Group{By: by, Binding: &b}, i)
			}
		}
	}
	for j := range groups {
		g, set := &groups[j], sets[j]
		for k, i := range g.Findings {
			f := &fs[i]
			if k == 0 || f.Severity > g.Severity {
				g.Severity = f.Severity
			}
			if k == 0 {
				g.Example = f.ID
			}
			g.Count++
			g.Summary.add(f.Severity)
			g.Reach += f.Severity.Weight()
			set.rules[f.Rule] = true
			for _, s := range f.Holders() {
				set.subjects[idOf(s)] = true
			}
			for _, p := range f.Evidence {
				if p.Binding != nil && p.Azure == nil {
					set.bindings[*p.Binding] = true
					if p.Binding.Namespace != "" {
						set.namespaces[p.Binding.Namespace] = true
					}
				}
			}
			for _, o := range f.Objects {
				if o.Namespace != "" {
					set.namespaces[o.Namespace] = true
				}
			}
		}
		g.Subjects, g.Bindings, g.Namespaces, g.Rules = len(set.subjects), len(set.bindings), len(set.namespaces), len(set.rules)
	}
	slices.SortStableFunc(groups, func(a, b Group) int {
		switch by {
		case BySubject:
			return cmp.Or(cmp.Compare(b.Reach, a.Reach), cmp.Compare(b.Severity, a.Severity), cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key(), b.Key()))
		case ByBinding:
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(b.Reach, a.Reach), cmp.Compare(a.Key(), b.Key()))
		}
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(b.Count, a.Count), cmp.Compare(a.Rule, b.Rule))
	})
	return groups
}

// subjectID is Subject.Key's identity as fields: a map key built
// without a string.
type subjectID struct{ kind, namespace, name string }

// idOf is s's identity: a service principal or managed identity is the
// user its object id names.
func idOf(s rbac.Subject) subjectID {
	id := subjectID{kind: s.Kind, name: s.Name}
	switch s.Kind {
	case rbac.UserKind, rbac.ServicePrincipalKind, rbac.ManagedIdentityKind:
		id.kind = rbac.UserKind
	case rbac.ServiceAccountKind:
		id.namespace = s.Namespace
	}
	return id
}

// add counts one finding of severity s.
func (s *Summary) add(v Severity) {
	switch v {
	case Critical:
		s.Critical++
	case High:
		s.High++
	case Medium:
		s.Medium++
	case Low:
		s.Low++
	default:
		s.Info++
	}
}
