package cmd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/internal/testkit/entratest"
)

// clusterIssuer is the API server's service-account issuer, from its
// OIDC discovery document, and the keys it signs tokens with (its JWKS):
// what Entra reads from a cluster's OIDC issuer URL.
func clusterIssuer(t *testing.T, cs kubernetes.Interface) (string, []byte) {
	t.Helper()
	b, err := cs.CoreV1().RESTClient().Get().AbsPath("/.well-known/openid-configuration").DoRaw(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Issuer == "" {
		t.Fatalf("the API server's discovery document: %v\n%s", err, b)
	}
	jwks, err := cs.CoreV1().RESTClient().Get().AbsPath("/openid/v1/jwks").DoRaw(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return doc.Issuer, jwks
}

// trustCluster makes the loopback Entra issuer accept the cluster's
// service-account tokens for the identities' federated credentials, as
// Entra does for the identities ARM and Graph hold.
func trustCluster(t *testing.T, a *fxARM, issuer string, jwks []byte, apps []entratest.Application) {
	t.Helper()
	keys, err := entratest.ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	fed := map[string]entratest.FederatedClient{}
	for _, m := range a.mi.list {
		var creds []entratest.FederatedCredential
		for _, c := range m.creds {
			creds = append(creds, entratest.FederatedCredential{ID: c.ID, Name: c.Name, Issuer: c.Issuer, Subject: c.Subject, Audiences: c.Audiences})
		}
		fed[m.clientID] = entratest.FederatedClient{OID: m.principalID, Credentials: creds}
	}
	for _, app := range apps {
		fed[app.AppID] = entratest.FederatedClient{OID: app.ServicePrincipalID, Credentials: app.FederatedCredentials}
	}
	a.issuer.Federate(fed, map[string][]entratest.VerificationKey{issuer: keys})
}

// exchange does what a pod of service account ns/name does under
// workload identity: a token of the account for api://AzureADTokenExchange
// from the API server (TokenRequest, as the projected volume gets it),
// exchanged at the Entra issuer for clientID's ARM token with azidentity's
// client assertion credential (the workload identity credential's grant).
// It returns the token's oid, or the exchange's error.
func exchange(t *testing.T, cs kubernetes.Interface, a *fxARM, ns, name, clientID string) (string, error) {
	t.Helper()
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(t.Context(), name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: []string{azurerbac.TokenExchangeAudience}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return exchangeAssertion(t, a, clientID, tr.Status.Token)
}

// exchangeAssertion exchanges assertion for clientID's ARM token; the
// token's oid, or the exchange's error.
func exchangeAssertion(t *testing.T, a *fxARM, clientID, assertion string) (string, error) {
	t.Helper()
	hc := a.options(t).ClientOptions.Transport
	cred, err := azidentity.NewClientAssertionCredential(fxTenant, clientID, func(context.Context) (string, error) { return assertion, nil },
		&azidentity.ClientAssertionCredentialOptions{ClientOptions: azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: a.issuer.Authority()}, Transport: hc},
			DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{fxAudience + "/.default"}})
	if err != nil {
		return "", err
	}
	parts := strings.Split(tok.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok.Token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		OID string `json:"oid"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.OID, nil
}
