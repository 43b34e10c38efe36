package azurearm

import (
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
