package azurerbac

import (
	"strings"
	"testing"
)

const (
	testIssuer = "https://westeurope.oic.prod-aks.azure.com/tenant/cluster/"
	testClient = "0a0a0a0a-0000-4000-8000-00000000000a"
	testIdID   = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders"
)

func identityData(creds ...FederatedCredential) *Data {
	d := &Data{}
	d.AddIdentity(ManagedIdentity{ID: testIdID, Name: "id-orders", ClientID: testClient, PrincipalID: "p-orders"})
	for _, c := range creds {
		d.AddCredential(c)
	}
	return d
}

func cred(name, issuer, subject string, audiences ...string) FederatedCredential {
	return FederatedCredential{ID: testIdID + "/federatedIdentityCredentials/" + name, Name: name, Issuer: issuer, Subject: subject, Audiences: audiences}
}

// TestMatchWorkload matches as Entra does: exact issuer (trailing slash
// included), exact subject, the exchange audience among the audiences.
func TestMatchWorkload(t *testing.T) {
	good := "system:serviceaccount:shop:orders"
	cases := []struct {
		name   string
		issuer string
		client string
		creds  []FederatedCredential
		status string
		miss   string
	}{
		{"matched", testIssuer, testClient, []FederatedCredential{cred("fc", testIssuer, good, TokenExchangeAudience)}, WorkloadMatched, ""},
		{"client id in upper case", testIssuer, strings.ToUpper(testClient), []FederatedCredential{cred("fc", testIssuer, good, TokenExchangeAudience)}, WorkloadMatched, ""},
		{"issuer mismatch", testIssuer, testClient, []FederatedCredential{cred("fc", "https://other.example/", good, TokenExchangeAudience)}, WorkloadNoCredential, "issuer"},
		{"trailing slash missing", testIssuer, testClient, []FederatedCredential{cred("fc", strings.TrimSuffix(testIssuer, "/"), good, TokenExchangeAudience)}, WorkloadNoCredential, "issuer"},
		{"issuer case differs", testIssuer, testClient, []FederatedCredential{cred("fc", strings.ToUpper(testIssuer), good, TokenExchangeAudience)}, WorkloadNoCredential, "issuer"},
		{"subject mismatch", testIssuer, testClient, []FederatedCredential{cred("fc", testIssuer, "system:serviceaccount:shop:other", TokenExchangeAudience)}, WorkloadNoCredential, "subject"},
		{"audience missing", testIssuer, testClient, []FederatedCredential{cred("fc", testIssuer, good, "api://other")}, WorkloadNoCredential, "audiences"},
		{"no credentials", testIssuer, testClient, nil, WorkloadNoCredential, ""},
		{"second credential matches", testIssuer, testClient, []FederatedCredential{cred("a", testIssuer, "x", TokenExchangeAudience), cred("b", testIssuer, good, TokenExchangeAudience)}, WorkloadMatched, ""},
		{"issuer unknown", "", testClient, []FederatedCredential{cred("fc", testIssuer, good, TokenExchangeAudience)}, WorkloadIssuerUnknown, ""},
		{"identity not read", testIssuer, "ffffffff-0000-4000-8000-00000000000f", []FederatedCredential{cred("fc", testIssuer, good, TokenExchangeAudience)}, WorkloadIdentityUnknown, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := identityData(tc.creds...).MatchWorkload(tc.issuer, "shop", "orders", tc.client)
			if m.Status != tc.status {
				t.Fatalf("status %q, want %q (%+v)", m.Status, tc.status, m)
			}
			if tc.status == WorkloadMatched && (m.Credential == nil || m.Identity == nil || m.Identity.Name != "id-orders") {
				t.Fatalf("matched without its path: %+v", m)
			}
			if tc.status != WorkloadMatched && m.Credential != nil {
				t.Fatalf("a credential given without a match: %+v", m)
			}
			if tc.miss != "" && (len(m.Misses) != 1 || !strings.Contains(m.Misses[0].Why, tc.miss)) {
				t.Fatalf("misses %+v, want one naming %q", m.Misses, tc.miss)
			}
		})
	}
}

