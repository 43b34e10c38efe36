package entratest

import (
	"net/http"
	"net/url"
	"strings"
)

// Application is an app registration Graph serves by its appId
// (applications(appId='…'), its federatedIdentityCredentials, and
// servicePrincipals(appId='…') when ServicePrincipalID is set).
type Application struct {
	ID, AppID, DisplayName, ServicePrincipalID string
	FederatedCredentials                       []FederatedCredential
}

// FederatedCredential is a federated identity credential of an
// application.
type FederatedCredential struct {
	ID, Name, Issuer, Subject string
	Audiences                 []string
}

// byAppID answers applications(appId='…')[/federatedIdentityCredentials]
// and servicePrincipals(appId='…'); false for any other path.
func (is *Issuer) byAppID(path string, q url.Values, parts []string) (answer, bool) {
	kind, rest, ok := strings.Cut(parts[0], "(appId='")
	if !ok || !strings.HasSuffix(rest, "')") || kind != "applications" && kind != "servicePrincipals" {
		return answer{}, false
	}
	appID := strings.TrimSuffix(rest, "')")
	var app *Application
	for i, a := range is.dir().Applications {
		if strings.EqualFold(a.AppID, appID) {
			app = &is.dir().Applications[i]
		}
	}
	notFound := graphError(http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+appID+"' does not exist or one of its queried reference-property objects are not present.")
	switch {
	case app == nil || kind == "servicePrincipals" && app.ServicePrincipalID == "":
		return notFound, true
	case kind == "servicePrincipals" && len(parts) == 1:
		return answer{status: http.StatusOK, body: map[string]any{"id": app.ServicePrincipalID, "appId": app.AppID}}, true
	case kind == "applications" && len(parts) == 1:
		return answer{status: http.StatusOK, body: map[string]any{"id": app.ID, "appId": app.AppID, "displayName": app.DisplayName}}, true
	case kind == "applications" && len(parts) == 2 && parts[1] == "federatedIdentityCredentials":
		var vals []map[string]any
		for _, c := range app.FederatedCredentials {
			vals = append(vals, map[string]any{"id": c.ID, "name": c.Name, "issuer": c.Issuer, "subject": c.Subject, "audiences": c.Audiences})
		}
		return is.page(path, q, vals), true
	}
	return notFound, true
}
