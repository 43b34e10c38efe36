package rbac

import (
	"strings"
	"testing"
)

// TestAzureRBACPending: on a cluster where Azure RBAC decides after RBAC
// and its assignments are not read, who-can and every answer about an
// identity Azure may decide for (a UPN, an object id, a group named by an
// object id) are incomplete, with the reason; answers about service
// accounts, system: users, certificate users and groups Azure cannot
// match stay complete and say why. Without the probe's answer nothing
// changes.
func TestAzureRBACPending(t *testing.T) {
	const oid = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e01"
	snap := NewSnapshot()
	snap.RulesAggregated = true
	snap.ClusterRoles = append(snap.ClusterRoles, clusterRole("reader", rule(l("get"), l(""), l("secrets"))))
	snap.RoleBindings = append(snap.RoleBindings, rb("web", "readers", "ClusterRole", "reader", user("alice@contoso.com"), sa("web", "app")))
	get := Attributes{Verb: "get", Resource: "secrets", Namespace: "web"}
	del := Attributes{Verb: "delete", Resource: "secrets", Namespace: "web"}
	azure := func(p *Probe) *Index {
		s := *snap
		s.AzureRBAC = p
		return NewIndex(&s)
	}
	for _, p := range []*Probe{nil, {State: ProbeInactive}, {State: ProbeUnknown}} {
		ix := azure(p)
		if ix.Incomplete() || ix.AzureRBACPending() || ix.WhoCan(get, false).Incomplete || ix.Can(Identity{Name: "bob@contoso.com"}, del).Incomplete {
			t.Errorf("probe %+v: the view is marked incomplete", p)
		}
	}
	ix := azure(&Probe{State: ProbeActive})
	if !ix.Incomplete() || !ix.AzureRBACPending() {
		t.Fatal("Azure RBAC active: the view is not incomplete")
	}
	azureWarned := func(ws []Warning, complete bool) bool {
		for _, w := range ws {
			if w.Code == WarnAzureRBAC {
				return strings.Contains(w.Message, "this answer is complete") == complete
			}
		}
		return false
	}
	if w := ix.WhoCan(get, false); !w.Incomplete || !azureWarned(w.Warnings, false) || len(w.Subjects) != 3 {
		t.Errorf("who-can: %+v", w)
	}
	for _, tc := range []struct {
		id         Identity
		incomplete bool
	}{
		{Identity{Name: "bob@contoso.com", Groups: l(GroupAuthenticated)}, true},
		{Identity{Name: "alice_fabrikam.com#EXT#@contoso.onmicrosoft.com", Groups: l(GroupAuthenticated)}, true},
		{Identity{Name: oid}, true},                    // a service principal
		{Identity{Groups: l(oid)}, true},               // an Entra group
		{Identity{Name: "bob", Groups: l(oid)}, false}, // a certificate user: guard needs an oid
		{Identity{Groups: l("developers")}, false},     // guard matches groups by object id only
		{Identity{Name: "system:node:n1", Groups: l("system:nodes")}, false},
		{Subject{Kind: ServiceAccountKind, Namespace: "web", Name: "x"}.Identity(), false},
		{Identity{Name: "system:anonymous"}, false},
	} {
		res := ix.Can(tc.id, del)
		if res.Allowed || res.Incomplete != tc.incomplete || !azureWarned(res.Warnings, !tc.incomplete) {
			t.Errorf("can %+v delete: incomplete %v, want %v; %v", tc.id, res.Incomplete, tc.incomplete, res.Warnings)
		}
		if w := ix.WhatCan(tc.id, ""); w.Incomplete != tc.incomplete {
			t.Errorf("what-can %+v: incomplete %v, want %v", tc.id, w.Incomplete, tc.incomplete)
		}
	}
	// RBAC's yes stands: the chain allows on the first yes.
	if res := ix.Can(Identity{Name: "alice@contoso.com", Groups: l(GroupAuthenticated)}, get); !res.Allowed || res.Incomplete {
		t.Errorf("alice's RBAC grant: %+v", res)
	}
}
