package rbac

import (
	"encoding/json"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/azurerbac"
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
	for _, p := range []*Probe{nil, {State: ProbeInactive}} {
		ix := azure(p)
		if ix.Incomplete() || ix.AzureRBACPending() || ix.WhoCan(get, false).Incomplete || ix.Can(Identity{Name: "bob@contoso.com"}, del).Incomplete {
			t.Errorf("probe %+v: the view is marked incomplete", p)
		}
	}
	// The probe could not tell (no right to create reviews): what RBAC
	// denies an Entra identity is unknown, not denied; service accounts
	// and system: users stay decided by RBAC alone. The view as a whole
	// (an audit of RBAC) is not marked incomplete for it.
	undecided := azure(&Probe{State: ProbeUnknown, Detail: "whether Azure RBAC decides after RBAC is unknown: the probe needs create on subjectaccessreviews.authorization.k8s.io"})
	if undecided.Incomplete() {
		t.Error("probe unknown: the audit's view is marked incomplete")
	}
	if c := undecided.Can(Identity{Name: "bob@contoso.com"}, del); c.Allowed || !c.Incomplete {
		t.Errorf("probe unknown: can for an Entra user = allowed %v, incomplete %v; want unknown", c.Allowed, c.Incomplete)
	}
	if !undecided.WhoCan(get, false).Incomplete {
		t.Error("probe unknown: who-can is complete, though an Azure role assignment may allow Entra principals")
	}
	if c := undecided.Can(Subject{Kind: ServiceAccountKind, Namespace: "web", Name: "other"}.Identity(), del); c.Incomplete {
		t.Errorf("probe unknown: a service account's denial is marked incomplete: %+v", c.Warnings)
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

// TestPathJSON checks the hand-written encoding against encoding/json's
// for RBAC paths, and the Azure path's shape.
func TestPathJSON(t *testing.T) {
	type plain struct {
		Binding *ObjectRef        `json:"binding"`
		Role    ObjectRef         `json:"role"`
		Rule    rbacv1.PolicyRule `json:"rule"`
	}
	b := ObjectRef{Kind: "RoleBinding", Name: "x\n<y>", Namespace: "ns"}
	for _, p := range []Path{
		mastersPath,
		{Binding: &b, Role: ObjectRef{Kind: "ClusterRole", Name: "é"}, Rule: rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}, ResourceNames: []string{"a\"b"}}},
		{Binding: &b, Role: ObjectRef{Kind: "Role", Name: "r", Namespace: "ns"}, Rule: rbacv1.PolicyRule{NonResourceURLs: []string{"/x"}}},
		{Binding: &b, Rule: rbacv1.PolicyRule{Verbs: []string{}, APIGroups: []string{}}},
	} {
		got, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(plain{p.Binding, p.Role, p.Rule})
		if string(got) != string(want) {
			t.Errorf("path JSON\n got %s\nwant %s", got, want)
		}
	}
	az, _ := json.Marshal(Path{Azure: &AzurePath{Assignment: "/a", Scope: "/s", PrincipalID: "p", PrincipalType: "User", RoleDefinitionID: "r", RoleName: "n", DataAction: "d"}})
	if want := `{"azure":{"assignment":"/a","scope":"/s","principalId":"p","principalType":"User","roleDefinitionId":"r","roleName":"n","dataAction":"d"}}`; string(az) != want {
		t.Errorf("azure path JSON\n got %s\nwant %s", az, want)
	}
	var back Path
	if err := json.Unmarshal(az, &back); err != nil || back.Azure == nil || back.Azure.RoleName != "n" || back.Binding != nil {
		t.Errorf("azure path read back: %+v %v", back, err)
	}
}

