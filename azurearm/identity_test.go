package azurearm

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

const (
	miSub      = "/subscriptions/3f2c8e1a-6b4d-4c2e-9a1f-7d8e9f0a1b2c"
	miCluster  = miSub + "/resourcegroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-prod"
	miIssuer   = "https://eastus.oic.prod-aks.azure.com/tenant/cluster/"
	miRG       = miSub + "/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
	farSub     = "/subscriptions/9a9a9a9a-0000-4000-8000-00000000009a"
	farRG      = farSub + "/resourceGroups/rg-far/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
	roleDefs   = miSub + "/providers/Microsoft.Authorization/roleDefinitions/"
	roleReader = "7f6c6a51-bcf8-42ba-9220-52d62157d7db" // in the fixture
	roleWriter = "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
	roleAdmin  = "3498e952-d568-435e-9b2c-8d77e338d7f7"
)

// identityARM is the fixture's ARM with four identities: id-orders (named
// by client id, three federated credentials: two pages), id-kubelet (the
// kubelet's, by object id), id-fed (a credential on the cluster's issuer,
// named by nobody), id-other (neither: not kept), and their role
// assignments at scopes apart from the cluster's.
func identityARM(t *testing.T) *fakeARM {
	t.Helper()
	a := newFakeARM(t, loadFixture(t))
	raw := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	identity := func(name, client, principal string, creds ...[2]string) {
		id := miRG + name
		if strings.HasPrefix(name, "far/") { // an identity of another subscription
			name = strings.TrimPrefix(name, "far/")
			id = farRG + name
		}
		a.identities = append(a.identities, items(t, []json.RawMessage{raw(map[string]any{"id": id, "name": name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
			"properties": map[string]any{"clientId": client, "principalId": principal, "tenantId": tenant}})})...)
		for i, c := range creds {
			cid := id + "/federatedIdentityCredentials/" + name + "-" + string(rune('a'+i))
			a.credentials[strings.ToLower(id)] = append(a.credentials[strings.ToLower(id)], items(t, []json.RawMessage{raw(map[string]any{"id": cid, "name": name + "-" + string(rune('a'+i)),
				"type":       "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
				"properties": map[string]any{"issuer": c[0], "subject": c[1], "audiences": []string{azurerbac.TokenExchangeAudience}}})})...)
		}
	}
	identity("id-orders", "c1000000-0000-4000-8000-000000000001", "p1000000-0000-4000-8000-000000000001",
		[2]string{miIssuer, "system:serviceaccount:shop:orders"}, [2]string{"https://token.actions.githubusercontent.com", "repo:contoso/shop"}, [2]string{miIssuer, "system:serviceaccount:shop:orders-canary"})
	identity("id-kubelet", "c2000000-0000-4000-8000-000000000002", "p2000000-0000-4000-8000-000000000002")
	identity("id-fed", "c4000000-0000-4000-8000-000000000004", "p4000000-0000-4000-8000-000000000004", [2]string{miIssuer, "system:serviceaccount:batch:runner"})
	identity("id-other", "c3000000-0000-4000-8000-000000000003", "p3000000-0000-4000-8000-000000000003", [2]string{"https://elsewhere.example/", "system:serviceaccount:shop:orders"})
	identity("far/id-far", "c5000000-0000-4000-8000-000000000005", "p5000000-0000-4000-8000-000000000005", [2]string{miIssuer, "system:serviceaccount:shop:far"})
	assign := func(n, scope, principal, role string) {
		id := scope + "/providers/Microsoft.Authorization/roleAssignments/e" + n + "000000-0000-4000-8000-000000000000"
		it := items(t, []json.RawMessage{raw(map[string]any{"id": id, "name": id[strings.LastIndex(id, "/")+1:], "type": "Microsoft.Authorization/roleAssignments",
			"properties": map[string]any{"scope": scope, "principalId": principal, "principalType": "ServicePrincipal", "roleDefinitionId": roleDefs + role}})})[0]
		a.assignments[it.scope] = append(a.assignments[it.scope], it)
	}
	assign("1", miSub+"/resourcegroups/rg-data/providers/microsoft.storage/storageaccounts/st1", "p1000000-0000-4000-8000-000000000001", roleReader)
	assign("2", strings.ToLower(miSub), "p1000000-0000-4000-8000-000000000001", roleWriter)
	assign("3", miSub+"/resourcegroups/rg-batch", "p4000000-0000-4000-8000-000000000004", roleAdmin)
	assign("4", miSub+"/resourcegroups/rg-other", "p3000000-0000-4000-8000-000000000003", roleAdmin)
	assign("5", farSub+"/resourcegroups/rg-far", "p5000000-0000-4000-8000-000000000005", roleAdmin)
	return a
}

func identityData() *azurerbac.Data {
	return &azurerbac.Data{ClusterID: miCluster, Roles: []azurerbac.RoleDefinition{{ID: roleDefs + roleReader, Name: "Azure Kubernetes Service RBAC Reader"}},
		Cluster: &azurerbac.ManagedCluster{ID: miCluster, OIDCIssuerURL: miIssuer, KubeletIdentity: "p2000000-0000-4000-8000-000000000002"}}
}

