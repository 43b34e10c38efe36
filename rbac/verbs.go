package rbac

import "slices"

// StandardVerbs are the verbs of resource requests that kubectl's
// commands and the API server's request info give: a permission matrix's
// columns.
var StandardVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

// SpecialVerbs are the other verbs the API server, its bundled
// authorizers and admission plugins check: use (PodSecurityPolicy,
// gMSA), bind and escalate (RBAC), impersonate, approve and sign
// (certificates), attest (ClusterTrustBundles), proxy (nodes, services).
var SpecialVerbs = []string{"use", "bind", "escalate", "impersonate", "approve", "sign", "attest", "proxy"}

// Verbs are every verb a request is checked with: the standard ones, then
// the special ones. A wildcard verb stands for these in practice.
func Verbs() []string { return slices.Concat(StandardVerbs, SpecialVerbs) }

// KnownVerb says whether v is one of Verbs.
func KnownVerb(v string) bool {
	return slices.Contains(StandardVerbs, v) || slices.Contains(SpecialVerbs, v)
}