// TestAzureChain: with the Azure data loaded, guard's decision is the
// chain's last link, in every query.
func TestAzureChain(t *testing.T) {
	const (
		cluster = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
		ann     = "a0000000-0000-4000-8000-000000000001"
		team    = "b0000000-0000-4000-8000-000000000002"
		spn     = "c0000000-0000-4000-8000-000000000003"
		bob     = "d0000000-0000-4000-8000-000000000004"
		writer  = "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
		reader  = "/providers/Microsoft.Authorization/roleDefinitions/7f6c6a51-bcf8-42ba-9220-52d62157d7db"
	)
	ct := azurerbac.ClusterType
	snap := NewSnapshot()
	snap.RulesAggregated = true
	snap.ClusterRoles = append(snap.ClusterRoles, clusterRole("view", rule(l("get"), l(""), l("pods"))))
	snap.RoleBindings = append(snap.RoleBindings, rb("web", "team-view", "ClusterRole", "view", group(team), sa("web", "app")))
	snap.AzureRBAC = &Probe{State: ProbeActive}
	snap.Azure = &azurerbac.Data{ClusterID: cluster,
		Roles: []azurerbac.RoleDefinition{
			{ID: writer, Name: "Azure Kubernetes Service RBAC Writer", Permissions: []azurerbac.Permission{{DataActions: l(ct+"/secrets/*", ct+"/pods/*", ct+"/apps/deployments/*")}}},
			{ID: "7f6c6a51-bcf8-42ba-9220-52d62157d7db", Name: "Azure Kubernetes Service RBAC Reader", Permissions: []azurerbac.Permission{{DataActions: l(ct + "/*/read"), NotDataActions: l(ct + "/secrets/*")}}},
		},
		Assignments: []azurerbac.Assignment{
			{ID: "/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/r1", Scope: "/subscriptions/s1", PrincipalID: team, PrincipalType: "Group", PrincipalName: "payments-team", RoleDefinitionID: writer},
			{ID: cluster + "/namespaces/web/providers/Microsoft.Authorization/roleAssignments/r2", Scope: cluster + "/namespaces/web", PrincipalID: ann, PrincipalType: "User", PrincipalName: "ann@contoso.com", RoleDefinitionID: reader},
			{ID: cluster + "/providers/Microsoft.Authorization/roleAssignments/r3", Scope: cluster, PrincipalID: spn, PrincipalType: "ServicePrincipal", PrincipalName: "deployer", RoleDefinitionID: reader, Condition: "@Resource[x] == 'y'"},
			{ID: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/r4", Scope: "/subscriptions/s1/resourceGroups/rg", PrincipalID: bob, PrincipalType: "User", PrincipalName: "bob@contoso.com", RoleDefinitionID: reader},
		},
		Denies: []azurerbac.DenyAssignment{{ID: "deny-1", Scope: cluster + "/namespaces/locked", Principals: l(azurerbac.Everyone),
			Permissions: []azurerbac.Permission{{DataActions: l(ct + "/*")}}}},
	}
	ix := NewIndex(snap)
	if ix.Incomplete() || ix.AzureRBACPending() {
		t.Fatal("Azure data loaded: the view is still pending")
	}
	secrets := func(ns string) Attributes { return Attributes{Verb: "get", Resource: "secrets", Namespace: ns} }
	pods := func(ns string) Attributes { return Attributes{Verb: "list", Resource: "pods", Namespace: ns} }
	member := Identity{Name: "carol@contoso.com", ObjectID: "e0000000-0000-4000-8000-000000000005", Groups: l(team, GroupAuthenticated)}
	annID := Identity{Name: "ann@contoso.com", Groups: l(GroupAuthenticated)} // oid from the assignments' names
	for _, tc := range []struct {
		name       string
		id         Identity
		a          Attributes
		allowed    bool
		incomplete bool
		azure      bool // allowed through Azure
	}{
		{"a member of the team reads secrets by the subscription's writer role", member, secrets("web"), true, false, true},
		{"RBAC first: pods in web through the team's RoleBinding", member, Attributes{Verb: "get", Resource: "pods", Namespace: "web"}, true, false, false},
		{"cluster-wide: the subscription's writer role reaches it", member, secrets(""), true, false, true},
		{"a deny assignment in namespace locked", member, secrets("locked"), false, false, false},
		{"ann reads pods in web (namespace scope)", annID, pods("web"), true, false, true},
		{"ann's reader role carves out secrets", annID, secrets("web"), false, false, false},
		{"ann's namespace assignment does not reach other namespaces", annID, pods("api"), false, false, false},
		{"ann's namespace assignment does not reach the cluster scope", annID, pods(""), false, false, false},
		{"bob by resource group inheritance", Identity{Name: "bob@contoso.com", ObjectID: bob}, pods("api"), true, false, true},
		{"a conditional assignment is not guessed", Identity{Name: spn}, pods("api"), false, true, false},
		{"a user no assignment names: its object id may be named under another UPN, so a denial is unknown", Identity{Name: "zed@contoso.com"}, pods("api"), false, true, false},
		{"a user no assignment names, allowed through its group", Identity{Name: "zed@contoso.com", Groups: l(team)}, secrets("api"), true, false, true},
		{"a certificate user named like a group's display name is not the group", Identity{Name: "payments-team", Groups: l(GroupAuthenticated)}, secrets("api"), false, false, false},
		{"a service account: guard has no opinion", Subject{Kind: ServiceAccountKind, Namespace: "web", Name: "x", Groups: l(team)}.Identity(), secrets("web"), false, false, false},
		{"a group subject: what its members get", Identity{Groups: l(team)}, secrets("api"), true, false, true},
		{"discovery paths for any Entra user", annID, Attributes{Verb: "get", Path: "/apis/apps"}, true, false, true},
		{"not /metrics", annID, Attributes{Verb: "get", Path: "/metrics"}, false, false, false},
	} {
		res := ix.Can(tc.id, tc.a)
		azure := len(res.Via) > 0 && res.Via[0].Azure != nil
		if res.Allowed != tc.allowed || res.Incomplete != tc.incomplete || azure != tc.azure {
			t.Errorf("%s: allowed %v incomplete %v azure %v, want %v %v %v; %v %v", tc.name, res.Allowed, res.Incomplete, azure, tc.allowed, tc.incomplete, tc.azure, res.Via, res.Warnings)
		}
	}

	// who-can: Azure principals beside RBAC subjects, the team merged.
	if w := ix.WhoCan(pods("web"), false); !w.Incomplete {
		t.Error("who-can list pods: the conditional assignment (a reader role) is not said")
	}
	w := ix.WhoCan(secrets("web"), false)
	if w.Incomplete {
		t.Errorf("who-can get secrets: the conditional assignment's role carves out secrets: %v", w.Warnings)
	}
	got := map[string]SubjectGrant{}
	for _, g := range w.Subjects {
		got[g.Kind+":"+g.Name] = g
	}
	if g, ok := got["Group:"+team]; !ok || g.ObjectID != team || g.DisplayName != "payments-team" || g.Via[0].Azure == nil {
		t.Errorf("who-can get secrets -n web: the team: %+v", g)
	}
	if _, ok := got["User:ann@contoso.com"]; ok {
		t.Error("who-can: ann's reader role carves out secrets")
	}
	w = ix.WhoCan(pods("api"), false)
	got = map[string]SubjectGrant{}
	for _, g := range w.Subjects {
		got[g.Kind+":"+g.Name] = g
	}
	if _, ok := got["User:bob@contoso.com"]; !ok {
		t.Errorf("who-can list pods -n api: bob (resource group): %v", w.Subjects)
	}
	if _, ok := got["User:ann@contoso.com"]; ok {
		t.Errorf("who-can list pods -n api: ann's assignment is in web")
	}
	if _, ok := got["User:ann@contoso.com"]; !ok {
		w = ix.WhoCan(pods("api"), true)
		for _, g := range w.Subjects {
			got[g.Kind+":"+g.Name] = g
		}
		if g, ok := got["User:ann@contoso.com"]; !ok || g.Via[0].Azure.Scope != cluster+"/namespaces/web" {
			t.Errorf("who-can -A list pods: ann in web: %+v", g)
		}
	}
	w = ix.WhoCan(secrets("locked"), false)
	for _, g := range w.Subjects {
		if g.ObjectID != "" {
			t.Errorf("who-can in the denied namespace lists %+v", g)
		}
	}

	// what-can: dataActions as rules, each with its scope.
	wc := ix.WhatCan(annID, "")
	var azureRules []GrantedRule
	for _, r := range wc.Rules {
		if len(r.DataActions) > 0 {
			azureRules = append(azureRules, r)
		}
	}
	if len(azureRules) != 1 || azureRules[0].Namespace != "web" || azureRules[0].DataActions[0] != ct+"/*/read" || len(azureRules[0].NotDataActions) != 1 {
		t.Errorf("what-can ann: %+v", azureRules)
	}
	if wc.Incomplete {
		t.Errorf("what-can ann is complete: %v", wc.Warnings)
	}
	if wc := ix.WhatCan(Identity{Name: spn}, ""); !wc.Incomplete {
		t.Error("what-can of the conditional assignment's principal is complete")
	}
	// A deny assignment at a management group reaches the cluster, as ARM
	// lists it there; who-can -A does not depend on the namespace asked
	// from; a deny naming principals by id makes who-can incomplete.
	mg := *snap
	mg.Azure = &azurerbac.Data{ClusterID: cluster, Roles: snap.Azure.Roles, Assignments: snap.Azure.Assignments,
		Denies: []azurerbac.DenyAssignment{{ID: "deny-mg", Scope: "/providers/Microsoft.Management/managementGroups/corp", Principals: l(azurerbac.Everyone),
			Permissions: []azurerbac.Permission{{DataActions: l(ct + "/pods/*")}}}}}
	if res := NewIndex(&mg).Can(Identity{Name: "bob@contoso.com", ObjectID: bob}, pods("api")); res.Allowed {
		t.Errorf("a management group's deny assignment is ignored: %v", res.Via)
	}
	nsDeny := *snap
	nsDeny.Azure = &azurerbac.Data{ClusterID: cluster, Roles: snap.Azure.Roles, Assignments: snap.Azure.Assignments,
		Denies: []azurerbac.DenyAssignment{{ID: "deny-default", Scope: cluster + "/namespaces/default", Principals: l(azurerbac.Everyone), Permissions: []azurerbac.Permission{{DataActions: l(ct + "/*")}}}}}
	nix := NewIndex(&nsDeny)
	a1, a2 := nix.WhoCan(pods("default"), true), nix.WhoCan(pods("web"), true)
	if len(a1.Subjects) != len(a2.Subjects) {
		t.Errorf("who-can -A depends on the namespace asked from: %d and %d subjects", len(a1.Subjects), len(a2.Subjects))
	}
	excl := *snap
	excl.Azure = &azurerbac.Data{ClusterID: cluster, Roles: snap.Azure.Roles, Assignments: snap.Azure.Assignments,
		Denies: []azurerbac.DenyAssignment{{ID: "deny-but-team", Scope: cluster, Principals: l(azurerbac.Everyone), ExcludePrincipals: l(team), Permissions: []azurerbac.Permission{{DataActions: l(ct + "/pods/*")}}}}}
	if w := NewIndex(&excl).WhoCan(pods("api"), false); !w.Incomplete {
		t.Errorf("who-can where a deny assignment excludes a group (whose members it spares) is complete: %v", w.Warnings)
	}

	// JSON: the Azure path's kind.
	raw, _ := json.Marshal(ix.Can(member, secrets("web")))
	if !strings.Contains(string(raw), `"via":[{"azure":{"assignment":"/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/r1"`) {
		t.Errorf("can JSON: %s", raw)
	}
	_ = rbacv1.GroupKind
}

// TestAzureNearest: a request Azure denies shows the Azure grants closest
// to it, as RBAC's nearest does: another action on the resource where it
// is asked first, then the parent of a subresource, then the same action
// in another namespace; never another principal's, a conditional one's, or
// another cluster's.
func TestAzureNearest(t *testing.T) {
	const (
		sub     = "/subscriptions/11111111-1111-4111-8111-111111111111"
		cluster = sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
		ann     = "a0000000-0000-4000-8000-000000000001"
		team    = "b0000000-0000-4000-8000-000000000002"
		other   = "c0000000-0000-4000-8000-000000000003"
		ct      = azurerbac.ClusterType
	)
	role := func(id, name string, das ...string) azurerbac.RoleDefinition {
		return azurerbac.RoleDefinition{ID: "/providers/Microsoft.Authorization/roleDefinitions/" + id, Name: name, Permissions: []azurerbac.Permission{{DataActions: das}}}
	}
	as := func(id, scope, principal, typ, roleID, cond string) azurerbac.Assignment {
		return azurerbac.Assignment{ID: sub + "/providers/Microsoft.Authorization/roleAssignments/" + id, Scope: scope, PrincipalID: principal, PrincipalType: typ,
			RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/" + roleID, Condition: cond}
	}
	snap := NewSnapshot()
	snap.RulesAggregated = true
	snap.Azure = &azurerbac.Data{ClusterID: cluster,
		Roles: []azurerbac.RoleDefinition{
			role("11111111-0000-4000-8000-000000000001", "pod reader", ct+"/pods/read"),
			role("22222222-0000-4000-8000-000000000002", "exec", ct+"/pods/exec/action"),
			role("33333333-0000-4000-8000-000000000003", "pod deleter", ct+"/pods/delete"),
		},
		Assignments: []azurerbac.Assignment{
			as("r1", cluster+"/namespaces/web", team, "Group", "11111111-0000-4000-8000-000000000001", ""),
			as("r2", cluster+"/namespaces/api", ann, "User", "22222222-0000-4000-8000-000000000002", ""),
			as("r3", cluster+"/namespaces/web", other, "User", "33333333-0000-4000-8000-000000000003", ""),
			as("r4", cluster+"/namespaces/web", ann, "User", "33333333-0000-4000-8000-000000000003", "@Resource[x] == 'y'"),
			as("r5", strings.Replace(cluster, "/aks", "/aks-dev", 1), ann, "User", "33333333-0000-4000-8000-000000000003", ""),
		},
	}
	ix := NewIndex(snap)
	id := Identity{Name: "ann@contoso.com", ObjectID: ann, Groups: l(GroupAuthenticated, team)}
	res := ix.Can(id, Attributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "web", Name: "p"})
	if res.Allowed {
		t.Fatalf("allowed: %+v", res)
	}
	var got []string
	for _, p := range res.Nearest {
		if p.Azure == nil {
			t.Fatalf("an RBAC path among the nearest: %+v", p)
		}
		got = append(got, p.Azure.Assignment[strings.LastIndex(p.Azure.Assignment, "/")+1:]+" "+p.Azure.DataAction)
	}
	// r1 grants pods/read in web: the parent resource's (pods) get, not
	// another action of pods/exec; r2 grants the action in api.
	want := []string{"r1 " + ct + "/pods/read", "r2 " + ct + "/pods/exec/action"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("nearest:\n got %q\nwant %q", got, want)
	}
	// Another action on the same resource ranks first.
	res = ix.Can(id, Attributes{Verb: "delete", Resource: "pods", Namespace: "web", Name: "p"})
	if res.Allowed || len(res.Nearest) == 0 || !strings.HasSuffix(res.Nearest[0].Azure.Assignment, "/r1") || res.Nearest[0].Azure.DataAction != ct+"/pods/read" {
		t.Errorf("delete pods in web: %+v", res.Nearest)
	}
}

// TestIncompleteCause: the incomplete mark names its cause: parts not
// read, Azure RBAC, or both; a warning read back from a document (no code)
// is taken as a part not read.
func TestIncompleteCause(t *testing.T) {
	gap, az := Warnf(WarnGap, "roles: forbidden"), Warnf(WarnAzureRBAC, "deny assignment d names principals")
	for _, tc := range []struct {
		ws   []Warning
		want string
	}{
		{[]Warning{gap}, "parts of the cluster could not be read"},
		{[]Warning{az, Warnf(WarnNamedOnly, "x")}, "Azure RBAC could change it"},
		{[]Warning{az, gap}, "parts of the cluster could not be read, and Azure RBAC could change it"},
		{[]Warning{{Message: "read back"}}, "parts of the cluster could not be read"},
	} {
		if got := IncompleteCause(tc.ws); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.ws, got, tc.want)
		}
	}
}

