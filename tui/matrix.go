package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2/tree"

	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// matrixVerbs are the matrix's columns; any other verb a rule holds
// (use, bind, impersonate, ...) is listed in the last column, and "*"
// there when a rule grants every verb.
var matrixVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

// matrixVerbTitles are the column titles, short enough for 80 columns.
var matrixVerbTitles = []string{"get", "list", "watch", "create", "update", "patch", "delete", "dcol"}

// matrixVerbWideTitles are the titles when the columns are 6 wide.
var matrixVerbWideTitles = []string{"get", "list", "watch", "create", "update", "patch", "delete", "delcol"}

type cellState int

const (
	denied    cellState = iota
	namedOnly           // allowed only on some objects (resourceNames)
	allowed
)

// cell is one resource x verb of a subject's matrix, with the paths that
// grant it.
type cell struct {
	state cellState
	paths []rbac.Path
	// wild: every rule that grants the cell does so through a wildcard
	// (verb, resource or API group "*"), so the grant reaches verbs and
	// resources that do not exist yet.
	wild bool
}

// matrixRow is one resource (or non-resource URL) of a matrix.
type matrixRow struct {
	label string
	attrs rbac.Attributes // without the verb
	cells []cell          // one per matrixVerbs, then one for the other verbs
	other []string        // the other verbs, in the last cell's order
}

// matrix is a subject's effective permissions in one scope: cluster-wide
// (""), or a namespace, where the cluster-wide grants apply too.
type matrix struct {
	scope string
	rows  []matrixRow
}

// scopes lists where a subject holds rules: "" (cluster-wide) first, then
// each namespace, sorted.
func scopes(rules []rbac.GrantedRule) []string {
	out := []string{""}
	for _, r := range rules {
		if r.Namespace != "" && !slices.Contains(out, r.Namespace) {
			out = append(out, r.Namespace)
		}
	}
	slices.Sort(out[1:])
	return out
}

// buildMatrix decides every cell with the engine's own matcher
// (rbac.RuleAllows), so a cell says exactly what a request would get.
//
// azure, when set, is Azure RBAC's link for the subject: each cell RBAC
// does not allow is asked of it (its deny assignments and scopes
// included), and the resources the subject's Azure dataActions name get
// rows.
func buildMatrix(rules []rbac.GrantedRule, scope string, azure ...func(rbac.Attributes) []rbac.Path) matrix {
	var in []rbac.GrantedRule
	for _, r := range rules {
		if r.Namespace == "" || r.Namespace == scope {
			in = append(in, r)
		}
	}
	ns := scope // "": a namespaced resource asked cluster-wide
	seen := map[string]bool{}
	var rows []matrixRow
	addRow := func(label string, a rbac.Attributes) {
		if seen[label] {
			return
		}
		seen[label] = true
		rows = append(rows, matrixRow{label: label, attrs: a})
	}
	for _, r := range in {
		for _, da := range r.DataActions {
			if g, res, ok := rbac.AzureResource(da); ok {
				name, sub, _ := strings.Cut(res, "/")
				addRow(resourceLabel(g, res), rbac.Attributes{APIGroup: g, Resource: name, Subresource: sub, Namespace: ns})
			}
		}
		for _, u := range r.NonResourceURLs {
			addRow(u, rbac.Attributes{Path: u})
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				name, sub, _ := strings.Cut(res, "/")
				addRow(resourceLabel(g, res), rbac.Attributes{APIGroup: g, Resource: name, Subresource: sub, Namespace: ns})
			}
		}
	}
	slices.SortFunc(rows, func(a, b matrixRow) int { return strings.Compare(a.label, b.label) })
	var az func(rbac.Attributes) []rbac.Path
	if len(azure) > 0 {
		az = azure[0]
	}
	for i := range rows {
		fillRow(&rows[i], in, az)
	}
	return matrix{scope: scope, rows: rows}
}

func resourceLabel(group, resource string) string {
	if group == "" {
		return resource
	}
	name, sub, hasSub := strings.Cut(resource, "/")
	label := name + "." + group
	if hasSub {
		label += "/" + sub
	}
	return label
}