// TestLoadIdentities: the identities named, the kubelet's and those on the
// cluster's issuer are kept with every federated credential (across
// pages) and their role assignments wherever they are; the roles d lacks
// are read once, the one it has not again.
func TestLoadIdentities(t *testing.T) {
	a := identityARM(t)
	d := identityData()
	if err := LoadIdentities(t.Context(), d, []string{"C1000000-0000-4000-8000-000000000001"}, a.options(t, appSecret)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range d.Identities {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	if want := []string{"id-fed", "id-kubelet", "id-orders"}; !slices.Equal(names, want) || len(d.IdentityGaps) > 0 {
		t.Fatalf("identities %v, want %v; gaps %v", names, want, d.IdentityGaps)
	}
	m := d.MatchWorkload(miIssuer, "shop", "orders", "c1000000-0000-4000-8000-000000000001")
	if m.Status != azurerbac.WorkloadMatched || m.Identity.Name != "id-orders" || len(m.Identity.FederatedCredentials) != 3 || m.Credential.Name != "id-orders-a" {
		t.Fatalf("orders: %+v", m)
	}
	got := map[string]string{}
	for _, x := range d.AssignmentsOfIdentity(m.Identity) {
		got[strings.ToLower(x.Scope)] = x.RoleName
	}
	if len(got) != 2 || got[strings.ToLower(miSub)] != "Azure Kubernetes Service RBAC Writer" || got[miSub+"/resourcegroups/rg-data/providers/microsoft.storage/storageaccounts/st1"] != "Azure Kubernetes Service RBAC Reader" {
		t.Errorf("orders' assignments: %v", got)
	}
	if slices.ContainsFunc(d.Assignments, func(x azurerbac.Assignment) bool { return x.PrincipalID == "p3000000-0000-4000-8000-000000000003" }) {
		t.Error("an identity not kept had its assignments read")
	}
	if n := a.requestsContaining(roleReader); n != 0 {
		t.Errorf("the role d had was read %d times", n)
	}
	if len(d.Roles) != 3 || a.requestsContaining(roleWriter) != 1 || a.requestsContaining(roleAdmin) != 1 {
		t.Errorf("roles %d; the writer role read %d times, the admin role %d", len(d.Roles), a.requestsContaining(roleWriter), a.requestsContaining(roleAdmin))
	}
}

// TestLoadIdentitiesGaps: ARM's 403 on an identity's credentials or on
// the assignments is a gap, the identity kept with its credentials
// unread (never "no matching credential"); a token ARM refuses ends the
// read.
func TestLoadIdentitiesGaps(t *testing.T) {
	a := identityARM(t)
	a.fail(miRG+"id-orders/federatedIdentityCredentials", fault{status: http.StatusForbidden, code: "AuthorizationFailed", msg: "no"})
	a.fail(miSub+"/providers/Microsoft.Authorization/roleAssignments", fault{status: http.StatusForbidden, code: "AuthorizationFailed", msg: "no"})
	d := identityData()
	if err := LoadIdentities(t.Context(), d, []string{"c1000000-0000-4000-8000-000000000001"}, a.options(t, appSecret)); err != nil {
		t.Fatal(err)
	}
	m := d.MatchWorkload(miIssuer, "shop", "orders", "c1000000-0000-4000-8000-000000000001")
	if m.Status != azurerbac.WorkloadCredentialsUnknown || !strings.Contains(m.Identity.CredentialsUnread, "forbidden") {
		t.Errorf("orders with its credentials refused: %+v", m)
	}
	// The credentials' gap, and one per kept identity's assignments.
	if len(d.IdentityGaps) != 1+3 || !strings.Contains(d.IdentityGaps[0], "federatedIdentityCredentials/read") ||
		!slices.ContainsFunc(d.IdentityGaps, func(g string) bool { return strings.Contains(g, "role assignments of managed identity id-kubelet") }) {
		t.Errorf("gaps: %q", d.IdentityGaps)
	}

	a = identityARM(t)
	a.fail(miSub+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities", fault{status: http.StatusUnauthorized, code: "InvalidAuthenticationToken", msg: "no"})
	var re *azcore.ResponseError
	if err := LoadIdentities(t.Context(), identityData(), nil, a.options(t, appSecret)); !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized {
		t.Errorf("a refused token: %v", err)
	}
}

// TestLoadIdentitiesOtherSubscription: a client id the cluster's
// subscription has no identity of is looked for in every subscription in
// one Resource Graph query (GUIDs only: an annotation is anyone's text);
// the identity found is kept with its federated credentials, read from its
// own subscription, and its role assignments there too.
func TestLoadIdentitiesOtherSubscription(t *testing.T) {
	a := identityARM(t)
	d := identityData()
	ids := []string{"c1000000-0000-4000-8000-000000000001", "C5000000-0000-4000-8000-000000000005", "x') | project id; resources | where ('"}
	if err := LoadIdentities(t.Context(), d, ids, a.options(t, appSecret)); err != nil {
		t.Fatal(err)
	}
	m := d.MatchWorkload(miIssuer, "shop", "far", "c5000000-0000-4000-8000-000000000005")
	if m.Status != azurerbac.WorkloadMatched || m.Identity == nil || m.Identity.Name != "id-far" || len(d.IdentityGaps) > 0 {
		t.Fatalf("far: %+v; gaps %v", m, d.IdentityGaps)
	}
	got := d.AssignmentsOfIdentity(m.Identity)
	if len(got) != 1 || !strings.EqualFold(got[0].Scope, farSub+"/resourcegroups/rg-far") {
		t.Errorf("far's assignments: %+v", got)
	}
	if len(a.graphQueries) != 1 || !strings.Contains(a.graphQueries[0], "'c5000000-0000-4000-8000-000000000005'") ||
		strings.Contains(a.graphQueries[0], "c1000000") || strings.Contains(a.graphQueries[0], "project id;") {
		t.Errorf("Resource Graph was asked %q: want one query for the missing GUID alone", a.graphQueries)
	}
	// Every identity found where the cluster's subscription has it: no query.
	a = identityARM(t)
	if err := LoadIdentities(t.Context(), identityData(), ids[:1], a.options(t, appSecret)); err != nil || len(a.graphQueries) != 0 {
		t.Errorf("a client id the subscription has: %v, queries %q", err, a.graphQueries)
	}
}
