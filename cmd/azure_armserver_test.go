package cmd

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/kubectl-access/kubectl-access/azurearm"
	"github.com/kubectl-access/kubectl-access/internal/testkit/entratest"
	"github.com/kubectl-access/kubectl-access/internal/testkit/guardhook"
)

// fxARM serves the differential fixture as Azure Resource Manager does, on
// loopback TLS, to the real armauthorization client: role assignments,
// deny assignments and PIM's eligible assignments listed at a scope with
// $filter=atScope() (those at the
// scope and above it, management groups' included), role definitions by
// id, the managed cluster (its fqdn the local API server's host). Every
// call needs a token of the loopback Entra issuer.
type fxARM struct {
	fx       *azureFixture
	host     string // the API server's host, as the cluster's fqdn
	srv      *httptest.Server
	issuer   *entratest.Issuer
	requests atomic.Int64
	writes   atomic.Int64
	// eligible are PIM's role eligibility schedule instances (ARM's JSON,
	// set under fx's lock); forbidEligible makes their list a 403.
	eligible       []map[string]any
	forbidEligible atomic.Bool
	// The managed identities and the managed cluster's issuer and kubelet
	// identity (azure_identity_armserver_test.go); none by default.
	mi fxMSI
	// aks, when set, serves the managed cluster whole, with its ETag, and
	// its writes (aks_apply_test.go).
	aks *fxAKS
}

// eligibleInstance is a role eligibility schedule instance as ARM lists it.
func eligibleInstance(scope, guid, principal, principalType, roleID, end string) map[string]any {
	return map[string]any{"id": scope + "/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/" + guid, "name": guid,
		"type": "Microsoft.Authorization/roleEligibilityScheduleInstances",
		"properties": map[string]any{"scope": scope, "principalId": principal, "principalType": principalType, "roleDefinitionId": roleID,
			"roleEligibilityScheduleId": scope + "/providers/Microsoft.Authorization/roleEligibilitySchedules/" + guid,
			"status":                    "Provisioned", "memberType": "Direct", "startDateTime": "2026-01-01T00:00:00Z", "endDateTime": end}}
}

// fxBroadGroup is the index of the group Graph counts 500 members in;
// fxGoneSP the service principal Graph does not know.
const fxBroadGroup = 3

var fxGoneSP = fxGUID('c', 2)

const (
	fxTenant    = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	fxAppID     = "5e4e1ce0-0000-4000-8000-0000000000c2"
	fxAppSecret = "arm-secret-never-printed"
	fxAudience  = "https://management.core.windows.net/"
)

