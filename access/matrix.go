package access

import (
	"cmp"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// MatrixVerbs are a matrix's columns; any other verb a rule holds (use,
// bind, impersonate, ...) is in the last column, and "*" there when a
// rule grants every verb.
var MatrixVerbs = rbac.StandardVerbs

// CellState is what a matrix cell says of a request.
type CellState int

const (
	Denied    CellState = iota
	NamedOnly           // allowed only on some objects (resourceNames)
	Allowed
)

// MatrixCell is one resource x verb of a subject's matrix, with the paths
// that grant it.
type MatrixCell struct {
	State CellState
	Paths []rbac.Path
	// Wild: every rule that grants the cell does so through a wildcard
	// (verb, resource or API group "*"), so the grant reaches verbs and
	// resources that do not exist yet.
	Wild bool
}

// MatrixRow is one resource (or non-resource URL) of a matrix.
type MatrixRow struct {
	Label string
	Attrs rbac.Attributes // without the verb
	Cells []MatrixCell    // one per MatrixVerbs, then one for the other verbs
	Other []string        // the other verbs, in the last cell's order
}

// Matrix is a subject's effective permissions in one scope: cluster-wide
// (""), or a namespace, where the cluster-wide grants apply too.
type Matrix struct {
	Scope string
	Rows  []MatrixRow
}

// SubjectRules are the rules subject holds, cluster-wide and in every
// namespace, with their paths: the engine's answer from what was read,
// asking the cluster nothing (what-can without its checks, for a view that
// must not wait).
func (s *Session) SubjectRules(subject rbac.Subject) rbac.WhatCanResult {
	return s.Index.WhatCan(subject.Identity(), "")
}

// MatrixScopes lists where rules apply: "" (cluster-wide) first, then each
// namespace, sorted.
func MatrixScopes(rules []rbac.GrantedRule) []string {
	out := []string{""}
	for _, r := range rules {
		if r.Namespace != "" && !slices.Contains(out, r.Namespace) {
			out = append(out, r.Namespace)
		}
	}
	slices.Sort(out[1:])
	return out
}

// Matrix is subject's matrix in scope from its rules (SubjectRules), each
// cell decided with the engine's own matcher (rbac.RuleAllows), so a cell
// says exactly what a request would get; where the view holds Azure RBAC's
// data, each cell RBAC does not allow is asked of it (deny assignments
// and scopes included), and the resources the subject's dataActions name
// get rows.
func (s *Session) Matrix(subject rbac.Subject, rules []rbac.GrantedRule, scope string) Matrix {
	var az func(rbac.Attributes) []rbac.Path
	if s.Index.AzureLoaded() {
		id, ix := subject.Identity(), s.Index
		az = func(a rbac.Attributes) []rbac.Path { return ix.AzureAllow(id, a) }
	}
	return BuildMatrix(rules, scope, az)
}

// BuildMatrix is the matrix of rules in scope; az, when set, is Azure
// RBAC's link for the subject.
func BuildMatrix(rules []rbac.GrantedRule, scope string, az func(rbac.Attributes) []rbac.Path) Matrix {
	var in []rbac.GrantedRule
	for _, r := range rules {
		if r.Namespace == "" || r.Namespace == scope {
			in = append(in, r)
		}
	}
	ns := scope // "": a namespaced resource asked cluster-wide
	seen := map[string]bool{}
	var rows []MatrixRow
	addRow := func(label string, a rbac.Attributes) {
		if seen[label] {
			return
		}
		seen[label] = true
		rows = append(rows, MatrixRow{Label: label, Attrs: a})
	}
	for _, r := range in {
		for _, da := range r.DataActions {
			if g, res, ok := rbac.AzureResource(da); ok {
				name, sub, _ := strings.Cut(res, "/")
				addRow(RuleResource(g, res), rbac.Attributes{APIGroup: g, Resource: name, Subresource: sub, Namespace: ns})
			}
		}
		for _, u := range r.NonResourceURLs {
			addRow(u, rbac.Attributes{Path: u})
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				name, sub, _ := strings.Cut(res, "/")
				addRow(RuleResource(g, res), rbac.Attributes{APIGroup: g, Resource: name, Subresource: sub, Namespace: ns})
			}
		}
	}
	// Resources first, by name; non-resource URLs (discovery's /api,
	// /healthz, ...) after them, as what matters least.
	slices.SortFunc(rows, func(a, b MatrixRow) int {
		url := func(r MatrixRow) int {
			if r.Attrs.Path != "" {
				return 1
			}
			return 0
		}
		return cmp.Or(cmp.Compare(url(a), url(b)), strings.Compare(a.Label, b.Label))
	})
	for i := range rows {
		fillRow(&rows[i], in, az)
	}
	return Matrix{Scope: scope, Rows: rows}
}