func fillRow(row *matrixRow, rules []rbac.GrantedRule, az func(rbac.Attributes) []rbac.Path) {
	row.cells = make([]cell, len(matrixVerbs)+1)
	decide := func(c *cell, verb string) {
		if az != nil {
			a := row.attrs
			a.Verb = verb
			if ps := az(a); len(ps) > 0 {
				wild := !slices.ContainsFunc(ps, func(p rbac.Path) bool { return !strings.Contains(p.Azure.DataAction, "*") })
				if c.state == denied {
					c.wild = wild
				} else {
					c.wild = c.wild && wild
				}
				c.state = allowed
				c.paths = append(c.paths, ps...)
			}
		}
		for _, r := range rules {
			pr := r.PolicyRule()
			a := row.attrs
			a.Verb = verb
			st := denied
			if rbac.RuleAllows(&a, &pr) {
				st = allowed
			} else if len(pr.ResourceNames) > 0 && a.IsResourceRequest() {
				a.Name = pr.ResourceNames[0]
				if rbac.RuleAllows(&a, &pr) {
					st = namedOnly
				}
			}
			if st == denied {
				continue
			}
			wild := slices.Contains(pr.Verbs, "*") || a.IsResourceRequest() && (slices.Contains(pr.Resources, "*") || slices.Contains(pr.APIGroups, "*")) ||
				!a.IsResourceRequest() && slices.ContainsFunc(pr.NonResourceURLs, func(u string) bool { return strings.HasSuffix(u, "*") })
			if c.state == denied {
				c.wild = wild
			} else {
				c.wild = c.wild && wild
			}
			c.state = max(c.state, st)
			c.paths = append(c.paths, r.Via...)
		}
	}
	for i, v := range matrixVerbs {
		decide(&row.cells[i], v)
	}
	// The other verbs: what the matching rules name beyond the columns,
	// "*" (every verb: escalate, bind, impersonate included) first; with
	// Azure, every verb guard maps (an Azure wildcard names no verb).
	if az != nil {
		for _, v := range azureOtherVerbs {
			if !slices.Contains(row.other, v) {
				row.other = append(row.other, v)
			}
		}
	}
	for _, r := range rules {
		for _, v := range r.Verbs {
			if slices.Contains(matrixVerbs, v) || slices.Contains(row.other, v) {
				continue
			}
			row.other = append(row.other, v)
		}
	}
	slices.SortStableFunc(row.other, func(a, b string) int {
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
	last := &row.cells[len(matrixVerbs)]
	for _, v := range row.other {
		var c cell
		decide(&c, v)
		if c.state != denied {
			kept = append(kept, v)
			if last.state == denied {
				last.wild = c.wild
			} else {
				last.wild = last.wild && c.wild
			}
			last.state = max(last.state, c.state)
			last.paths = append(last.paths, c.paths...)
		}
	}
	row.other = kept
	last.paths = dedupPaths(last.paths)
	for i := range row.cells {
		row.cells[i].paths = dedupPaths(row.cells[i].paths)
	}
}

// azureOtherVerbs are the verbs beyond the columns that an Azure role may
// grant: those guard maps to actions of their own and those it maps to
// none. Not "*": in this cell it means every verb, as RBAC's * does, which
// an Azure wildcard is not (".../pods/*" does not match a verb guard maps
// to no action, such as approve).
var azureOtherVerbs = []string{"use", "bind", "escalate", "impersonate", "approve", "sign", "proxy", "attest"}

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

// provenance renders the paths of one cell as a tree: binding -> role ->
// rule.
func provenance(s *Styles, title string, paths []rbac.Path) string {
	text, _ := provenanceLinks(s, title, paths, -1, 0)
	return text
}

// provenanceLinks renders the tree and lists the objects on it a detail
// can go to (each binding, then its role), numbered from first; the one
// numbered sel is marked "›" and bold, in text for NO_COLOR.
func provenanceLinks(s *Styles, title string, paths []rbac.Path, sel, first int) (string, []jumpMsg) {
	var links []jumpMsg
	mark := func(text string, j jumpMsg) string {
		n := first + len(links)
		links = append(links, j)
		if n == sel {
			return s.Bold.Render("› " + text)
		}
		return text
	}
	t := tree.Root(title)
	if len(paths) == 0 {
		t.Child(s.Muted.Render("no binding grants this here"))
	}
	for _, p := range paths {
		if z := p.Azure; z != nil {
			// assignment -> role definition -> dataAction, at its scope.
			if z.Assignment == "" {
				t.Child(tree.Root("no assignment: Azure RBAC (guard)").Child(safe.Terminal(z.RoleName)))
				continue
			}
			who := z.PrincipalName
			if who == "" {
				who = z.PrincipalID
			}
			assignment := fmt.Sprintf("Azure role assignment %s at %s (to %s %s)", rbacShortID(z.Assignment), rbac.AzureScopeName(z.Scope), strings.ToLower(z.PrincipalType), who)
			role := fmt.Sprintf("Azure role %q", z.RoleName)
			action := "dataAction " + z.DataAction
			if len(z.NotDataActions) > 0 {
				action += " except " + strings.Join(z.NotDataActions, ",")
			}
			t.Child(tree.Root(safe.Terminal(assignment)).Child(tree.Root(safe.Terminal(role)).Child(safe.Terminal(action))))
			continue
		}
		var bind string
		switch {
		case p.Binding != nil:
			b := *p.Binding
			bind = mark(safe.Terminal(p.Binding.String()), jumpMsg{ref: &b})
		case p.Role.Kind == rbac.GroupKind:
			bind = "no binding: the API server grants group system:masters everything"
		default:
			bind = "no binding"
		}
		role := safe.Terminal(p.Role.String())
		if p.Role.Kind == rbac.GroupKind {
			role = "group " + safe.Terminal(p.Role.Name)
		} else {
			r := p.Role
			role = mark(role, jumpMsg{ref: &r})
		}
		t.Child(tree.Root(bind).Child(tree.Root(role).Child(safe.Terminal(rbac.RuleString(p.Rule)))))
	}
	return t.String(), links
}

// rbacShortID is the last segment of an Azure resource id.
func rbacShortID(id string) string {
	if i := strings.LastIndexByte(strings.TrimSuffix(id, "/"), '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}