func newFxARM(t *testing.T, fx *azureFixture, apiServer string) *fxARM {
	t.Helper()
	is, err := entratest.Start(fxTenant, fxAudience, map[string]entratest.Client{
		fxAppID: {Secret: fxAppSecret, Identity: entratest.Identity{UPN: "auditor@contoso.com", OID: fxAppID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	u, err := url.Parse(apiServer)
	if err != nil {
		t.Fatal(err)
	}
	// The issuer's Graph knows the fixture's principals, as Entra would:
	// users by UPN, groups by name (fxBroadGroup with 500 members), and
	// every service principal but fxGoneSP (deleted).
	is.Users, is.GroupNames, is.ServicePrincipals = map[string]string{}, map[string]string{}, map[string]string{}
	is.GroupMembers = map[string]int{}
	for _, u := range fx.Users {
		is.Users[u.OID] = u.UPN
	}
	for i, g := range fx.Groups {
		is.GroupNames[g] = fmt.Sprintf("team-%d", i)
		is.GroupMembers[g] = 3
	}
	if len(fx.Groups) > fxBroadGroup { // a fixture of its own may have none
		is.GroupMembers[fx.Groups[fxBroadGroup]] = 500
	}
	for i := range 3 {
		if id := fxGUID('c', i); id != fxGoneSP {
			is.ServicePrincipals[id] = fmt.Sprintf("sp-%d", i)
		}
	}
	a := &fxARM{fx: fx, host: u.Hostname(), issuer: is}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fxARM) serve(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	p := r.URL.Path
	lower := strings.ToLower(p)
	const authz = "/providers/microsoft.authorization/"
	write := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	atScope := func(scope string) bool { return r.URL.Query().Get("$filter") == "atScope()" && scope != "" }
	a.fx.Lock()
	defer a.fx.Unlock()
	if a.mi.serve(w, r, write) || a.aks != nil && a.aks.serve(w, r, write) {
		return
	}
	switch {
	case strings.Contains(lower, authz+"roleassignments/"):
		a.assignment(w, r, write)
	case p == "/subscriptions":
		// The fixture's subscription, and another with no cluster.
		sub := a.fx.Cluster[:strings.Index(a.fx.Cluster, "/resourceGroups/")]
		write(map[string]any{"value": []map[string]any{{"id": sub, "subscriptionId": sub[len("/subscriptions/"):]},
			{"id": "/subscriptions/00000000-0000-4000-8000-0000000000ee", "subscriptionId": "00000000-0000-4000-8000-0000000000ee"}}})
	case strings.HasSuffix(lower, "/providers/microsoft.containerservice/managedclusters") && strings.HasPrefix(lower, "/subscriptions/"):
		var out []map[string]any
		if strings.HasPrefix(strings.ToLower(a.fx.Cluster), lower[:len(lower)-len("/providers/microsoft.containerservice/managedclusters")]+"/") {
			out = append(out, map[string]any{"id": a.fx.Cluster, "name": "aks-prod", "type": "Microsoft.ContainerService/managedClusters",
				"properties": map[string]any{"fqdn": a.host}})
		}
		write(map[string]any{"value": out})
	case strings.EqualFold(p, a.fx.Cluster):
		write(map[string]any{"id": a.fx.Cluster, "name": "aks-prod", "type": "Microsoft.ContainerService/managedClusters",
			"properties": a.mi.clusterProperties(map[string]any{"fqdn": a.host})})
	case strings.HasSuffix(lower, authz+"roleassignments"):
		scope := p[:len(p)-len(authz+"roleassignments")]
		if principal, ok := assignedTo(r.URL.Query().Get("$filter")); ok {
			// A principal's assignments wherever they are in the
			// subscription and above it (az role assignment list --all).
			var out []map[string]any
			for _, x := range a.fx.Assignments {
				if x.PrincipalID == principal && (guardhook.Under(x.Scope, scope) || guardhook.Under(scope, x.Scope)) {
					out = append(out, map[string]any{"id": x.ID, "name": x.ID[strings.LastIndex(x.ID, "/")+1:], "type": "Microsoft.Authorization/roleAssignments",
						"properties": map[string]any{"scope": x.Scope, "principalId": x.PrincipalID, "principalType": x.PrincipalType, "roleDefinitionId": x.RoleID}})
				}
			}
			write(map[string]any{"value": out})
			return
		}
		if !atScope(scope) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var out []map[string]any
		for _, x := range a.fx.Assignments {
			if guardhook.Under(scope, x.Scope) || strings.Contains(strings.ToLower(x.Scope), "/managementgroups/") {
				out = append(out, map[string]any{"id": x.ID, "name": x.ID[strings.LastIndex(x.ID, "/")+1:], "type": "Microsoft.Authorization/roleAssignments",
					"properties": map[string]any{"scope": x.Scope, "principalId": x.PrincipalID, "principalType": x.PrincipalType, "roleDefinitionId": x.RoleID}})
			}
		}
		write(map[string]any{"value": out})
	case strings.HasSuffix(lower, authz+"denyassignments"):
		scope := p[:len(p)-len(authz+"denyassignments")]
		if !atScope(scope) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var out []map[string]any
		for _, d := range a.fx.Denies {
			if !guardhook.Under(scope, d.Scope) {
				continue
			}
			var ps, ex []map[string]string
			for _, id := range d.Principals {
				ps = append(ps, map[string]string{"id": id, "type": "Group"})
			}
			for _, id := range d.Exclude {
				ex = append(ex, map[string]string{"id": id, "type": "User"})
			}
			out = append(out, map[string]any{"id": d.Scope + "/providers/Microsoft.Authorization/denyAssignments/" + d.ID, "name": d.ID, "type": "Microsoft.Authorization/denyAssignments",
				"properties": map[string]any{"denyAssignmentName": d.ID, "scope": d.Scope, "doNotApplyToChildScopes": d.NoChildren, "principals": ps, "excludePrincipals": ex,
					"permissions": []map[string]any{{"actions": []string{}, "notActions": []string{}, "dataActions": d.Perm.DataActions, "notDataActions": d.Perm.NotDataActions}}}})
		}
		write(map[string]any{"value": out})
	case strings.HasSuffix(lower, authz+"roleeligibilityscheduleinstances"):
		scope := p[:len(p)-len(authz+"roleeligibilityscheduleinstances")]
		if !atScope(scope) || r.URL.Query().Get("api-version") != "2020-10-01" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if a.forbidEligible.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error":{"code":"AuthorizationFailed","message":"The client does not have authorization to perform action 'Microsoft.Authorization/roleEligibilityScheduleInstances/read'."}}`)
			return
		}
		var out []map[string]any
		for _, e := range a.eligible {
			if guardhook.Under(scope, e["properties"].(map[string]any)["scope"].(string)) {
				out = append(out, e)
			}
		}
		write(map[string]any{"value": out})
	case strings.Contains(lower, authz+"roledefinitions/"):
		for _, role := range a.fx.Roles {
			if strings.EqualFold(role.ID[strings.LastIndex(role.ID, "/")+1:], p[strings.LastIndex(p, "/")+1:]) {
				var perms []map[string]any
				for _, pm := range role.Perms {
					perms = append(perms, map[string]any{"actions": []string{}, "notActions": []string{}, "dataActions": pm.DataActions, "notDataActions": pm.NotDataActions})
				}
				write(map[string]any{"id": role.ID, "name": role.ID[strings.LastIndex(role.ID, "/")+1:], "type": "Microsoft.Authorization/roleDefinitions",
					"properties": map[string]any{"roleName": role.Name, "type": "CustomRole", "permissions": perms}})
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"code":"RoleDefinitionDoesNotExist","message":"The specified role definition does not exist."}}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"code":"InvalidResourceType","message":"The resource type could not be found."}}`)
	}
}

// assignment serves one role assignment by id: GET, PUT (create), DELETE.
func (a *fxARM) assignment(w http.ResponseWriter, r *http.Request, write func(any)) {
	id := r.URL.Path
	i := slices.IndexFunc(a.fx.Assignments, func(x fxAssignment) bool { return strings.EqualFold(x.ID, id) })
	body := func(x fxAssignment) map[string]any {
		return map[string]any{"id": x.ID, "name": x.ID[strings.LastIndex(x.ID, "/")+1:], "type": "Microsoft.Authorization/roleAssignments",
			"properties": map[string]any{"scope": x.Scope, "principalId": x.PrincipalID, "principalType": x.PrincipalType, "roleDefinitionId": x.RoleID}}
	}
	switch r.Method {
	case http.MethodGet:
		if i < 0 {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"RoleAssignmentNotFound","message":"The role assignment does not exist."}}`)
			return
		}
		write(body(a.fx.Assignments[i]))
	case http.MethodDelete:
		if i < 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		x := a.fx.Assignments[i]
		a.fx.Assignments = slices.Delete(a.fx.Assignments, i, i+1)
		a.writes.Add(1)
		write(body(x))
	case http.MethodPut:
		var in struct {
			Properties struct{ PrincipalID, RoleDefinitionID, PrincipalType string } `json:"properties"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || i >= 0 {
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"error":{"code":"RoleAssignmentExists","message":"The role assignment already exists."}}`)
			return
		}
		scope := id[:strings.Index(strings.ToLower(id), "/providers/microsoft.authorization/roleassignments/")]
		x := fxAssignment{ID: id, Scope: scope, PrincipalID: in.Properties.PrincipalID, PrincipalType: in.Properties.PrincipalType, RoleID: in.Properties.RoleDefinitionID}
		a.fx.Assignments = append(a.fx.Assignments, x)
		a.writes.Add(1)
		w.WriteHeader(http.StatusCreated)
		write(body(x))
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// options reach the loopback ARM with a real azidentity credential of the
// loopback issuer.
func (a *fxARM) options(t *testing.T) *azurearm.Options {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.issuer.CAPEM())
	pool.AddCert(a.srv.Certificate())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	cred, err := azidentity.NewClientSecretCredential(fxTenant, fxAppID, fxAppSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: a.issuer.Authority()}, Transport: hc},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &azurearm.Options{Credential: cred, GraphURL: a.issuer.GraphAudience(), ClientOptions: &arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: a.issuer.Authority(),
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {Endpoint: a.srv.URL, Audience: fxAudience}}},
		Transport: hc,
	}}}
}