// TestIdentityMerge keeps credentials read before their identity, and
// the identity's assignments at any scope with role names.
func TestIdentityMerge(t *testing.T) {
	d := &Data{}
	d.AddCredential(cred("fc", testIssuer, "system:serviceaccount:shop:orders", TokenExchangeAudience))
	if len(d.Identities) != 1 || d.Identities[0].ClientID != "" {
		t.Fatalf("credential's parent: %+v", d.Identities)
	}
	if m := d.MatchWorkload(testIssuer, "shop", "orders", testClient); m.Status != WorkloadIdentityUnknown {
		t.Fatalf("matched an identity without a client id: %+v", m)
	}
	d.AddIdentity(ManagedIdentity{ID: strings.ToLower(testIdID), Name: "id-orders", ClientID: testClient, PrincipalID: "p-orders"})
	if len(d.Identities) != 1 || len(d.Identities[0].FederatedCredentials) != 1 || d.Identities[0].ClientID != testClient {
		t.Fatalf("merge: %+v", d.Identities)
	}
	d.Assignments = []Assignment{
		{ID: "a1", Scope: "/subscriptions/s", PrincipalID: "P-ORDERS", RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"},
		{ID: "a2", Scope: "/subscriptions/s/resourceGroups/data/providers/Microsoft.Storage/storageAccounts/st", PrincipalID: "p-orders", RoleDefinitionID: "/x/roleDefinitions/11111111-1111-4111-8111-111111111111"},
		{ID: "a3", Scope: "/subscriptions/s", PrincipalID: "someone-else", RoleDefinitionID: "/x/roleDefinitions/11111111-1111-4111-8111-111111111111"},
	}
	got := d.AssignmentsOfIdentity(&d.Identities[0])
	if len(got) != 2 || got[0].RoleName != "Contributor" || got[1].RoleName != "11111111-1111-4111-8111-111111111111" {
		t.Fatalf("assignments of the identity: %+v", got)
	}
}

func TestRoleWrites(t *testing.T) {
	d := &Data{Roles: []RoleDefinition{
		{ID: "/x/roleDefinitions/reader-like", Name: "Blob Reader", Permissions: []Permission{{Actions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/read"}, DataActions: []string{"Microsoft.Storage/*/read"}}}},
		{ID: "/x/roleDefinitions/writer-like", Name: "Blob Writer", Permissions: []Permission{{Actions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/write"}}}},
	}}
	for id, want := range map[string][2]bool{
		"/x/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c": {true, true},  // Contributor, built in
		"/x/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7": {false, true}, // Reader, built in
		"/x/roleDefinitions/reader-like":                          {false, true},
		"/x/roleDefinitions/writer-like":                          {true, true},
		"/x/roleDefinitions/unknown":                              {false, false},
	} {
		if w, k := d.RoleWrites(id); w != want[0] || k != want[1] {
			t.Errorf("%s: writes %v known %v, want %v", id, w, k, want)
		}
	}
}

// TestCredentialsAccepting finds every identity whose credential accepts
// an account's tokens, annotation or not, and the accounts credentials on
// the issuer name.
func TestCredentialsAccepting(t *testing.T) {
	d := identityData(cred("a", testIssuer, "system:serviceaccount:shop:orders", TokenExchangeAudience),
		cred("b", testIssuer, "system:serviceaccount:shop:ghost", TokenExchangeAudience),
		cred("c", "https://other/", "system:serviceaccount:shop:elsewhere", TokenExchangeAudience),
		cred("d", testIssuer, "system:serviceaccount:shop:noaud", "api://other"),
		cred("e", testIssuer, "repo:org/app:ref:refs/heads/main", TokenExchangeAudience))
	if got := d.CredentialsAccepting(testIssuer, "shop", "orders"); len(got) != 1 || got[0].Credential.Name != "a" || got[0].Identity.Name != "id-orders" {
		t.Errorf("orders: %+v", got)
	}
	for _, name := range []string{"elsewhere", "noaud"} {
		if got := d.CredentialsAccepting(testIssuer, "shop", name); len(got) != 0 {
			t.Errorf("%s: %+v", name, got)
		}
	}
	if got := d.CredentialsAccepting("", "shop", "orders"); len(got) != 0 {
		t.Errorf("issuer unknown: %+v", got)
	}
	got := d.FederatedAccounts(testIssuer)
	want := [][2]string{{"shop", "orders"}, {"shop", "ghost"}, {"shop", "noaud"}}
	if len(got) != len(want) {
		t.Fatalf("accounts: %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("accounts: %v, want %v", got, want)
		}
	}
}
