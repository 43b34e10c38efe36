package audit_test

import (
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// TestAddonIdentitySecrets: the Key Vault secrets provider add-on's
// identity reads kv-shop's secrets (Key Vault Secrets User), and the group
// can create pods and SecretProviderClasses in shop: high, naming the
// group and where. Without the SecretProviderClass grant nobody can use
// the CSI driver's way (medium: the metadata service's stays); a role
// without getSecret (Reader, or a custom role whose notDataActions take
// it out) is no finding; a custom role read with it is.
func TestAddonIdentitySecrets(t *testing.T) {
	res, err := source.Read(t.Context(), []string{"../testdata/aks-identity"}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run := func(s *rbac.Snapshot) []audit.Finding {
		t.Helper()
		return audit.Run(rbac.NewIndex(s), audit.Options{Only: []string{"addon-identity-secrets"}}).Findings
	}
	fs := run(res.Snapshot)
	if len(fs) != 1 || fs[0].Severity != audit.High || len(fs[0].Subjects) != 1 || fs[0].Subjects[0].String() != "group:c7c7c7c7-0000-4000-8000-000000000007" ||
		!strings.Contains(fs[0].Message, "the azureKeyvaultSecretsProvider add-on's identity (object id f8f8f8f8-0000-4000-8000-000000000008)") ||
		!strings.Contains(fs[0].Message, "Key Vault Secrets User on /subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shop") ||
		!strings.Contains(fs[0].Message, "group:c7c7c7c7-0000-4000-8000-000000000007 in namespace shop can create a pod and a SecretProviderClass") ||
		!slices.ContainsFunc(fs[0].Evidence, func(p rbac.Path) bool { return p.Binding != nil && p.Binding.Name == "shop-secretproviderclasses" }) {
		t.Fatalf("findings: %+v", fs)
	}
	// The same subjects as who-can act-as asks for (one computation).
	if r := audit.AddonReaches(rbac.NewIndex(res.Snapshot)); len(r) != 1 || r[0].Subject.Key() != fs[0].Subjects[0].Key() || r[0].Namespace != "shop" {
		t.Errorf("AddonReaches: %+v", r)
	}

	without := *res.Snapshot
	without.RoleBindings = slices.DeleteFunc(slices.Clone(res.Snapshot.RoleBindings), func(b rbacv1.RoleBinding) bool { return b.Name == "shop-secretproviderclasses" })
	if fs := run(&without); len(fs) != 1 || fs[0].Severity != audit.Medium || len(fs[0].Subjects) != 0 || !strings.Contains(fs[0].Message, "nobody in the view") {
		t.Errorf("without the SecretProviderClass grant: %+v", fs)
	}

	withRole := func(roleID string, roles ...azurerbac.RoleDefinition) []audit.Finding {
		s := *res.Snapshot
		d := s.Azure.Copy()
		d.Assignments = slices.Clone(d.Assignments)
		for i := range d.Assignments {
			if d.Assignments[i].PrincipalID == "f8f8f8f8-0000-4000-8000-000000000008" {
				d.Assignments[i].RoleDefinitionID = roleID
			}
		}
		d.Roles = append(slices.Clone(d.Roles), roles...)
		s.Azure = d
		return run(&s)
	}
	reader := "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
	if fs := withRole(reader); len(fs) != 0 {
		t.Errorf("Reader: %+v", fs)
	}
	custom := "/providers/Microsoft.Authorization/roleDefinitions/9f9f9f9f-0000-4000-8000-000000000009"
	if fs := withRole(custom, azurerbac.RoleDefinition{ID: custom, Name: "vault-reader", Permissions: []azurerbac.Permission{{DataActions: []string{"Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/*"},
		NotDataActions: []string{"Microsoft.KeyVault/vaults/secrets/getSecret/action"}}}}); len(fs) != 0 {
		t.Errorf("getSecret excluded: %+v", fs)
	}
	if fs := withRole(custom, azurerbac.RoleDefinition{ID: custom, Name: "vault-reader", Permissions: []azurerbac.Permission{{DataActions: []string{"Microsoft.KeyVault/vaults/secrets/*"}}}}); len(fs) != 1 ||
		!strings.Contains(fs[0].Message, "vault-reader on") {
		t.Errorf("a custom role reading secrets: %+v", fs)
	}
}
