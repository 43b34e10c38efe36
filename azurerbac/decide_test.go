package azurerbac

import (
	"slices"
	"testing"
)

const (
	cluster = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c"
	alice   = "11111111-1111-4111-8111-111111111111"
	team    = "22222222-2222-4222-8222-222222222222"
	reader  = "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/7f6c6a51-bcf8-42ba-9220-52d62157d7db"
	writer  = "/providers/Microsoft.Authorization/roleDefinitions/a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
)

func data() *Data {
	return &Data{ClusterID: cluster,
		Roles: []RoleDefinition{
			{ID: "/providers/Microsoft.Authorization/roleDefinitions/7f6c6a51-bcf8-42ba-9220-52d62157d7db", Name: "Azure Kubernetes Service RBAC Reader",
				Permissions: []Permission{{DataActions: []string{ClusterType + "/pods/read", ClusterType + "/apps/deployments/read"}}}},
			{ID: writer, Name: "Azure Kubernetes Service RBAC Writer",
				Permissions: []Permission{{DataActions: []string{ClusterType + "/*"}, NotDataActions: []string{ClusterType + "/rbac.authorization.k8s.io/*"}}}},
		},
		Assignments: []Assignment{
			{ID: "a1", Scope: Scope(cluster, "payments"), PrincipalID: alice, PrincipalType: "User", RoleDefinitionID: reader},
			{ID: "a2", Scope: "/subscriptions/s1", PrincipalID: team, PrincipalType: "Group", RoleDefinitionID: writer},
			{ID: "a3", Scope: "/providers/Microsoft.Management/managementGroups/mg", PrincipalID: alice, PrincipalType: "User", RoleDefinitionID: writer,
				Condition: "@Resource[...] StringEquals 'x'"},
		}}
}

