package tui

import (
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
		// The words are access's, as the CLI's tables have them; the
		// binding and the role are links where they are objects.
		bind, role, rule := safe.Terminal(access.PathBinding(p)), safe.Terminal(access.PathRole(p)), safe.Terminal(access.PathRule(p))
		if p.Azure == nil {
			if p.Binding != nil {
				b := *p.Binding
				bind = mark(bind, jumpMsg{ref: &b})
			}
			if p.Role.Kind != rbac.GroupKind {
				r := p.Role
				role = mark(role, jumpMsg{ref: &r})
			}
		}
		t.Child(tree.Root(bind).Child(tree.Root(role).Child(rule)))
	}
	return t.String(), links
}
