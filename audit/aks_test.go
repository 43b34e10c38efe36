package audit_test

import (
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestAKSRules: every rule of the aks family fails on a cluster with every
// door open (naming who holds the action where it uses one), passes on one
// with every door shut, and is unknown where the view holds the cluster's
// role assignments but not its settings, or an Arc cluster's.
func TestAKSRules(t *testing.T) {
	const (
		sub     = "/subscriptions/22222222-2222-4222-8222-222222222222"
		cluster = sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
		nodeRG  = sub + "/resourceGroups/MC_rg_aks"
	)
	f, tr := false, true
	open := &azurerbac.ManagedCluster{ID: cluster, Type: "Microsoft.ContainerService/managedClusters", EnableRBAC: &f,
		AAD: &azurerbac.AADProfile{Managed: true}, NodeResourceGroup: "MC_rg_aks", ServicePrincipal: "0b0b0b0b-0000-4000-8000-00000000000b",
		SSHKeys: 2, PodIdentity: true, PodIdentityExceptions: 1}
	shut := &azurerbac.ManagedCluster{ID: cluster, Type: "Microsoft.ContainerService/managedClusters", EnableRBAC: &tr, DisableLocalAccounts: true,
		AAD: &azurerbac.AADProfile{Managed: true}, APIServer: &azurerbac.APIServerAccess{AuthorizedIPRanges: []string{"10.0.0.0/8"}, DisableRunCommand: true},
		IdentityType: "SystemAssigned", NodeResourceGroup: "MC_rg_aks", NodeResourceGroupRestriction: "ReadOnly", Defender: true, KMS: true}
	data := func(c *azurerbac.ManagedCluster) *azurerbac.Data {
		return &azurerbac.Data{ClusterID: cluster, Cluster: c, Assignments: []azurerbac.Assignment{
			{ID: cluster + "/providers/Microsoft.Authorization/roleAssignments/a", Scope: sub + "/resourceGroups/rg", PrincipalID: "c0c0c0c0-0000-4000-8000-00000000000c",
				PrincipalType: "User", PrincipalName: "contributor@contoso.com", RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"},
			{ID: nodeRG + "/providers/Microsoft.Authorization/roleAssignments/b", Scope: nodeRG, PrincipalID: "d0d0d0d0-0000-4000-8000-00000000000d",
				PrincipalType: "ServicePrincipal", RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"},
		}}
	}
	run := func(c *azurerbac.ManagedCluster) *audit.Report {
		snap := rbac.NewSnapshot()
		snap.RulesAggregated = true
		snap.Azure = data(c)
		return audit.Run(rbac.NewIndex(snap), audit.Options{})
	}
	var rules []string
	for _, r := range audit.Catalogue() {
		if r.Category == audit.CategoryAKS {
			rules = append(rules, r.Name)
		}
	}
	if len(rules) < 10 {
		t.Fatalf("%d aks rules", len(rules))
	}
	status := func(rep *audit.Report) map[string]audit.CheckStatus {
		m := map[string]audit.CheckStatus{}
		for _, c := range rep.Checks {
			m[c.Rule] = c.Status
		}
		return m
	}
	rep := run(open)
	st := status(rep)
	for _, rule := range rules {
		var msgs []string
		for _, f := range rep.Findings {
			if f.Rule == rule {
				msgs = append(msgs, f.Message)
			}
		}
		if len(msgs) != 1 || st[rule] != audit.CheckFailed {
			t.Errorf("open: %s: findings %q, check %q", rule, msgs, st[rule])
			continue
		}
		switch rule {
		case "aks-local-accounts", "aks-command-invoke":
			if !strings.Contains(msgs[0], "user:contributor@contoso.com through \"Contributor\" at resource group rg") {
				t.Errorf("%s does not name the Contributor: %s", rule, msgs[0])
			}
		case "aks-node-resource-group":
			if !strings.Contains(msgs[0], "serviceprincipal:d0d0d0d0-0000-4000-8000-00000000000d") || strings.Contains(msgs[0], "contributor@") {
				t.Errorf("%s names the wrong principals: %s", rule, msgs[0])
			}
		}
	}
	rep = run(shut)
	st = status(rep)
	for _, rule := range rules {
		if st[rule] != audit.CheckPassed {
			t.Errorf("shut: %s: check %q", rule, st[rule])
		}
	}
	for _, f := range rep.Findings {
		if f.Category == audit.CategoryAKS {
			t.Errorf("shut: %s: %s", f.Rule, f.Message)
		}
	}
	for name, c := range map[string]*azurerbac.ManagedCluster{"no settings": nil,
		"Arc": {ID: strings.Replace(cluster, "Microsoft.ContainerService/managedClusters", "Microsoft.Kubernetes/connectedClusters", 1), Type: "Microsoft.Kubernetes/connectedClusters"}} {
		st = status(run(c))
		for _, rule := range rules {
			if st[rule] != audit.CheckUnknown {
				t.Errorf("%s: %s: check %q, want unknown", name, rule, st[rule])
			}
		}
	}
}
