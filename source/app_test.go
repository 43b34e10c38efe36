package source_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// TestAppRegistrationsOffline: app registrations and their federated
// credentials read from files as the live Graph read has them: az ad app
// list's applications, Graph's list of an application's federated
// credentials (its @odata.context names the application; az ad app
// federated-credential list's output names none, and is refused with the
// command that gives Graph's), the service principal's object id found from
// az role assignment list (which names it by appId). shop/ingest, annotated
// with the app's appId, is matched, and acts with the service principal's
// Contributor; a credential list that names no application is an
// actionable error; an app whose service principal no assignment names is
// a warning.
func TestAppRegistrationsOffline(t *testing.T) {
	const (
		appID  = "0c0c0006-0000-4000-8000-000000000006"
		objID  = "0e0e0006-0000-4000-8000-000000000006"
		spID   = "0d0d0006-0000-4000-8000-000000000006"
		issuer = "https://westeurope.oic.prod-aks.azure.com/33333333-3333-4333-8333-333333333333/f6f6f6f6-0000-4000-8000-000000000006/"
	)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cluster := "../testdata/aks-identity/cluster.json"
	sa := write("sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ingest\n  namespace: shop\n  annotations: {azure.workload.identity/client-id: "+appID+"}\n")
	apps := write("apps.json", `[{"appId": "`+appID+`", "id": "`+objID+`", "displayName": "shop-ingest", "signInAudience": "AzureADMyOrg"}]`)
	creds := write("creds.json", `{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications('`+objID+`')/federatedIdentityCredentials",
		"value": [{"id": "0f0f0006-0000-4000-8000-000000000006", "name": "aks-ingest", "issuer": "`+issuer+`", "subject": "system:serviceaccount:shop:ingest", "audiences": ["api://AzureADTokenExchange"], "description": null}]}`)
	assignments := write("assignments.json", `[{"id": "/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-ingest/providers/Microsoft.Authorization/roleAssignments/1a000006-0000-4000-8000-000000000006",
		"scope": "/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-ingest", "principalId": "`+spID+`", "principalType": "ServicePrincipal", "principalName": "`+appID+`",
		"roleDefinitionId": "/subscriptions/22222222-2222-4222-8222-222222222222/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c", "roleDefinitionName": "Contributor"}]`)

	// Credentials first, then the application: either order.
	res, err := source.Read(t.Context(), []string{cluster, sa, creds, apps, assignments}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Snapshot.Azure
	if len(d.Identities) != 1 {
		t.Fatalf("identities: %+v", d.Identities)
	}
	m := d.Identities[0]
	if m.Kind != azurerbac.KindApplication || m.ID != "/applications/"+objID || m.Name != "shop-ingest" || m.ClientID != appID || m.PrincipalID != spID ||
		len(m.FederatedCredentials) != 1 || m.FederatedCredentials[0].ID != "/applications/"+objID+"/federatedIdentityCredentials/0f0f0006-0000-4000-8000-000000000006" {
		t.Errorf("the app registration: %+v", m)
	}
	w := d.MatchWorkload(d.Cluster.OIDCIssuerURL, "shop", "ingest", appID)
	if w.Status != azurerbac.WorkloadMatched || w.Credential == nil || w.Credential.Name != "aks-ingest" {
		t.Errorf("shop/ingest: %+v", w)
	}
	if as := d.AssignmentsOfIdentity(&m); len(as) != 1 || as[0].RoleName != "Contributor" {
		t.Errorf("its assignments: %+v", as)
	}

	// az ad app federated-credential list names no application.
	azCreds := write("az-creds.json", `[{"id": "0f0f0006-0000-4000-8000-000000000006", "name": "aks-ingest", "issuer": "`+issuer+`", "subject": "system:serviceaccount:shop:ingest", "audiences": ["api://AzureADTokenExchange"]}]`)
	if _, err := source.Read(t.Context(), []string{cluster, sa, azCreds, apps}, source.ReadOptions{}); err == nil || !strings.Contains(err.Error(), "az rest --url https://graph.microsoft.com/v1.0/applications/OBJECT-ID/federatedIdentityCredentials") {
		t.Errorf("az's credential list: %v", err)
	}
	// Without an assignment naming its service principal: a warning.
	res, err = source.Read(t.Context(), []string{cluster, sa, creds, apps}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range res.Warnings {
		found = found || strings.Contains(x.Message, "app registration shop-ingest (appId "+appID+"): no role assignment read names its service principal")
	}
	if !found || res.Snapshot.Azure.Identities[0].PrincipalID != "" {
		t.Errorf("no assignment: warnings %v", res.Warnings)
	}
}
