package cmd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// fxMSI is the loopback ARM's user-assigned managed identities,
// served on armmsi's paths as ARM shapes them, and what the managed
// cluster says of its OIDC issuer and kubelet identity.
type fxMSI struct {
	list []fxMI
	// issuer is oidcIssuerProfile.issuerUrl; kubelet the kubelet
	// identity's object id (identityProfile.kubeletidentity).
	issuer, kubelet string
	// addons are the enabled add-ons' identities' object ids, by add-on.
	addons map[string]string
	// networkPolicy is networkProfile.networkPolicy (the engine).
	networkPolicy string
	// forbid answers 403 on the lists whose lower-case path ends so.
	forbid []string
	// credWrites counts the federated credentials deleted or created
	// (under the fixture's lock, as every request is served).
	credWrites int
}

// fxMI is one managed identity and its federated credentials.
type fxMI struct {
	id, name, clientID, principalID string
	creds                           []azurerbac.FederatedCredential
}

const msiProvider = "/providers/microsoft.managedidentity/userassignedidentities"

// serve answers the identities' paths; false for any other.
func (m *fxMSI) serve(w http.ResponseWriter, r *http.Request, write func(any)) bool {
	lower := strings.ToLower(r.URL.Path)
	if lower == "/providers/microsoft.resourcegraph/resources" && r.Method == http.MethodPost {
		// Azure Resource Graph: the identities by client id, in every
		// subscription (the loader asks for those the cluster's lacks).
		var req struct {
			Query string `json:"query"`
		}
		if json.NewDecoder(r.Body).Decode(&req) != nil || !strings.Contains(req.Query, "microsoft.managedidentity/userassignedidentities") {
			w.WriteHeader(http.StatusBadRequest)
			return true
		}
		rows := []map[string]any{}
		for _, x := range m.list {
			// Resource Graph leaves out what the caller may not read.
			hidden := slices.ContainsFunc(m.forbid, func(f string) bool { return f == msiProvider })
			if !hidden && strings.Contains(req.Query, "'"+strings.ToLower(x.clientID)+"'") {
				rows = append(rows, map[string]any{"id": x.id, "name": x.name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "location": "eastus",
					"properties": map[string]any{"clientId": x.clientID, "principalId": x.principalID, "tenantId": fxTenant}})
			}
		}
		write(map[string]any{"totalRecords": len(rows), "count": len(rows), "resultTruncated": "false", "data": rows})
		return true
	}
	if !strings.Contains(lower, msiProvider) {
		return false
	}
	for _, f := range m.forbid {
		if strings.HasSuffix(lower, f) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error":{"code":"AuthorizationFailed","message":"The client does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/read'."}}`)
			return true
		}
	}
	if r.URL.Query().Get("api-version") != "2024-11-30" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"code":"InvalidApiVersionParameter","message":"the test server serves 2024-11-30"}}`)
		return true
	}
	if i := strings.Index(lower, "/federatedidentitycredentials/"); i >= 0 {
		m.credential(w, r, write, lower[:i])
		return true
	}
	var out []map[string]any
	switch {
	case strings.HasSuffix(lower, msiProvider) && strings.HasPrefix(lower, "/subscriptions/") && strings.Count(lower, "/") == 5:
		// Every identity of the subscription.
		for _, x := range m.list {
			if strings.HasPrefix(strings.ToLower(x.id), strings.TrimSuffix(lower, msiProvider)+"/") {
				out = append(out, map[string]any{"id": x.id, "name": x.name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "location": "eastus",
					"properties": map[string]any{"clientId": x.clientID, "principalId": x.principalID, "tenantId": fxTenant}})
			}
		}
	case strings.HasSuffix(lower, "/federatedidentitycredentials"):
		parent := strings.TrimSuffix(lower, "/federatedidentitycredentials")
		for _, x := range m.list {
			if strings.ToLower(x.id) != parent {
				continue
			}
			for _, c := range x.creds {
				out = append(out, map[string]any{"id": c.ID, "name": c.Name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
					"properties": map[string]any{"issuer": c.Issuer, "subject": c.Subject, "audiences": c.Audiences}})
			}
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"code":"ResourceNotFound","message":"not served"}}`)
		return true
	}
	write(map[string]any{"value": out})
	return true
}

// credential serves one federated credential of identity parent (its
// lower-case id) by id, as armmsi's Get, Delete and CreateOrUpdate call it.
func (m *fxMSI) credential(w http.ResponseWriter, r *http.Request, write func(any), parent string) {
	x := slices.IndexFunc(m.list, func(x fxMI) bool { return strings.ToLower(x.id) == parent })
	if x < 0 {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"code":"ResourceNotFound","message":"no such identity"}}`)
		return
	}
	mi := &m.list[x]
	i := slices.IndexFunc(mi.creds, func(c azurerbac.FederatedCredential) bool { return strings.EqualFold(c.ID, r.URL.Path) })
	body := func(c azurerbac.FederatedCredential) map[string]any {
		return map[string]any{"id": c.ID, "name": c.Name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
			"properties": map[string]any{"issuer": c.Issuer, "subject": c.Subject, "audiences": c.Audiences}}
	}
	switch r.Method {
	case http.MethodGet:
		if i < 0 {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"NotFound","message":"The federated identity credential does not exist."}}`)
			return
		}
		write(body(mi.creds[i]))
	case http.MethodDelete:
		if i < 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		mi.creds = slices.Delete(mi.creds, i, i+1)
		m.credWrites++
		w.WriteHeader(http.StatusOK)
	case http.MethodPut:
		var in struct {
			Properties struct {
				Issuer, Subject string
				Audiences       []string
			} `json:"properties"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		c := azurerbac.FederatedCredential{ID: r.URL.Path, Name: r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:], Issuer: in.Properties.Issuer, Subject: in.Properties.Subject, Audiences: in.Properties.Audiences}
		if i >= 0 {
			mi.creds[i] = c
		} else {
			mi.creds = append(mi.creds, c)
		}
		m.credWrites++
		write(body(c))
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// clusterProperties adds the issuer and the kubelet identity to the
// managed cluster's properties.
func (m *fxMSI) clusterProperties(p map[string]any) map[string]any {
	if m.issuer != "" {
		p["oidcIssuerProfile"] = map[string]any{"enabled": true, "issuerUrl": m.issuer}
		p["securityProfile"] = map[string]any{"workloadIdentity": map[string]any{"enabled": true}}
	}
	if m.kubelet != "" {
		p["identityProfile"] = map[string]any{"kubeletidentity": map[string]any{"objectId": m.kubelet}}
	}
	if m.networkPolicy != "" {
		p["networkProfile"] = map[string]any{"networkPlugin": "azure", "networkPolicy": m.networkPolicy}
	}
	for name, oid := range m.addons {
		if p["addonProfiles"] == nil {
			p["addonProfiles"] = map[string]any{}
		}
		p["addonProfiles"].(map[string]any)[name] = map[string]any{"enabled": true, "identity": map[string]any{"objectId": oid, "clientId": "unused", "resourceId": "unused"}}
	}
	return p
}

// assignedTo is the principal of ARM's $filter=assignedTo('ID').
func assignedTo(filter string) (string, bool) {
	rest, ok := strings.CutPrefix(filter, "assignedTo('")
	if !ok || !strings.HasSuffix(rest, "')") {
		return "", false
	}
	return strings.TrimSuffix(rest, "')"), true
}
