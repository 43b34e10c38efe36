package audit_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestAzureRules: the azure family finds what Azure role assignments grant
// that no Kubernetes object shows, each finding once, and nothing without
// Azure data.
func TestAzureRules(t *testing.T) {
	const (
		sub     = "/subscriptions/11111111-1111-4111-8111-111111111111"
		cluster = sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
		ct      = azurerbac.ClusterType
	)
	snap := rbac.NewSnapshot()
	snap.RulesAggregated = true
	snap.ServiceAccounts = []corev1.ServiceAccount{{ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "deployer"}}, {ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "runner"}}}
	snap.ClusterRoles = []rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: "secrets"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "pod-creator"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}}
	snap.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{{ObjectMeta: metav1.ObjectMeta{Name: "deployer-secrets"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "secrets"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"}}},
		// A second hop: runner creates pods in every namespace, so a pod
		// run as runner runs pods as anyone.
		{ObjectMeta: metav1.ObjectMeta{Name: "runner-pods"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "pod-creator"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "ops", Name: "runner"}}}}
	if rep := audit.Run(rbac.NewIndex(snap), audit.Options{}); len(ruleOfCategory(rep, audit.CategoryAzure)) != 0 {
		t.Fatalf("azure findings without Azure data: %v", ruleOfCategory(rep, audit.CategoryAzure))
	}
	a := func(id, scope, principal, typ, name, role, cond string) azurerbac.Assignment {
		return azurerbac.Assignment{ID: sub + "/providers/Microsoft.Authorization/roleAssignments/" + id, Scope: scope, PrincipalID: principal,
			PrincipalType: typ, PrincipalName: name, RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/" + role, Condition: cond}
	}
	snap.Azure = &azurerbac.Data{ClusterID: cluster,
		Roles: []azurerbac.RoleDefinition{
			{ID: "/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b", Name: "Azure Kubernetes Service RBAC Cluster Admin", Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/*"}}}},
			{ID: "/providers/Microsoft.Authorization/roleDefinitions/a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb", Name: "Azure Kubernetes Service RBAC Writer", Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/secrets/*", ct + "/pods/*"}}}},
			{ID: "/providers/Microsoft.Authorization/roleDefinitions/0c0c0c0c-0000-4000-8000-00000000000c", Name: "custom all reads", Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/*/read"}, NotDataActions: []string{ct + "/secrets/*"}}}},
		},
		Assignments: []azurerbac.Assignment{
			a("r1", cluster, "a0000000-0000-4000-8000-000000000001", "User", "ann@contoso.com", "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b", ""),
			a("r2", sub, "b0000000-0000-4000-8000-000000000002", "Group", "devs", "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb", ""),
			a("r3", cluster+"/namespaces/web", "c0000000-0000-4000-8000-000000000003", "ServicePrincipal", "", "0c0c0c0c-0000-4000-8000-00000000000c", ""),
			a("r4", cluster, "d0000000-0000-4000-8000-000000000004", "Unknown", "", "0c0c0c0c-0000-4000-8000-00000000000c", ""),
			a("r5", cluster+"/namespaces/ci", "e0000000-0000-4000-8000-000000000005", "User", "eve@contoso.com", "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb", "@Resource[x] == 'y'"),
			a("r6", cluster+"/namespaces/ci", "f0000000-0000-4000-8000-000000000006", "User", "fay@contoso.com", "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb", ""),
			a("r7", strings.Replace(cluster, "/aks", "/aks-other", 1), "f0000000-0000-4000-8000-000000000006", "User", "fay@contoso.com", "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b", ""),
			a("r8", cluster+"/namespaces/web", "80000000-0000-4000-8000-000000000008", "Group", "All Users (Contoso)", "0c0c0c0c-0000-4000-8000-00000000000c", ""),
			a("r9", cluster+"/namespaces/ops", "90000000-0000-4000-8000-000000000009", "User", "gus@contoso.com", "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb", ""),
		},
	}
	rep := audit.Run(rbac.NewIndex(snap), audit.Options{})
	got := map[string][]string{}
	for _, f := range rep.Findings {
		if f.Category == audit.CategoryAzure {
			got[f.Rule] = append(got[f.Rule], f.Severity.String()+" "+f.Message)
		}
	}
	want := map[string][]string{
		"azure-cluster-admin":          {"critical user:ann@contoso.com holds Azure role \"Azure Kubernetes Service RBAC Cluster Admin\" cluster-wide"},
		"azure-secrets-read":           {"high group:b0000000-0000-4000-8000-000000000002 may read secrets cluster-wide", "high user:fay@contoso.com may read secrets in namespace ci", "high user:gus@contoso.com may read secrets in namespace ops"},
		"azure-inherited-assignment":   {"high group:b0000000-0000-4000-8000-000000000002 holds Azure role \"Azure Kubernetes Service RBAC Writer\" at subscription 11111111-1111-4111-8111-111111111111 (write access)"},
		"azure-wildcard-role":          {"medium custom Azure role \"custom all reads\" grants wildcard dataActions"},
		"azure-broad-group":            {"medium group All Users (Contoso) (named like a tenant-wide group (\"All Users (Contoso)\")) holds Azure role \"custom all reads\" in namespace web"},
		"azure-orphaned-assignment":    {"medium Azure role assignment " + sub + "/providers/Microsoft.Authorization/roleAssignments/r4 names principal d0000000"},
		"azure-conditional-assignment": {"low Azure role assignment of \"Azure Kubernetes Service RBAC Writer\" to user:eve@contoso.com in namespace ci carries a condition"},
		"azure-escalation-path": {"high group:b0000000-0000-4000-8000-000000000002 may create pods cluster-wide", "high user:fay@contoso.com may create pods in namespace ci through Azure role \"Azure Kubernetes Service RBAC Writer\", and so run as sa:ci:deployer (get secrets)",
			"high user:gus@contoso.com may create pods in namespace ops through Azure role \"Azure Kubernetes Service RBAC Writer\", and so run as sa:ops:runner (create pods in every namespace)"},
	}
	for rule, msgs := range want {
		if len(got[rule]) != len(msgs) {
			t.Errorf("%s: %d findings, want %d: %q", rule, len(got[rule]), len(msgs), got[rule])
			continue
		}
		for i, m := range msgs {
			if !strings.HasPrefix(got[rule][i], m) {
				t.Errorf("%s finding %d:\n got %s\nwant %s...", rule, i, got[rule][i], m)
			}
		}
	}
	for rule := range got {
		if _, ok := want[rule]; !ok {
			t.Errorf("unexpected %s: %q", rule, got[rule])
		}
	}
	for _, r := range audit.Catalogue() {
		if _, ok := want[r.Name]; r.Category == audit.CategoryAzure && !ok {
			t.Errorf("rule %s has no case here", r.Name)
		}
	}
	// One finding per risk per path: fay's Writer at namespace ci reads
	// secrets there, which azure-secrets-read reports (with its az fix)
	// and secrets-read does not report again.
	var fay []string
	for _, f := range rep.Findings {
		if (f.Rule == "secrets-read" || f.Rule == "azure-secrets-read") && strings.Contains(f.Message, "fay@contoso.com") {
			fay = append(fay, f.Rule+": "+f.Message)
		}
	}
	if len(fay) != 1 || !strings.HasPrefix(fay[0], "azure-secrets-read") || !strings.Contains(fay[0], "ci") {
		t.Errorf("fay's secrets through an Azure assignment at namespace ci: %q, want one azure-secrets-read finding there", fay)
	}
	// The other cluster's assignment (r7) is nowhere.
	for _, f := range rep.Findings {
		for _, o := range f.Objects {
			if strings.HasSuffix(o.Name, "/r7") {
				t.Errorf("another cluster's assignment reported: %s", f.Message)
			}
		}
	}
}

// TestAzureDirectory: with what Microsoft Graph said of the principals
// (live loads), a deleted principal is the one Graph does not know, of any
// type, and a group is broad by its member count, whatever its name.
func TestAzureDirectory(t *testing.T) {
	const (
		sub     = "/subscriptions/11111111-1111-4111-8111-111111111111"
		cluster = sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
		reader  = "/providers/Microsoft.Authorization/roleDefinitions/7f6c6a51-bcf8-42ba-9220-52d62157d7db"
		writer  = "/providers/Microsoft.Authorization/roleDefinitions/a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
	)
	n := func(i int) *int { return &i }
	as := func(id, principal, typ, role string) azurerbac.Assignment {
		return azurerbac.Assignment{ID: sub + "/providers/Microsoft.Authorization/roleAssignments/" + id, Scope: cluster + "/namespaces/web",
			PrincipalID: principal, PrincipalType: typ, RoleDefinitionID: role}
	}
	snap := rbac.NewSnapshot()
	snap.RulesAggregated = true
	d := &azurerbac.Data{ClusterID: cluster,
		Roles: []azurerbac.RoleDefinition{
			{ID: reader, Name: "Azure Kubernetes Service RBAC Reader", Permissions: []azurerbac.Permission{{DataActions: []string{azurerbac.ClusterType + "/pods/read"}}}},
			{ID: writer, Name: "Azure Kubernetes Service RBAC Writer", Permissions: []azurerbac.Permission{{DataActions: []string{azurerbac.ClusterType + "/secrets/read"}}}},
		},
		Assignments: []azurerbac.Assignment{
			as("big", "10000000-0000-4000-8000-000000000001", "Group", writer),
			as("small", "20000000-0000-4000-8000-000000000002", "Group", reader),
			as("sp-gone", "30000000-0000-4000-8000-000000000003", "ServicePrincipal", reader),
			as("user", "40000000-0000-4000-8000-000000000004", "User", reader),
			as("uncounted", "50000000-0000-4000-8000-000000000005", "Group", reader),
		},
	}
	d.Name(&azurerbac.Directory{
		Objects: []azurerbac.DirectoryObject{
			{ID: "10000000-0000-4000-8000-000000000001", Type: "Group", Name: "platform", Members: n(2500)},
			{ID: "20000000-0000-4000-8000-000000000002", Type: "Group", Name: "Everyone on call", Members: n(4)},
			{ID: "40000000-0000-4000-8000-000000000004", Type: "User", Name: "ann@contoso.com"},
			{ID: "50000000-0000-4000-8000-000000000005", Type: "Group", Name: "all staff"},
		},
		NotFound: []string{"30000000-0000-4000-8000-000000000003"},
	})
	snap.Azure = d
	if got := d.Assignments[3].PrincipalName; got != "ann@contoso.com" {
		t.Fatalf("the user is named %q, want its UPN from the directory", got)
	}
	rep := audit.Run(rbac.NewIndex(snap), audit.Options{})
	var got []string
	for _, f := range rep.Findings {
		if f.Rule == "azure-broad-group" || f.Rule == "azure-orphaned-assignment" {
			got = append(got, f.Rule+": "+f.Severity.String()+" "+f.Message)
		}
	}
	want := []string{
		"azure-broad-group: high group platform (2500 members, by Microsoft Graph) holds Azure role \"Azure Kubernetes Service RBAC Writer\" in namespace web",
		"azure-broad-group: medium group all staff (named like a tenant-wide group (\"all staff\")) holds Azure role \"Azure Kubernetes Service RBAC Reader\" in namespace web",
		"azure-orphaned-assignment: medium Azure role assignment " + sub + "/providers/Microsoft.Authorization/roleAssignments/sp-gone names principal 30000000-0000-4000-8000-000000000003 (type ServicePrincipal), which Entra no longer resolves",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}
}

func ruleOfCategory(rep *audit.Report, c audit.Category) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.Category == c {
			out = append(out, f.Rule)
		}
	}
	return out
}

// TestAzurePrincipalKinds: a service principal or managed identity that
// Azure role assignments name is printed with its kind in findings and in
// who-can (serviceprincipal:OID, managedidentity:OID when the directory
// says so), never as a user, though Kubernetes sees each as the user its
// object id names.
func TestAzurePrincipalKinds(t *testing.T) {
	const (
		sub     = "/subscriptions/11111111-1111-4111-8111-111111111111"
		cluster = sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
		writer  = "/providers/Microsoft.Authorization/roleDefinitions/a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
		sp      = "c0000000-0000-4000-8000-000000000003"
		mi      = "d0000000-0000-4000-8000-000000000004"
	)
	snap := rbac.NewSnapshot()
	snap.RulesAggregated = true
	d := &azurerbac.Data{ClusterID: cluster,
		Roles: []azurerbac.RoleDefinition{{ID: writer, Name: "Azure Kubernetes Service RBAC Writer",
			Permissions: []azurerbac.Permission{{DataActions: []string{azurerbac.ClusterType + "/secrets/*", azurerbac.ClusterType + "/pods/*"}}}}},
		Assignments: []azurerbac.Assignment{
			{ID: sub + "/providers/Microsoft.Authorization/roleAssignments/sp", Scope: cluster + "/namespaces/web", PrincipalID: sp, PrincipalType: "ServicePrincipal", RoleDefinitionID: writer},
			{ID: sub + "/providers/Microsoft.Authorization/roleAssignments/mi", Scope: cluster + "/namespaces/ops", PrincipalID: mi, PrincipalType: "ServicePrincipal", RoleDefinitionID: writer},
		},
	}
	d.Name(&azurerbac.Directory{Objects: []azurerbac.DirectoryObject{
		{ID: sp, Type: "ServicePrincipal", Name: "deploy-bot", ServicePrincipalType: "Application"},
		{ID: mi, Type: "ServicePrincipal", Name: "aks-agentpool", ServicePrincipalType: "ManagedIdentity"},
	}})
	snap.Azure = d
	ix := rbac.NewIndex(snap)
	want := map[string]string{sp: "serviceprincipal:" + sp, mi: "managedidentity:" + mi}
	rep := audit.Run(ix, audit.Options{})
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		for _, s := range f.Subjects {
			if w, ok := want[s.Name]; ok {
				seen[s.Name] = true
				if s.String() != w || s.Kind != rbac.UserKind || !strings.Contains(f.Message, w) {
					t.Errorf("%s: subject %+v printed %q in %q, want %s", f.Rule, s, s.String(), f.Message, w)
				}
			}
		}
		if strings.Contains(f.Message, "user:"+sp) || strings.Contains(f.Message, "user:"+mi) {
			t.Errorf("%s prints a principal as a user: %s", f.Rule, f.Message)
		}
	}
	if len(seen) != 2 {
		t.Errorf("findings named %v, want both principals", seen)
	}
	for ns, id := range map[string]string{"web": sp, "ops": mi} {
		res := ix.WhoCan(rbac.Attributes{Verb: "get", Resource: "secrets", Namespace: ns}, false)
		found := false
		for _, g := range res.Subjects {
			if s := g.Subject(); s.Name == id {
				found = true
				if s.String() != want[id] || s.Identity().Name != id {
					t.Errorf("who-can in %s: %q (identity %q), want %s, the user %s", ns, s.String(), s.Identity().Name, want[id], id)
				}
			}
		}
		if !found {
			t.Errorf("who-can get secrets -n %s does not list %s", ns, id)
		}
	}
}
