package azurearm

import (
	"encoding/json"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-access/kubectl-access/internal/testkit/entratest"
)

// TestServicePrincipalSecrets: the service principal's secrets are read
// from Microsoft Graph (its app registration's password credentials) as
// ids, names and ends, never Graph's hint; an app Graph does not know,
// and a refusal, are said with what would read them (Application.Read.All).
func TestServicePrincipalSecrets(t *testing.T) {
	a := newFakeARM(t, fixture{})
	const appID = "5f5f0001-0000-4000-8000-000000000001"
	end := time.Now().Add(10 * 24 * time.Hour).UTC().Truncate(time.Second)
	a.issuer.Directory = &entratest.Directory{Applications: []entratest.Application{{ID: "6f6f0001-0000-4000-8000-000000000001", AppID: appID, DisplayName: "aks-sp",
		Passwords: []entratest.Password{{KeyID: "k1", DisplayName: "rbac", Hint: "Zx9", End: end}, {KeyID: "k2", Hint: "Qq1"}}}}}
	o := a.options(t, appSecret)
	o.GraphURL = a.issuer.GraphAudience()
	got := servicePrincipalSecrets(t.Context(), appID, o)
	if got.Unread != "" || len(got.Secrets) != 2 || got.Secrets[0].KeyID != "k1" || got.Secrets[0].DisplayName != "rbac" ||
		got.Secrets[0].End == nil || !got.Secrets[0].End.Equal(end) || got.Secrets[1].End != nil {
		t.Fatalf("read: %+v", got)
	}
	if s := strings.ToLower(got.From); s != "microsoft graph" {
		t.Errorf("from %q", got.From)
	}
	if got := servicePrincipalSecrets(t.Context(), "5f5f0002-0000-4000-8000-000000000002", o); !strings.Contains(got.Unread, "no app registration") {
		t.Errorf("an app Graph does not know: %+v", got)
	}
	a.issuer.Forbid("/applications")
	if got := servicePrincipalSecrets(t.Context(), appID, o); !strings.Contains(got.Unread, "Application.Read.All") || len(got.Secrets) != 0 {
		t.Errorf("refused: %+v", got)
	}
}

// TestLoadServicePrincipalSecrets: a load of a cluster whose identity is a
// service principal reads its secrets' expiry with the same sign-in; a
// managed identity's cluster asks Graph nothing of it.
func TestLoadServicePrincipalSecrets(t *testing.T) {
	const (
		appID = "5f5f0001-0000-4000-8000-000000000001"
		sp    = "/subscriptions/3f2c8e1a-6b4d-4c2e-9a1f-7d8e9f0a1b2c/resourcegroups/rg-aks/providers/microsoft.containerservice/managedclusters/aks-sp"
		mi    = "/subscriptions/3f2c8e1a-6b4d-4c2e-9a1f-7d8e9f0a1b2c/resourcegroups/rg-aks/providers/microsoft.containerservice/managedclusters/aks-mi"
	)
	cluster := func(id, props string) json.RawMessage {
		return json.RawMessage(`{"id": "` + id + `", "name": "` + path.Base(id) + `", "type": "Microsoft.ContainerService/managedClusters", "properties": ` + props + `}`)
	}
	a := newFakeARM(t, fixture{ManagedClusters: []json.RawMessage{
		cluster(sp, `{"servicePrincipalProfile": {"clientId": "`+appID+`"}, "nodeResourceGroup": "mc", "nodeResourceGroupProfile": {"restrictionLevel": "ReadOnly"}}`),
		cluster(mi, `{"servicePrincipalProfile": {"clientId": "msi"}, "nodeResourceGroup": "mc", "nodeResourceGroupProfile": {"restrictionLevel": "ReadOnly"}}`)}})
	a.issuer.Directory = &entratest.Directory{Applications: []entratest.Application{{ID: "6f6f0001-0000-4000-8000-000000000001", AppID: appID,
		Passwords: []entratest.Password{{KeyID: "k1", Hint: "Zx9", End: time.Now().Add(-time.Hour)}}}}}
	o := a.options(t, appSecret)
	o.GraphURL = a.issuer.GraphAudience()
	d, err := Load(t.Context(), sp, nil, o)
	if err != nil || d.Cluster == nil {
		t.Fatalf("load: %v %+v", err, d)
	}
	if s := d.Cluster.ServicePrincipalSecrets; s == nil || s.Unread != "" || len(s.Secrets) != 1 || s.Secrets[0].KeyID != "k1" {
		t.Errorf("the service principal's secrets: %+v", s)
	}
	d, err = Load(t.Context(), mi, nil, o)
	if err != nil || d.Cluster == nil || d.Cluster.ServicePrincipalSecrets != nil {
		t.Errorf("a managed identity's cluster: %v %+v", err, d.Cluster)
	}
}
