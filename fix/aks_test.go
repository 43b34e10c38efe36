package fix

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestAKSWrite: each aks fix (on a cluster whose API server profile holds
// authorized ranges, so its guard tests the profile as read) is checked by
// the engine, still applies to the cluster as read, sets its one field in
// ARM's resource and nothing else, refuses a cluster changed since (or
// fixed already), and is undone by the operation that sets the value back
// (az aks update with the opposite flag).
func TestAKSWrite(t *testing.T) {
	const id = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
	mc := &azurerbac.ManagedCluster{ID: id, Name: "aks", Type: "Microsoft.ContainerService/managedClusters",
		AAD:       &azurerbac.AADProfile{Managed: true, AdminGroups: []string{"ops-admins"}},
		APIServer: &azurerbac.APIServerAccess{AuthorizedIPRanges: []string{"203.0.113.0/24"}}, NodeResourceGroup: "MC_rg_aks"}
	snap := rbac.NewSnapshot()
	snap.RulesAggregated = true
	snap.ClusterRoles = []rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: "cluster-admin"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}}}
	snap.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{{ObjectMeta: metav1.ObjectMeta{Name: "ops"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "ops-admins"}}}}
	snap.Azure = &azurerbac.Data{ClusterID: id, Cluster: mc}
	ix := rbac.NewIndex(snap)
	rep := audit.Run(ix, audit.Options{Fixable: Has})

	arm := map[string]any{"id": id, "name": "aks", "location": "westeurope", "sku": map[string]any{"tier": "Standard"},
		"properties": map[string]any{"provisioningState": "Succeeded", "disableLocalAccounts": false, "nodeResourceGroup": "MC_rg_aks",
			"aadProfile":             map[string]any{"managed": true, "adminGroupObjectIDs": []any{"ops-admins"}},
			"apiServerAccessProfile": map[string]any{"authorizedIPRanges": []any{"203.0.113.0/24"}}}}
	want := map[string]struct {
		path      []string
		value     any
		flag, off string
	}{
		"aks-local-accounts":      {[]string{"properties", "disableLocalAccounts"}, true, "--disable-local-accounts", "--enable-local-accounts"},
		"aks-command-invoke":      {[]string{"properties", "apiServerAccessProfile", "disableRunCommand"}, true, "--disable-run-command", "--enable-run-command"},
		"aks-node-resource-group": {[]string{"properties", "nodeResourceGroupProfile", "restrictionLevel"}, "ReadOnly", "--nrg-lockdown-restriction-level ReadOnly", "--nrg-lockdown-restriction-level Unrestricted"},
	}
	seen := 0
	for i := range rep.Findings {
		f := &rep.Findings[i]
		w, ok := want[f.Rule]
		if !ok {
			continue
		}
		seen++
		fx, err := For(ix, f, Options{})
		if err != nil {
			t.Errorf("%s: %v", f.Rule, err)
			continue
		}
		if v := fx.Verification; !v.FindingGone || len(v.Gained) > 0 || len(fx.Operations) != 1 {
			t.Errorf("%s: verification %+v, %d operations", f.Rule, v, len(fx.Operations))
			continue
		}
		op := fx.Operations[0]
		if err := CheckAKS(mc, op); err != nil {
			t.Errorf("%s: does not apply to the cluster it was made for: %v", f.Rule, err)
		}
		put, err := SetAKS(arm, op)
		if err != nil {
			t.Fatalf("%s: %v", f.Rule, err)
		}
		// The PUT is the GET but for the one field.
		got := put
		for _, k := range w.path[:len(w.path)-1] {
			got = got[k].(map[string]any)
		}
		if got[w.path[len(w.path)-1]] != w.value {
			t.Errorf("%s: %v = %v, want %v", f.Rule, w.path, got[w.path[len(w.path)-1]], w.value)
		}
		delete(got, w.path[len(w.path)-1])
		orig := deepCopy(arm).(map[string]any)
		o := orig
		for _, k := range w.path[:len(w.path)-1] {
			if o[k] == nil {
				o[k] = map[string]any{}
			}
			o = o[k].(map[string]any)
		}
		delete(o, w.path[len(w.path)-1])
		if !reflect.DeepEqual(put, orig) {
			t.Errorf("%s: the PUT changes more than %v:\n%v\n%v", f.Rule, w.path, put, orig)
		}
		// Printed guarded: the setting read first must not have its new
		// value (or must still have the value the fix's test says).
		if cmd := Kubectl(fx); !strings.Contains(cmd, w.flag) || !strings.Contains(cmd, `[ "$(az aks show --ids '`+id+`' --query `) {
			t.Errorf("%s: %s", f.Rule, cmd)
		}
		// Fixed already, or changed since: refused as changed.
		b, err := patched(mc, op.Patch)
		var done azurerbac.ManagedCluster
		if err != nil || json.Unmarshal(b, &done) != nil {
			t.Fatalf("%s: %v", f.Rule, err)
		}
		if err := CheckAKS(&done, op); !errors.Is(err, ErrChanged) {
			t.Errorf("%s: applied to a cluster fixed already: %v", f.Rule, err)
		}
		// Undone from the cluster as it was: the opposite flag, guarded
		// by the value the fix left.
		u, err := UndoAKS(op, mc)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckAKS(&done, u); err != nil {
			t.Errorf("%s: the undo does not apply after the fix: %v", f.Rule, err)
		}
		if cmd := Kubectl(&Fix{Operations: []Operation{u}}); !strings.Contains(cmd, w.off) || !strings.Contains(cmd, " -o tsv)\" = '"+tsv(w.value)+"' ] && az aks update") {
			t.Errorf("%s: the undo is %s", f.Rule, cmd)
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the %d aks findings fixed", seen, len(want))
	}
	// Changed since the audit: another API server profile fails the guard.
	other := *mc
	other.APIServer = &azurerbac.APIServerAccess{AuthorizedIPRanges: []string{"198.51.100.0/24"}}
	for i := range rep.Findings {
		if f := &rep.Findings[i]; f.Rule == "aks-command-invoke" {
			fx, _ := For(ix, f, Options{})
			if err := CheckAKS(&other, fx.Operations[0]); !errors.Is(err, ErrChanged) {
				t.Errorf("a changed API server profile: %v", err)
			}
		}
	}
	// Local accounts are not turned off without Entra: nobody could sign in.
	noEntra := *mc
	noEntra.AAD = nil
	op := Operation{Action: Patch, Target: rbac.ObjectRef{APIVersion: AKSAPIVersion, Kind: AKSKind, Name: id},
		Patch: []PatchOp{{Op: "test", Path: "/disableLocalAccounts", Value: false}, {Op: "replace", Path: "/disableLocalAccounts", Value: true}}}
	if err := CheckAKS(&noEntra, op); err == nil || !strings.Contains(err.Error(), "Entra") {
		t.Errorf("local accounts off without Entra: %v", err)
	}
	// A setting no fix writes is refused.
	op.Patch = []PatchOp{{Op: "replace", Path: "/enableRbac", Value: false}}
	if _, err := SetAKS(arm, op); err == nil {
		t.Error("SetAKS wrote /enableRbac")
	}
}
