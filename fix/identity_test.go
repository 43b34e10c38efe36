package fix

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

const (
	identitySub     = "/subscriptions/22222222-2222-4222-8222-222222222222"
	ordersWrite     = identitySub + "/providers/Microsoft.Authorization/roleAssignments/20000000-0000-4000-8000-000000000001"
	ordersBlob      = identitySub + "/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stshop/providers/Microsoft.Authorization/roleAssignments/20000000-0000-4000-8000-000000000003"
	batchWrite      = identitySub + "/resourceGroups/rg-shop/providers/Microsoft.Authorization/roleAssignments/20000000-0000-4000-8000-000000000004"
	kubeletWrite    = identitySub + "/resourceGroups/MC_rg-aks_aks-prod_westeurope/providers/Microsoft.Authorization/roleAssignments/20000000-0000-4000-8000-000000000005"
	kubeletAcrPull  = identitySub + "/resourceGroups/rg-shared/providers/Microsoft.ContainerRegistry/registries/acrshop/providers/Microsoft.Authorization/roleAssignments/20000000-0000-4000-8000-000000000006"
	ghostCredential = identitySub + "/resourceGroups/rg-shop/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-batch/federatedIdentityCredentials/shop-ghost"
)

// identityFindings reads testdata/aks-identity and audits its
// azure-identity family.
func identityFindings(t *testing.T) (*rbac.Index, []audit.Finding) {
	t.Helper()
	res, err := source.Read(t.Context(), []string{"../testdata/aks-identity"}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ix := rbac.NewIndex(res.Snapshot)
	rep := audit.Run(ix, audit.Options{Fixable: Has, Only: []string{"workload-identity-reach", "kubelet-identity-reach", "federated-credential-unclaimed", "addon-identity-secrets"}})
	return ix, rep.Findings
}

func deleted(fx *Fix) []string {
	var out []string
	for _, op := range fx.Operations {
		if op.Action != Delete {
			continue
		}
		out = append(out, op.Target.Name)
	}
	slices.Sort(out)
	return out
}

// TestIdentityFixes: on the scenario (testdata/aks-identity) every
// azure-identity finding has a fix, checked on a copy (the finding gone,
// nobody gaining): the group's critical reach of id-orders and id-batch
// deletes their writing assignments (Contributor on the subscription and
// on rg-shop) and keeps id-orders' data role on its storage account, said
// in the description and left as a lower finding with another id; the
// kubelet identity loses Contributor on the node resource group and keeps
// AcrPull; the unclaimed credential is deleted, guarded by its issuer and
// subject. Every deleted assignment is said as its principal's loss.
func TestIdentityFixes(t *testing.T) {
	ix, fs := identityFindings(t)
	seen := map[string]bool{}
	for i := range fs {
		f := &fs[i]
		if !f.Fixable {
			t.Errorf("%s is not marked fixable", f.ID)
			continue
		}
		fx, err := For(ix, f, Options{})
		if err != nil {
			t.Errorf("%s: %v", f.ID, err)
			continue
		}
		if v := fx.Verification; !v.FindingGone || len(v.Gained) > 0 {
			t.Errorf("%s: verification %+v", f.ID, v)
		}
		for _, op := range fx.Operations {
			checkGuarded(t, f.ID, op)
		}
		seen[f.Rule] = true
		switch {
		case f.Rule == "addon-identity-secrets":
			// The add-on's Key Vault Secrets User goes, and only it.
			const kv = "/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shop/providers/Microsoft.Authorization/roleAssignments/20000000-0000-4000-8000-000000000007"
			if got := deleted(fx); !slices.Equal(got, []string{kv}) || !strings.Contains(fx.Description, "workload identity") {
				t.Errorf("%s deletes %v: %s", f.ID, got, fx.Description)
			}
		case f.Rule == "workload-identity-reach" && f.Severity == audit.Critical && strings.Contains(f.Message, "can create pods"):
			if got := deleted(fx); !slices.Equal(got, []string{ordersWrite, batchWrite}) {
				t.Errorf("%s deletes %v", f.ID, got)
			}
			if !strings.Contains(fx.Description, "kept: Storage Blob Data Contributor of managed identity id-orders") {
				t.Errorf("%s: %s", f.ID, fx.Description)
			}
			var lost []string
			for _, l := range fx.Verification.Lost {
				lost = append(lost, l.String())
			}
			if !slices.ContainsFunc(lost, func(s string) bool {
				return strings.HasPrefix(s, "serviceprincipal:1a1a1a1a-0000-4000-8000-00000000001a: Azure role Contributor on subscription")
			}) || len(fx.Verification.Others) != 0 {
				t.Errorf("%s: lost %v, others %v", f.ID, lost, fx.Verification.Others)
			}
			// Applied, the group still reaches id-orders' data role: a
			// medium finding, another id, with a fix of its own that
			// deletes that role too.
			after, err := Apply(ix.Snapshot(), fx.Operations)
			if err != nil {
				t.Fatal(err)
			}
			aix := rbac.NewIndex(after)
			rest := audit.Run(aix, audit.Options{Fixable: Has, Only: []string{f.Rule}}).Findings
			i := slices.IndexFunc(rest, func(g audit.Finding) bool { return strings.Contains(g.Message, "can create pods") })
			if i < 0 || rest[i].Severity != audit.Medium || rest[i].ID == f.ID || !strings.Contains(rest[i].Message, "Storage Blob Data Contributor") {
				t.Fatalf("after the fix: %+v", rest)
			}
			fx2, err := For(aix, &rest[i], Options{})
			if err != nil || !slices.Equal(deleted(fx2), []string{ordersBlob}) {
				t.Errorf("the medium finding's fix: %v %v", fx2, err)
			}
		case f.Rule == "kubelet-identity-reach":
			if got := deleted(fx); !slices.Equal(got, []string{kubeletWrite}) || slices.Contains(got, kubeletAcrPull) {
				t.Errorf("%s deletes %v", f.ID, got)
			}
			if cmds := Kubectl(fx); !strings.Contains(cmds, "az role assignment delete --ids '"+kubeletWrite+"'") {
				t.Errorf("%s:\n%s", f.ID, cmds)
			}
		case f.Rule == "federated-credential-unclaimed":
			if len(fx.Operations) != 1 || !fx.Operations[0].IsCredential() || fx.Operations[0].Target.Name != ghostCredential {
				t.Fatalf("%s: %+v", f.ID, fx.Operations)
			}
			if cmds := Kubectl(fx); !strings.Contains(cmds, "az identity federated-credential delete --subscription '22222222-2222-4222-8222-222222222222' --resource-group 'rg-shop' --identity-name 'id-batch' --name 'shop-ghost' --yes") {
				t.Errorf("%s:\n%s", f.ID, cmds)
			}
			// The guard holds the subject: a credential changed since the
			// audit is refused, not deleted.
			s := ix.Snapshot()
			n := s.Azure.Copy()
			n.Identities = slices.Clone(n.Identities)
			for j := range n.Identities {
				m := &n.Identities[j]
				m.FederatedCredentials = slices.Clone(m.FederatedCredentials)
				for k := range m.FederatedCredentials {
					if m.FederatedCredentials[k].ID == ghostCredential {
						m.FederatedCredentials[k].Subject = "system:serviceaccount:shop:other"
					}
				}
			}
			changed := *s
			changed.Azure = n
			if _, err := Apply(&changed, fx.Operations); !errors.Is(err, ErrChanged) {
				t.Errorf("a changed credential deleted: %v", err)
			}
			if _, cr := credentialOf(s.Azure, ghostCredential); cr == nil || cr.Subject != "system:serviceaccount:shop:ghost" {
				t.Errorf("the check changed the snapshot: %+v", cr)
			}
		}
	}
	for _, r := range []string{"workload-identity-reach", "kubelet-identity-reach", "federated-credential-unclaimed", "addon-identity-secrets"} {
		if !seen[r] {
			t.Errorf("no %s finding fixed", r)
		}
	}
}

// TestCredentialCommand: a federated credential delete is an az command
// whose every word from the data is quoted (a name holding a quote and a
// command stays one word), an app registration's through az ad app.
func TestCredentialCommand(t *testing.T) {
	for _, c := range []struct{ id, want string }{
		{identitySub + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id/federatedIdentityCredentials/x';rm -rf ~;'",
			`az identity federated-credential delete --subscription '22222222-2222-4222-8222-222222222222' --resource-group 'rg' --identity-name 'id' --name 'x'\'';rm -rf ~;'\''' --yes`},
		{"/applications/0e0e0006-0000-4000-8000-000000000006/federatedIdentityCredentials/0f0f0006-0000-4000-8000-000000000006",
			"az ad app federated-credential delete --id '0e0e0006-0000-4000-8000-000000000006' --federated-credential-id '0f0f0006-0000-4000-8000-000000000006'"},
	} {
		op := Operation{Action: Delete, Target: rbac.ObjectRef{APIVersion: CredentialAPIVersion, Kind: CredentialKind, Name: c.id}}
		if got := credentialCommand(op); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.id, got, c.want)
		}
	}
}