func fillRow(row *MatrixRow, rules []rbac.GrantedRule, az func(rbac.Attributes) []rbac.Path) {
	row.Cells = make([]MatrixCell, len(MatrixVerbs)+1)
	decide := func(c *MatrixCell, verb string) {
		if az != nil {
			a := row.Attrs
			a.Verb = verb
			if ps := az(a); len(ps) > 0 {
				wild := !slices.ContainsFunc(ps, func(p rbac.Path) bool { return !strings.Contains(p.Azure.DataAction, "*") })
				if c.State == Denied {
					c.Wild = wild
				} else {
					c.Wild = c.Wild && wild
				}
				c.State = Allowed
				c.Paths = append(c.Paths, ps...)
			}
		}
		for _, r := range rules {
			pr := r.PolicyRule()
			a := row.Attrs
			a.Verb = verb
			st := Denied
			if rbac.RuleAllows(&a, &pr) {
				st = Allowed
			} else if len(pr.ResourceNames) > 0 && a.IsResourceRequest() {
				a.Name = pr.ResourceNames[0]
				if rbac.RuleAllows(&a, &pr) {
					st = NamedOnly
				}
			}
			if st == Denied {
				continue
			}
			wild := slices.Contains(pr.Verbs, "*") || a.IsResourceRequest() && (slices.Contains(pr.Resources, "*") || slices.Contains(pr.APIGroups, "*")) ||
				!a.IsResourceRequest() && slices.ContainsFunc(pr.NonResourceURLs, func(u string) bool { return strings.HasSuffix(u, "*") })
			if c.State == Denied {
				c.Wild = wild
			} else {
				c.Wild = c.Wild && wild
			}
			c.State = max(c.State, st)
			c.Paths = append(c.Paths, r.Via...)
		}
	}
	for i, v := range MatrixVerbs {
		decide(&row.Cells[i], v)
	}
	// The other verbs: what the matching rules name beyond the columns,
	// "*" (every verb: escalate, bind, impersonate included) first; with
	// Azure, every verb guard maps (an Azure wildcard names no verb).
	if az != nil {
		for _, v := range azureOtherVerbs {
			if !slices.Contains(row.Other, v) {
				row.Other = append(row.Other, v)
			}
		}
	}
	for _, r := range rules {
		for _, v := range r.Verbs {
			if slices.Contains(MatrixVerbs, v) || slices.Contains(row.Other, v) {
				continue
			}
			row.Other = append(row.Other, v)
		}
	}
	slices.SortStableFunc(row.Other, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "*":
			return -1
		case b == "*":
			return 1
		}
		return 0
	})
	var kept []string
	last := &row.Cells[len(MatrixVerbs)]
	for _, v := range row.Other {
		var c MatrixCell
		decide(&c, v)
		if c.State != Denied {
			kept = append(kept, v)
			if last.State == Denied {
				last.Wild = c.Wild
			} else {
				last.Wild = last.Wild && c.Wild
			}
			last.State = max(last.State, c.State)
			last.Paths = append(last.Paths, c.Paths...)
		}
	}
	row.Other = kept
	last.Paths = dedupPaths(last.Paths)
	for i := range row.Cells {
		row.Cells[i].Paths = dedupPaths(row.Cells[i].Paths)
	}
}

// azureOtherVerbs are the verbs beyond the columns that an Azure role may
// grant: those guard maps to actions of their own and those it maps to
// none. Not "*": in this cell it means every verb, as RBAC's * does, which
// an Azure wildcard is not (".../pods/*" does not match a verb guard maps
// to no action, such as approve).
var azureOtherVerbs = rbac.SpecialVerbs

func dedupPaths(ps []rbac.Path) []rbac.Path {
	var out []rbac.Path
	seen := map[string]bool{}
	for _, p := range ps {
		if k := p.String(); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}
