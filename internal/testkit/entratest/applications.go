package entratest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Application is an app registration Graph serves by its appId
// (applications(appId='…'), its federatedIdentityCredentials, and
// servicePrincipals(appId='…') when ServicePrincipalID is set).
type Application struct {
	ID, AppID, DisplayName, ServicePrincipalID string
	FederatedCredentials                       []FederatedCredential
	// Passwords are its password credentials (passwordCredentials, with
	// Graph's hint of each; secretText is null, as Graph reads it).
	Passwords []Password
}

// Password is one password credential of an application; a zero End is
// none.
type Password struct {
	KeyID, DisplayName, Hint string
	End                      time.Time
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
		body := map[string]any{"id": app.ID, "appId": app.AppID, "displayName": app.DisplayName}
		if strings.Contains(q.Get("$select"), "passwordCredentials") {
			creds := []map[string]any{}
			for _, p := range app.Passwords {
				c := map[string]any{"keyId": p.KeyID, "displayName": p.DisplayName, "hint": p.Hint, "secretText": nil, "customKeyIdentifier": nil,
					"startDateTime": "2025-01-01T00:00:00Z", "endDateTime": nil}
				if !p.End.IsZero() {
					c["endDateTime"] = p.End.UTC().Format(time.RFC3339)
				}
				creds = append(creds, c)
			}
			body["passwordCredentials"] = creds
		}
		return answer{status: http.StatusOK, body: body}, true
	case kind == "applications" && len(parts) == 2 && parts[1] == "federatedIdentityCredentials":
		var vals []map[string]any
		for _, c := range app.FederatedCredentials {
			vals = append(vals, map[string]any{"id": c.ID, "name": c.Name, "issuer": c.Issuer, "subject": c.Subject, "audiences": c.Audiences})
		}
		return is.page(path, q, vals), true
	}
	return notFound, true
}