// TestDecide: assignments by user and by group, at a namespace (not
// reaching the cluster scope) and inherited from the subscription, roles
// found whatever their id's prefix, notDataActions, conditions left
// unevaluated (unknown), unknown roles, and deny assignments first.
func TestDecide(t *testing.T) {
	d := data()
	pods := DataAction(ClusterType, Request{Verb: "get", Resource: "pods"})
	secrets := DataAction(ClusterType, Request{Verb: "get", Resource: "secrets"})
	rbacWrite := DataAction(ClusterType, Request{Verb: "create", APIGroup: "rbac.authorization.k8s.io", Resource: "roles"})
	ns := Scope(cluster, "payments")

	if dec := d.Decide(Principal{ObjectID: alice}, pods, ns); !dec.Allowed || dec.Via[0].Assignment.ID != "a1" || dec.Via[0].DataAction != ClusterType+"/pods/read" {
		t.Errorf("alice reads pods in payments: %+v", dec)
	}
	if dec := d.Decide(Principal{ObjectID: alice}, pods, cluster); dec.Allowed || !dec.Unknown() || len(dec.Conditional) != 1 {
		t.Errorf("alice at the cluster scope: the namespace's assignment must not reach it, the conditional one makes it unknown: %+v", dec)
	}
	if dec := d.Decide(Principal{ObjectID: alice}, secrets, ns); dec.Allowed || !dec.Unknown() {
		t.Errorf("alice reads secrets: only through the conditional assignment: %+v", dec)
	}
	bob := Principal{ObjectID: "33333333-3333-4333-8333-333333333333", Groups: []string{team}}
	if dec := d.Decide(bob, secrets, cluster); !dec.Allowed || dec.Via[0].Role.Name != "Azure Kubernetes Service RBAC Writer" {
		t.Errorf("the team's writer role from the subscription: %+v", dec)
	}
	if dec := d.Decide(bob, rbacWrite, ns); dec.Allowed || dec.Unknown() {
		t.Errorf("notDataActions: %+v", dec)
	}
	if dec := d.Decide(Principal{ObjectID: "44444444-4444-4444-8444-444444444444"}, pods, ns); dec.Allowed || dec.Unknown() {
		t.Errorf("a stranger: %+v", dec)
	}
	// Data is read-only once asked (its look-ups are built once): each
	// change is a new Data.
	d = &Data{ClusterID: d.ClusterID, Roles: d.Roles, Assignments: append(slices.Clone(d.Assignments), Assignment{ID: "a4", Scope: cluster, PrincipalID: bob.ObjectID, RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/gone"})}
	if dec := d.Decide(Principal{ObjectID: bob.ObjectID}, pods, ns); !dec.Unknown() || len(dec.MissingRoles) != 1 {
		t.Errorf("an unknown role: %+v", dec)
	}
	d = &Data{ClusterID: d.ClusterID, Roles: d.Roles, Assignments: d.Assignments, Denies: []DenyAssignment{{ID: "d1", Scope: cluster, Principals: []string{Everyone}, ExcludePrincipals: []string{alice},
		Permissions: []Permission{{DataActions: []string{ClusterType + "/secrets/*"}}}}}}
	if dec := d.Decide(bob, secrets, ns); dec.Allowed || dec.DeniedBy == nil || dec.Unknown() {
		t.Errorf("a deny assignment for everyone: %+v", dec)
	}
	if dec := d.Decide(bob, pods, ns); !dec.Allowed {
		t.Errorf("the deny assignment covers secrets only: %+v", dec)
	}
	d = &Data{ClusterID: d.ClusterID, Roles: d.Roles, Assignments: d.Assignments, Denies: slices.Clone(d.Denies)}
	d.Denies[0].DoNotApplyToChildScopes = true
	if dec := d.Decide(bob, secrets, cluster); dec.Allowed || dec.DeniedBy == nil {
		t.Errorf("a deny assignment that does not apply to child scopes still applies at its own: %+v", dec)
	}
	if dec := d.Decide(bob, secrets, ns); !dec.Allowed {
		t.Errorf("a deny assignment that does not apply to child scopes denied a namespace's request: %+v", dec)
	}
}

func TestConditionalDeny(t *testing.T) {
	cluster := "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c"
	d := &Data{ClusterID: cluster,
		Roles: []RoleDefinition{{ID: "/providers/Microsoft.Authorization/roleDefinitions/r1", Name: "all",
			Permissions: []Permission{{DataActions: []string{ClusterType + "/*"}}}}},
		Assignments: []Assignment{{ID: "a1", Scope: cluster, PrincipalID: "u1", PrincipalType: "User", PrincipalName: "Ann@Example.com", RoleDefinitionID: "r1"}},
		Denies: []DenyAssignment{{ID: "d1", Scope: cluster, Principals: []string{Everyone}, Condition: "@Resource[x] == 'y'",
			Permissions: []Permission{{DataActions: []string{ClusterType + "/secrets/*"}}}}},
	}
	secrets := DataAction(ClusterType, Request{Verb: "get", Resource: "secrets"})
	if dec := d.Decide(Principal{ObjectID: "U1"}, secrets, cluster); !dec.Allowed || !dec.Unknown() {
		t.Errorf("an allow a conditional deny may undo is unknown: %+v", dec)
	}
	if dec := d.Decide(Principal{ObjectID: "u1"}, DataAction(ClusterType, Request{Verb: "get", Resource: "pods"}), cluster); !dec.Allowed || dec.Unknown() {
		t.Errorf("the conditional deny does not cover pods: %+v", dec)
	}
	if got := d.ObjectID("ann@example.com"); got != "u1" {
		t.Errorf("ObjectID by name = %q", got)
	}
	if got := d.PrincipalName("U1"); got != "Ann@Example.com" {
		t.Errorf("PrincipalName = %q", got)
	}
	if !DiscoveryAllowed(Request{Verb: "get", Path: "/apis/apps/v1"}) || DiscoveryAllowed(Request{Verb: "get", Path: "/metrics"}) || DiscoveryAllowed(Request{Verb: "post", Path: "/api"}) {
		t.Error("discovery paths")
	}
}