// TestGuardOnlyWhereOn: role assignments grant dataActions only where the
// managed cluster read says Azure RBAC for Kubernetes authorization is on;
// with it off they open the cluster through the control plane alone.
func TestGuardOnlyWhereOn(t *testing.T) {
	const (
		oid     = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e01"
		cluster = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
		admin   = "/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
	)
	for _, on := range []bool{true, false} {
		snap := NewSnapshot()
		snap.RulesAggregated = true
		snap.Azure = &azurerbac.Data{ClusterID: cluster,
			Roles:       []azurerbac.RoleDefinition{{ID: admin, Name: "Azure Kubernetes Service RBAC Cluster Admin", Permissions: []azurerbac.Permission{{DataActions: []string{azurerbac.ClusterType + "/*"}}}}},
			Assignments: []azurerbac.Assignment{{ID: cluster + "/providers/Microsoft.Authorization/roleAssignments/a", Scope: cluster, PrincipalID: oid, PrincipalType: "User", PrincipalName: "ann@contoso.com", RoleDefinitionID: admin}},
			Cluster:     &azurerbac.ManagedCluster{ID: cluster, Type: "Microsoft.ContainerService/managedClusters", AAD: &azurerbac.AADProfile{Managed: true, EnableAzureRBAC: on}}}
		ix := NewIndex(snap)
		res := ix.Can(Identity{Name: "ann@contoso.com", ObjectID: oid, Groups: []string{GroupAuthenticated}}, Attributes{Verb: "delete", Resource: "secrets", Namespace: "web"})
		if res.Allowed != on || ix.AzureLoaded() != on {
			t.Errorf("Azure RBAC on=%v: allowed %v (loaded %v)", on, res.Allowed, ix.AzureLoaded())
		}
	}
}

