package fix

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestAzureFixes: every fixable azure finding gets a verified fix (the
// finding gone, nobody gaining access, each delete guarded), printed as az
// commands with every word quoted; an assignment above the cluster is
// first moved to the cluster, which changes nothing for its users here.
func TestAzureFixes(t *testing.T) {
	const (
		sub     = "/subscriptions/11111111-1111-4111-8111-111111111111"
		cluster = sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
		ct      = azurerbac.ClusterType
		writer  = "/providers/Microsoft.Authorization/roleDefinitions/a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
		admin   = "/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
	)
	snap := rbac.NewSnapshot()
	snap.RulesAggregated = true
	snap.ServiceAccounts = []corev1.ServiceAccount{{ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "deployer"}}}
	snap.ClusterRoles = []rbacv1.ClusterRole{
		{ObjectMeta: metav1.ObjectMeta{Name: "secrets"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "cluster-admin"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}},
	}
	snap.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Name: "deployer-secrets"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "secrets"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"}}},
		// A person with cluster-admin besides Azure's, so removing Azure's
		// is no lockout.
		{ObjectMeta: metav1.ObjectMeta{Name: "ops"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "ops-admins"}}},
	}
	a := func(id, scope, principal, typ, name, role string) azurerbac.Assignment {
		return azurerbac.Assignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + id, Scope: scope, PrincipalID: principal,
			PrincipalType: typ, PrincipalName: name, RoleDefinitionID: role}
	}
	snap.Azure = &azurerbac.Data{ClusterID: cluster,
		Roles: []azurerbac.RoleDefinition{
			{ID: admin, Name: "Azure Kubernetes Service RBAC Cluster Admin", Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/*"}}}},
			{ID: writer, Name: "Azure Kubernetes Service RBAC Writer", Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/secrets/*", ct + "/pods/*"}}}},
		},
		Assignments: []azurerbac.Assignment{
			a("r1", cluster, "a0000000-0000-4000-8000-000000000001", "User", "ann@contoso.com", admin),
			a("r2", sub, "b0000000-0000-4000-8000-000000000002", "Group", "devs", writer),
			a("r3", cluster+"/namespaces/ci", "f0000000-0000-4000-8000-000000000006", "User", "fay@contoso.com", writer),
			a("r4';rm -rf ~;'", cluster, "d0000000-0000-4000-8000-000000000004", "Unknown", "", writer),
		},
	}
	ix := rbac.NewIndex(snap)
	rep := audit.Run(ix, audit.Options{Fixable: Has})
	fixed := map[string]int{}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Category != audit.CategoryAzure || !f.Fixable {
			continue
		}
		fx, err := For(ix, f, Options{})
		if err != nil {
			t.Errorf("%s (%s): %v", f.ID, f.Message, err)
			continue
		}
		fixed[f.Rule]++
		if v := fx.Verification; !v.FindingGone || len(v.Gained) > 0 {
			t.Errorf("%s: verification %+v", f.ID, v)
		}
		for _, op := range fx.Operations {
			checkGuarded(t, f.ID, op)
			if !op.IsAzure() {
				t.Errorf("%s: a Kubernetes operation %v", f.ID, op.Target)
			}
		}
		sh := Kubectl(fx)
		if !strings.Contains(sh, "az role assignment ") || strings.Contains(sh, "kubectl ") {
			t.Errorf("%s: commands\n%s", f.ID, sh)
		}
		switch f.Rule {
		case "azure-inherited-assignment":
			if len(fx.Operations) != 2 || fx.Operations[0].Action != Create || len(fx.Verification.Lost) != 0 {
				t.Errorf("inherited: not moved to the cluster: %s %+v", fx.Description, fx.Verification)
			}
			if !strings.Contains(sh, "--scope '"+cluster+"'") {
				t.Errorf("inherited: commands\n%s", sh)
			}
		case "azure-orphaned-assignment":
			if !strings.Contains(sh, "--ids "+safe.Shell(cluster+"/providers/Microsoft.Authorization/roleAssignments/r4';rm -rf ~;'")+"\n") {
				t.Errorf("a hostile assignment id is not quoted:\n%s", sh)
			}
		case "azure-secrets-read":
			if len(fx.Verification.Lost) == 0 {
				t.Errorf("%s: removing the assignment loses nothing: %+v", f.ID, fx.Verification)
			}
		}
	}
	for _, r := range Rules() {
		if strings.HasPrefix(r, "azure-") && fixed[r] == 0 {
			t.Errorf("rule %s: no finding got a fix", r)
		}
	}
	// A concurrent change: the assignment's id now names another role.
	f := &rep.Findings[0]
	for i := range rep.Findings {
		if rep.Findings[i].Rule == "azure-cluster-admin" {
			f = &rep.Findings[i]
		}
	}
	fx, err := For(ix, f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	changed := *snap
	changed.Azure = &azurerbac.Data{ClusterID: cluster, Roles: snap.Azure.Roles, Assignments: append([]azurerbac.Assignment(nil), snap.Azure.Assignments...)}
	changed.Azure.Assignments[0].RoleDefinitionID = writer
	if _, err := Apply(&changed, fx.Operations); err == nil || !strings.Contains(err.Error(), "changed since the audit") {
		t.Errorf("a changed assignment deleted: %v", err)
	}
}

// TestAzureNarrow: with --narrow, a cluster-wide (or inherited) Azure
// assignment is replaced by the same role in the namespaces where its
// principal works (RoleBindings naming it, its other namespace-scope
// assignments), created before the wide one is deleted; the engine checks
// that nobody gains access and the finding goes. A principal that works in
// no namespace gets the plain delete.
func TestAzureNarrow(t *testing.T) {
	const (
		sub     = "/subscriptions/11111111-1111-4111-8111-111111111111"
		cluster = sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
		ct      = azurerbac.ClusterType
		writer  = "/providers/Microsoft.Authorization/roleDefinitions/a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
		reader  = "/providers/Microsoft.Authorization/roleDefinitions/7f6c6a51-bcf8-42ba-9220-52d62157d7db"
		ann     = "a0000000-0000-4000-8000-000000000001"
		devs    = "b0000000-0000-4000-8000-000000000002"
		loner   = "c0000000-0000-4000-8000-000000000003"
	)
	snap := rbac.NewSnapshot()
	snap.RulesAggregated = true
	snap.ClusterRoles = []rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: "view"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}}
	snap.RoleBindings = []rbacv1.RoleBinding{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "devs-view"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: devs}}}}
	as := func(id, scope, principal, typ, name, role string) azurerbac.Assignment {
		return azurerbac.Assignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + id, Scope: scope, PrincipalID: principal,
			PrincipalType: typ, PrincipalName: name, RoleDefinitionID: role}
	}
	snap.Azure = &azurerbac.Data{ClusterID: cluster,
		Roles: []azurerbac.RoleDefinition{
			{ID: writer, Name: "Azure Kubernetes Service RBAC Writer", Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/secrets/*", ct + "/pods/*"}}}},
			{ID: reader, Name: "Azure Kubernetes Service RBAC Reader", Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/pods/read"}}}},
		},
		Assignments: []azurerbac.Assignment{
			as("wide-devs", sub, devs, "Group", "devs", writer),             // RoleBinding in web
			as("wide-ann", cluster, ann, "User", "ann@contoso.com", writer), // works in api (a Reader there)
			as("ann-api", cluster+"/namespaces/api", ann, "User", "ann@contoso.com", reader),
			as("wide-loner", cluster, loner, "User", "loner@contoso.com", writer), // nowhere
		},
	}
	ix := rbac.NewIndex(snap)
	rep := audit.Run(ix, audit.Options{Fixable: Has, Only: []string{"azure-secrets-read"}})
	want := map[string]string{ann: cluster + "/namespaces/api", devs: cluster + "/namespaces/web"}
	seen := 0
	for i := range rep.Findings {
		f := &rep.Findings[i]
		z := f.Evidence[0].Azure
		fx, err := For(ix, f, Options{Narrow: true})
		if err != nil {
			t.Errorf("%s: %v", f.ID, err)
			continue
		}
		if v := fx.Verification; !v.FindingGone || len(v.Gained) > 0 {
			t.Errorf("%s: verification %+v", f.ID, v)
		}
		ns, narrowed := want[z.PrincipalID]
		if !narrowed {
			if len(fx.Operations) != 1 || fx.Operations[0].Action != Delete {
				t.Errorf("%s works nowhere: %s", z.PrincipalID, fx.Description)
			}
			continue
		}
		seen++
		if len(fx.Operations) != 2 || fx.Operations[0].Action != Create || fx.Operations[1].Action != Delete ||
			!strings.HasPrefix(fx.Operations[0].Target.Name, ns+"/providers/Microsoft.Authorization/roleAssignments/") {
			t.Errorf("%s: %s %+v", f.ID, fx.Description, fx.Operations)
			continue
		}
		// Narrowing keeps the role where the principal works: it loses
		// the other namespaces' and the cluster's, not its own.
		for _, l := range fx.Verification.Lost {
			if strings.Contains(l.String(), " in "+ns[strings.LastIndex(ns, "/")+1:]) {
				t.Errorf("%s: loses its own namespace's access: %s", f.ID, l)
			}
		}
		if sh := Kubectl(fx); !strings.Contains(sh, "az role assignment create") || !strings.Contains(sh, "--scope '"+ns+"'") {
			t.Errorf("%s: commands\n%s", f.ID, sh)
		}
	}
	if seen != 2 {
		t.Errorf("%d findings narrowed, want 2 (ann's and the group's): %d findings", seen, len(rep.Findings))
	}
}
