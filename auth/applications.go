package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Application is an app registration as workload identity uses it: a pod
// that names its appId (the client id) exchanges its service-account
// token for the application's, when one of the application's federated
// identity credentials accepts the token; Azure's role assignments name
// the application's service principal.
type Application struct {
	// ID is the application object's id; AppID its client id.
	ID, AppID, DisplayName string
	FederatedCredentials   []FederatedIdentityCredential
}

// FederatedIdentityCredential is what Entra compares of a token.
type FederatedIdentityCredential struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

// permApps is what reading app registrations needs.
const permApps = "Application.Read.All (or Directory.Read.All)"

// Application reads the app registration of appID and its federated
// identity credentials (applications(appId='…') and
// …/federatedIdentityCredentials); with an error, those read. nil, nil
// when the tenant has no application of that appId (a managed identity's
// client id, or another tenant's application).
func (g *Graph) Application(ctx context.Context, appID string) (*Application, error) {
	key := "(appId='" + url.PathEscape(appID) + "')"
	var app struct {
		ID          string `json:"id"`
		AppID       string `json:"appId"`
		DisplayName string `json:"displayName"`
	}
	what := "the app registration of client id " + appID
	if err := g.do(ctx, http.MethodGet, g.BaseURL+"/v1.0/applications"+key+"?$select=id,appId,displayName", nil, &app); err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, refused(err, what, permApps)
	}
	out := &Application{ID: app.ID, AppID: app.AppID, DisplayName: app.DisplayName}
	next := g.BaseURL + "/v1.0/applications" + key + "/federatedIdentityCredentials"
	for next != "" {
		var page struct {
			Value    []FederatedIdentityCredential `json:"value"`
			NextLink string                        `json:"@odata.nextLink"`
		}
		if err := g.do(ctx, http.MethodGet, next, nil, &page); err != nil {
			return out, refused(err, "the federated credentials of "+what, permApps)
		}
		out.FederatedCredentials = append(out.FederatedCredentials, page.Value...)
		if page.NextLink != "" && !strings.HasPrefix(page.NextLink, g.BaseURL+"/") {
			// The token goes wherever the link says: only to Graph.
			return out, fmt.Errorf("the nextLink of Microsoft Graph %q leaves %s", page.NextLink, g.BaseURL)
		}
		next = page.NextLink
	}
	return out, nil
}

// ServicePrincipalID is the object id of appID's service principal in
// the tenant (what role assignments name); "" when it has none.
func (g *Graph) ServicePrincipalID(ctx context.Context, appID string) (string, error) {
	var sp struct {
		ID string `json:"id"`
	}
	if err := g.do(ctx, http.MethodGet, g.BaseURL+"/v1.0/servicePrincipals(appId='"+url.PathEscape(appID)+"')?$select=id", nil, &sp); err != nil {
		if isNotFound(err) {
			return "", nil
		}
		return "", refused(err, "the service principal of client id "+appID, permApps)
	}
	return sp.ID, nil
}

// PasswordCredential is one of an application's secrets as Graph lists
// it, less its value and hint: only what says when it expires is read.
type PasswordCredential struct {
	KeyID       string     `json:"keyId"`
	DisplayName string     `json:"displayName"`
	End         *time.Time `json:"endDateTime"`
}

// ApplicationSecrets reads the password credentials of appID's app
// registration (applications(appId='…')?$select=passwordCredentials);
// found is false when the tenant has no application of that appId.
func (g *Graph) ApplicationSecrets(ctx context.Context, appID string) (creds []PasswordCredential, found bool, err error) {
	var app struct {
		PasswordCredentials []PasswordCredential `json:"passwordCredentials"`
	}
	u := g.BaseURL + "/v1.0/applications(appId='" + url.PathEscape(appID) + "')?$select=id,appId,passwordCredentials"
	if err := g.do(ctx, http.MethodGet, u, nil, &app); err != nil {
		if isNotFound(err) {
			return nil, false, nil
		}
		return nil, false, refused(err, "the secrets of the app registration of client id "+appID, permApps)
	}
	return app.PasswordCredentials, true, nil
}