// TestAzureDoorsUnread: when the managed cluster's settings, or part of
// Azure's data, could not be read, the doors answer says so rather than
// listing none as if there were none.
func TestAzureDoorsUnread(t *testing.T) {
	const cluster = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
	for name, d := range map[string]*azurerbac.Data{
		"settings unread": {ClusterID: cluster, ClusterGap: "the managed cluster's settings could not be read: 403"},
		"data in part":    {ClusterID: cluster, Gaps: []string{"role assignments at the cluster: 403"}, Cluster: &azurerbac.ManagedCluster{ID: cluster}},
	} {
		snap := NewSnapshot()
		snap.RulesAggregated = true
		snap.Azure = d
		doors, ws := NewIndex(snap).AzureDoors(Attributes{Verb: "delete", Resource: "namespaces"})
		if len(doors) != 0 || len(ws) == 0 || !strings.Contains(ws[0].Message, "control plane") {
			t.Errorf("%s: doors %v, warnings %+v", name, doors, ws)
		}
	}
}

// TestRunCommandDoor: command invoke is a way in only where the Azure CLI
// does not pass the caller's own token (no AKS-managed Entra), and not
// once disableRunCommand is set.
func TestRunCommandDoor(t *testing.T) {
	const (
		cluster = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
		runner  = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/runner"
	)
	for _, tc := range []struct {
		name string
		mc   azurerbac.ManagedCluster
		door bool
	}{
		{"no Entra", azurerbac.ManagedCluster{ID: cluster}, true},
		{"legacy Entra (not managed)", azurerbac.ManagedCluster{ID: cluster, AAD: &azurerbac.AADProfile{}}, true},
		{"AKS-managed Entra", azurerbac.ManagedCluster{ID: cluster, AAD: &azurerbac.AADProfile{Managed: true}}, false},
		{"run command off", azurerbac.ManagedCluster{ID: cluster, APIServer: &azurerbac.APIServerAccess{DisableRunCommand: true}}, false},
	} {
		mc := tc.mc
		snap := NewSnapshot()
		snap.RulesAggregated = true
		snap.Azure = &azurerbac.Data{ClusterID: cluster, Cluster: &mc,
			Roles:       []azurerbac.RoleDefinition{{ID: runner, Name: "Runner", Permissions: []azurerbac.Permission{{Actions: []string{azurerbac.ActionRunCommand}}}}},
			Assignments: []azurerbac.Assignment{{ID: "a1", Scope: cluster, PrincipalID: "0b5a1a8c-0000-4000-8000-00000000c0de", PrincipalType: "User", PrincipalName: "ops@contoso.com", RoleDefinitionID: runner}}}
		doors, _ := NewIndex(snap).AzureDoors(Attributes{Verb: "delete", Resource: "namespaces"})
		got := len(doors) == 1 && doors[0].Action == azurerbac.ActionRunCommand && doors[0].Kind == DoorCredential && doors[0].As != nil && doors[0].As.User == UserClusterAdmin && len(doors[0].Via) > 0
		if got != tc.door || !tc.door && len(doors) != 0 {
			t.Errorf("%s: doors %+v, want a runCommand door: %v", tc.name, doors, tc.door)
		}
	}
}
