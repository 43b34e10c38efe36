package azurerbac

import (
	"slices"
	"testing"
	"time"
)

// TestEligibleFor: an eligible assignment grants nothing (Decide and
// Holders never count it) but is found, as Decide would decide it
// activated, for the action at a scope it reaches: by user and by group,
// not in another namespace, not expired, not before its start, not
// stopped status, not what a deny assignment stops, and its role unknown
// said.
func TestEligibleFor(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	d := data()
	const carol = "55555555-5555-4555-8555-555555555555"
	el := func(id, scope, principal, typ, role string, end time.Time) EligibleAssignment {
		return EligibleAssignment{ID: id, Scope: scope, PrincipalID: principal, PrincipalType: typ, RoleDefinitionID: role, End: end, Status: "Provisioned", MemberType: "Direct"}
	}
	d.Eligible = []EligibleAssignment{
		el("e-carol-web", Scope(cluster, "web"), carol, "User", writer, now.AddDate(0, 6, 0)),
		el("e-team-cluster", cluster, team, "Group", reader, time.Time{}),
		el("e-carol-expired", cluster, carol, "User", writer, now.AddDate(0, 0, -1)),
		{ID: "e-carol-later", Scope: cluster, PrincipalID: carol, PrincipalType: "User", RoleDefinitionID: writer, Start: now.AddDate(0, 1, 0), End: now.AddDate(0, 3, 0)},
		{ID: "e-carol-revoked", Scope: cluster, PrincipalID: carol, PrincipalType: "User", RoleDefinitionID: writer, Status: "Revoked"},
		el("e-carol-unknown-role", cluster, carol, "User", "/providers/Microsoft.Authorization/roleDefinitions/not-read", time.Time{}),
	}
	secrets := DataAction(ClusterType, Request{Verb: "delete", Resource: "secrets", Namespace: "web"})
	pods := DataAction(ClusterType, Request{Verb: "get", Resource: "pods", Namespace: "web"})

	// Eligibility is never access.
	if dec := d.Decide(Principal{ObjectID: carol}, secrets, Scope(cluster, "web")); dec.Allowed {
		t.Errorf("an eligible assignment allowed a request: %+v", dec.Via)
	}
	if hs, _ := d.Holders(ActionAdminCredential, cluster); len(hs) != 0 {
		t.Errorf("an eligible assignment held an action: %+v", hs)
	}

	ids := func(gs []EligibleGrant) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Eligible.ID)
		}
		return out
	}
	gs, missing := d.EligibleFor(nil, secrets, Scope(cluster, "web"), now)
	if got := ids(gs); !slices.Equal(got, []string{"e-carol-web"}) || gs[0].DataAction != ClusterType+"/*" || gs[0].Role.Name != "Azure Kubernetes Service RBAC Writer" {
		t.Errorf("eligible to delete secrets in web: %v %+v", got, gs)
	}
	if !slices.Equal(missing, []string{"/providers/Microsoft.Authorization/roleDefinitions/not-read"}) {
		t.Errorf("the eligibility of a role not read: %v", missing)
	}
	if other, _ := d.EligibleFor(nil, secrets, Scope(cluster, "api"), now); len(other) != 0 {
		t.Errorf("web's eligibility reached namespace api: %v", ids(other))
	}
	gs, _ = d.EligibleFor(nil, pods, Scope(cluster, "web"), now)
	if got := ids(gs); !slices.Equal(got, []string{"e-carol-web", "e-team-cluster"}) {
		t.Errorf("eligible to get pods in web: %v", got)
	}
	member := Principal{ObjectID: "66666666-6666-4666-8666-666666666666", Groups: []string{team}}
	if other, _ := d.EligibleFor(&member, pods, Scope(cluster, "web"), now); !slices.Equal(ids(other), []string{"e-team-cluster"}) {
		t.Errorf("a member of the eligible group: %v", ids(other))
	}
	if other, _ := d.EligibleFor(&member, secrets, Scope(cluster, "web"), now); len(other) != 0 {
		t.Errorf("the group's Reader does not delete secrets: %v", ids(other))
	}
	if other, _ := d.EligibleFor(nil, secrets, Scope(cluster, "web"), now.AddDate(1, 0, 0)); len(other) != 0 {
		t.Errorf("a year on, every end passed: %v", ids(other))
	}
	if other, _ := d.EligibleFor(nil, secrets, cluster, now.AddDate(0, 2, 0)); !slices.Equal(ids(other), []string{"e-carol-later"}) {
		t.Errorf("after its start, the later one is in force at the cluster: %v", ids(other))
	}

	// A deny assignment stops the activated assignment as it would an active one.
	d = &Data{ClusterID: d.ClusterID, Roles: d.Roles, Eligible: d.Eligible,
		Denies: []DenyAssignment{{ID: "deny", Scope: cluster, Principals: []string{carol}, Permissions: []Permission{{DataActions: []string{ClusterType + "/secrets/*"}}}}}}
	if other, _ := d.EligibleFor(nil, secrets, Scope(cluster, "web"), now); len(other) != 0 {
		t.Errorf("denied, yet eligible: %v", ids(other))
	}
}

// TestEligibleHolders: an eligible assignment of a role holding a
// control-plane action is an eligible door; its end counts.
func TestEligibleHolders(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	const admin = "/providers/Microsoft.Authorization/roleDefinitions/0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8" // AKS Cluster Admin Role (built in)
	d := &Data{ClusterID: cluster, Eligible: []EligibleAssignment{
		{ID: "e-admin", Scope: cluster, PrincipalID: alice, PrincipalType: "User", RoleDefinitionID: admin, End: now.AddDate(0, 1, 0)},
		{ID: "e-admin-old", Scope: cluster, PrincipalID: team, PrincipalType: "Group", RoleDefinitionID: admin, End: now.AddDate(0, -1, 0)},
	}}
	hs, unknown := d.EligibleHolders(ActionAdminCredential, cluster, now)
	if len(hs) != 1 || hs[0].Assignment.ID != "e-admin" || !hs[0].Builtin || len(unknown) != 0 {
		t.Errorf("eligible holders of the admin credential: %+v %v", hs, unknown)
	}
	if hs, _ := d.Holders(ActionAdminCredential, cluster); len(hs) != 0 {
		t.Errorf("active holders from eligibility: %+v", hs)
	}
}

// TestEligibleNamed: a user only eligible is found by name (can
// user:UPN), and the directory names eligible principals.
func TestEligibleNamed(t *testing.T) {
	d := &Data{ClusterID: cluster, Eligible: []EligibleAssignment{
		{ID: "e1", Scope: cluster, PrincipalID: alice, PrincipalType: "User", PrincipalName: "alice@contoso.com"},
		{ID: "e2", Scope: cluster, PrincipalID: team, PrincipalType: "Group"},
	}}
	d.Name(&Directory{Objects: []DirectoryObject{{ID: team, Type: "Group", Name: "On-call"}}})
	if got := d.ObjectID("Alice@contoso.com"); got != alice {
		t.Errorf("ObjectID of an eligible user: %q", got)
	}
	if d.Eligible[1].PrincipalName != "On-call" {
		t.Errorf("the directory did not name the eligible group: %+v", d.Eligible[1])
	}
	if c := d.Copy(); len(c.Eligible) != 2 {
		t.Errorf("Copy dropped the eligible assignments")
	}
}
