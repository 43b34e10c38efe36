package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2/tree"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// matrixVerbs are the matrix's columns (access decides the matrix).
var matrixVerbs = access.MatrixVerbs

// matrixVerbTitles are the column titles, short enough for 80 columns.
var matrixVerbTitles = []string{"get", "list", "watch", "create", "update", "patch", "delete", "dcol"}

// matrixVerbWideTitles are the titles when the columns are 6 wide.
var matrixVerbWideTitles = []string{"get", "list", "watch", "create", "update", "patch", "delete", "delcol"}

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
