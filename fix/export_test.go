package fix

import "github.com/kubectl-access/kubectl-access/rbac"

// Affected exposes affected to the external live tests.
var Affected = affected

// ChangeAtoms exposes a change's single requests to the external tests.
func ChangeAtoms(c Change) []rbac.Attributes { return c.atoms }
