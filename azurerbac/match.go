package azurerbac

import "strings"

// Permission is one entry of a role definition's permissions: what it
// grants on data, less what it carves out. notDataActions are not denies:
// another permission or role may grant what one carves out.
type Permission struct {
	// Actions and NotActions are Azure Resource Manager's (the control
	// plane: list a cluster's credentials, write it, assign roles).
	Actions        []string `json:"actions,omitempty"`
	NotActions     []string `json:"notActions,omitempty"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

// AllowsAction says whether the permission grants the control-plane
// action: an action matches it and no notAction does.
func (p Permission) AllowsAction(action string) bool {
	return matchesAny(p.Actions, action) && !matchesAny(p.NotActions, action)
}

// AllowsAction says whether any of a role's permissions grants the
// control-plane action.
func AllowsAction(perms []Permission, action string) bool {
	for _, p := range perms {
		if p.AllowsAction(action) {
			return true
		}
	}
	return false
}

// Allows says whether the permission grants action: a dataAction matches
// it and no notDataAction does.
func (p Permission) Allows(action string) bool {
	return matchesAny(p.DataActions, action) && !matchesAny(p.NotDataActions, action)
}

// Allows says whether any of a role's permissions grants action (Azure
// takes the union across permissions and across roles).
func Allows(perms []Permission, action string) bool {
	for _, p := range perms {
		if p.Allows(action) {
			return true
		}
	}
	return false
}

func matchesAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if MatchAction(p, action) {
			return true
		}
	}
	return false
}

// MatchAction matches an action against an Azure action pattern: case
// does not matter, and each * matches any run of characters (slashes
// included: "Microsoft.ContainerService/managedClusters/*" is every
// dataAction of the cluster).
func MatchAction(pattern, action string) bool {
	return wildcard(strings.ToLower(pattern), strings.ToLower(action))
}

// wildcard is glob matching with * only, iterative with one backtrack
// point, so no pattern makes it slow.
func wildcard(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// InScope says whether an assignment at scope reaches a request checked
// at requestScope: Azure scopes are paths, and an assignment reaches its
// own scope and every scope below it (case-insensitively). A namespace's
// assignment does not reach the cluster scope, where cluster-scoped and
// all-namespace requests are checked. Management groups are not on the
// path: what is inherited from them is what ARM lists at the cluster's
// scope (atScope()), which the loader gives as reaching the cluster.
func InScope(scope, requestScope string) bool {
	// Without allocating: who-can asks this for thousands of grants.
	s, r := strings.TrimSuffix(scope, "/"), strings.TrimSuffix(requestScope, "/")
	switch {
	case s == "" || s == "/":
		return true
	case len(r) < len(s):
		return false
	case len(r) == len(s):
		return strings.EqualFold(r, s)
	}
	return r[len(s)] == '/' && strings.EqualFold(r[:len(s)], s)
}
