package azurearm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// The fixture's names (testdata/arm.json).
const (
	sub      = "/subscriptions/3f2c8e1a-6b4d-4c2e-9a1f-7d8e9f0a1b2c"
	sub2     = "/subscriptions/9b1d2c3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e"
	group    = sub + "/resourceGroups/rg-aks"
	cluster  = group + "/providers/Microsoft.ContainerService/managedClusters/aks-dev"
	reader   = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
	writer   = "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
	admin    = "3498e952-d568-435e-9b2c-8d77e338d7f7"
	cadmin   = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
	missing  = "5d3c1b2a-0000-4000-8000-00000000dead"
	alice    = "a11ce000-0000-4000-8000-000000000001"
	teamA    = "7ea3a000-0000-4000-8000-00000000000a"
	devFQDN  = "aks-dev-k3j2h1g0.hcp.westeurope.azmk8s.io"
	prodFQDN = "aks-prod-9f8e7d6c.hcp.westeurope.azmk8s.io"

	assignmentsOf = "/providers/Microsoft.Authorization/roleAssignments"
	deniesOf      = "/providers/Microsoft.Authorization/denyAssignments"
	eligibleOf    = "/providers/Microsoft.Authorization/roleEligibilityScheduleInstances"
)

func roleID(guid string) string {
	return sub + "/providers/Microsoft.Authorization/roleDefinitions/" + guid
}

func names[T any](xs []T, id func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, path.Base(id(x)))
	}
	return out
}

func assignmentNames(d *azurerbac.Data) []string {
	return names(d.Assignments, func(a azurerbac.Assignment) string { return a.ID })
}

func TestLoad(t *testing.T) {
	a := newFakeARM(t, loadFixture(t))
	o := a.options(t, appSecret)
	var progress [][2]int
	o.Progress = func(done, total int) { progress = append(progress, [2]int{done, total}) }

	d, err := Load(t.Context(), cluster, []string{"web", "api"}, o)
	if err != nil {
		t.Fatal(err)
	}

	// The cluster's list brings what is inherited (management group,
	// subscription, resource group) and not another cluster's; the
	// namespaces' lists bring only their own.
	want := []string{
		// The management group, the subscription, the resource group.
		"06a90000-0000-4000-8000-000000000006", "05ab0000-0000-4000-8000-000000000005", "009a0000-0000-4000-8000-000000000004",
		// The cluster.
		"0c1a0000-0000-4000-8000-000000000001", "0c1a0000-0000-4000-8000-000000000002", "0c1a0000-0000-4000-8000-000000000003",
		// web, then api.
		"07e80000-0000-4000-8000-000000000007", "07e80000-0000-4000-8000-000000000008",
		"0a910000-0000-4000-8000-000000000009", "0a910000-0000-4000-8000-00000000000a",
	}
	if diff := cmp.Diff(want, assignmentNames(d)); diff != "" {
		t.Errorf("assignments (-want +got):\n%s", diff)
	}
	// The managed cluster's own settings come with it (ARM's GET, its
	// JSON's own capitalisation: enableRBAC, enableAzureRBAC).
	if c := d.Cluster; c == nil || !strings.EqualFold(c.ID, cluster) || !c.AzureRBAC() || !c.RBAC() || !c.LocalAccounts() || d.ClusterGap != "" {
		t.Errorf("the managed cluster: %+v (gap %q)", c, d.ClusterGap)
	}
	// A cluster ARM does not serve the settings of (404 here; 403 alike):
	// the role assignments still load, and the gap says why the settings
	// are missing.
	gone := newFakeARM(t, loadFixture(t))
	if dg, errg := Load(t.Context(), strings.Replace(cluster, "aks-dev", "aks-gone", 1), nil, gone.options(t, appSecret)); errg != nil || dg.Cluster != nil || !strings.Contains(dg.ClusterGap, "could not be read") {
		t.Errorf("an unreadable managed cluster: %v %+v", errg, dg)
	}
	wantA := azurerbac.Assignment{
		ID:    cluster + assignmentsOf + "/0c1a0000-0000-4000-8000-000000000002",
		Scope: cluster, PrincipalID: teamA, PrincipalType: "Group", RoleDefinitionID: roleID(writer),
		Condition: "@Resource[Microsoft.ContainerService/managedClusters/namespaces:name] StringEquals 'web'",
	}
	if diff := cmp.Diff(wantA, d.Assignments[4]); diff != "" {
		t.Errorf("assignment (-want +got):\n%s", diff)
	}

	// Each role read once by GUID, although the management group's
	// assignment names the cluster admin role by its tenant id and the
	// api namespace's by its subscription id; the role ARM does not know
	// is left out, without a gap.
	if diff := cmp.Diff([]string{admin, reader, writer, cadmin}, names(d.Roles, func(r azurerbac.RoleDefinition) string { return r.ID })); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if n := a.requestsContaining("/roleDefinitions/"); n != 5 {
		t.Errorf("role definition reads = %d, want 5 (4 roles and the missing one, once each)", n)
	}
	if n := a.requestsContaining("/roleDefinitions/" + cadmin); n != 1 {
		t.Errorf("cluster admin role read %d times, want 1", n)
	}
	const ct = "Microsoft.ContainerService/managedClusters"
	wantR := azurerbac.RoleDefinition{ID: roleID(admin), Name: "Azure Kubernetes Service RBAC Admin",
		Permissions: []azurerbac.Permission{{Actions: []string{"Microsoft.Authorization/*/read"}, DataActions: []string{ct + "/*"}, NotDataActions: []string{ct + "/resourcequotas/write", ct + "/namespaces/write"}}}}
	if diff := cmp.Diff(wantR, d.Roles[0]); diff != "" {
		t.Errorf("role (-want +got):\n%s", diff)
	}
	if _, ok := d.Role(roleID(missing)); ok {
		t.Errorf("the missing role is known")
	}

	// Six assignments at the cluster's scope and above, two a page.
	if n := a.requestsTo(cluster + assignmentsOf); n != 3 {
		t.Errorf("cluster assignment pages = %d, want 3", n)
	}

	wantD := []azurerbac.DenyAssignment{
		{ID: group + deniesOf + "/de0a0000-0000-4000-8000-000000000002", Scope: group,
			Permissions: []azurerbac.Permission{{Actions: []string{"*/delete"}, DataActions: []string{ct + "/*/delete"}, NotDataActions: []string{ct + "/pods/delete"}}},
			Principals:  []string{"b0b00000-0000-4000-8000-000000000002"}},
		{ID: cluster + deniesOf + "/de0c0000-0000-4000-8000-000000000001", Scope: cluster,
			Permissions:       []azurerbac.Permission{{DataActions: []string{ct + "/secrets/*"}}},
			Principals:        []string{azurerbac.Everyone},
			ExcludePrincipals: []string{"5e4e1ce0-0000-4000-8000-0000000000c1"}, DoNotApplyToChildScopes: true},
		{ID: cluster + "/namespaces/web" + deniesOf + "/de0e0000-0000-4000-8000-000000000003", Scope: cluster + "/namespaces/web",
			Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/apps/deployments/delete"}}},
			Principals:  []string{alice},
			Condition:   "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:team] StringNotEquals 'web'"},
	}
	if diff := cmp.Diff(wantD, d.Denies); diff != "" {
		t.Errorf("denies (-want +got):\n%s", diff)
	}
	if len(d.Gaps) != 0 {
		t.Errorf("gaps = %q, want none", d.Gaps)
	}
	if d.ClusterID != cluster {
		t.Errorf("cluster id = %q", d.ClusterID)
	}
	if len(progress) != 9 || progress[8] != [2]int{9, 9} {
		t.Errorf("progress = %v, want 9 calls ending at 9/9 (3 lists at 3 scopes)", progress)
	}

	// PIM's eligible assignments: the cluster's list brings the
	// subscription's (inherited) and its own, web's its own, not another
	// cluster's; with their dates and member type, apart from the active
	// assignments.
	wantE := []string{"e1e10000-0000-4000-8000-000000000002", "e1e10000-0000-4000-8000-000000000001", "e1e10000-0000-4000-8000-000000000003"}
	if diff := cmp.Diff(wantE, names(d.Eligible, func(e azurerbac.EligibleAssignment) string { return e.ID })); diff != "" {
		t.Errorf("eligible assignments (-want +got):\n%s", diff)
	}
	wantEl := azurerbac.EligibleAssignment{ID: sub + "/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/e1e10000-0000-4000-8000-000000000002",
		Scope: sub, PrincipalID: teamA, PrincipalType: "Group", RoleDefinitionID: roleID(admin),
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), MemberType: "Inherited", Status: "Provisioned"}
	if diff := cmp.Diff(wantEl, d.Eligible[0]); diff != "" {
		t.Errorf("eligible assignment (-want +got):\n%s", diff)
	}
	if e := d.Eligible[2]; !e.End.Equal(time.Date(2029, 6, 30, 0, 0, 0, 0, time.UTC)) || e.PrincipalType != "User" || e.Start.Nanosecond() != 123456700 {
		t.Errorf("web's eligible assignment's dates: %+v", e)
	}
	if len(d.EligibleGaps) != 0 {
		t.Errorf("eligible gaps = %q, want none", d.EligibleGaps)
	}
}

func TestLoadGaps(t *testing.T) {
	forbidden := fault{status: http.StatusForbidden, code: "AuthorizationFailed",
		msg: "The client 'pipeline@contoso.com' with object id '5e4e1ce0' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read'."}
	locked := cluster + "/namespaces/locked"
	for _, tc := range []struct {
		name       string
		faults     map[string]fault
		wantGaps   []string
		wantAssign int
		wantRoles  int
		wantDenies int
		// wantEligible is how many eligible assignments load (2 at the
		// cluster, 1 in web, unless said), wantEGaps their gaps.
		wantEligible int
		wantEGaps    []string
		requests     map[string]int // path -> requests
		minTime      time.Duration
	}{{
		name:       "403 on one namespace's assignments",
		faults:     map[string]fault{locked + assignmentsOf: forbidden},
		wantGaps:   []string{"role assignments at " + locked + ": forbidden (the Azure identity needs Microsoft.Authorization/roleAssignments/read there, e.g. the Reader role)"},
		wantAssign: 10, wantRoles: 4, wantDenies: 3,
	}, {
		// PIM's list refused: a gap of the eligible list only; the active
		// assignments are whole (no gap in Gaps).
		name:       "403 on the cluster's eligible assignments",
		faults:     map[string]fault{cluster + eligibleOf: forbidden},
		wantEGaps:  []string{"eligible role assignments (PIM) at " + cluster + ": forbidden (the Azure identity needs Microsoft.Authorization/roleEligibilityScheduleInstances/read there, e.g. the Reader role; eligible access is not listed, active access is)"},
		wantAssign: 11, wantRoles: 4, wantDenies: 3, wantEligible: 1,
	}, {
		name:       "403 on a role definition",
		faults:     map[string]fault{roleID(writer): forbidden},
		wantGaps:   []string{"role definition " + roleID(writer) + ": forbidden (the Azure identity needs Microsoft.Authorization/roleDefinitions/read, e.g. the Reader role)"},
		wantAssign: 11, wantRoles: 3, wantDenies: 3,
	}, {
		name:       "429 with Retry-After: 0, then served",
		faults:     map[string]fault{cluster + assignmentsOf: {status: http.StatusTooManyRequests, code: "TooManyRequests", msg: "throttled", retryAfter: "0", times: 1}},
		wantAssign: 11, wantRoles: 4, wantDenies: 3,
		requests: map[string]int{cluster + assignmentsOf: 4},
	}, {
		// azcore waits what Retry-After says, not its own (here 2 ms)
		// back-off.
		name:       "429 with Retry-After: 1 waits a second",
		faults:     map[string]fault{locked + deniesOf: {status: http.StatusTooManyRequests, code: "TooManyRequests", msg: "throttled", retryAfter: "1", times: 1}},
		wantAssign: 11, wantRoles: 4, wantDenies: 3,
		requests: map[string]int{locked + deniesOf: 2},
		minTime:  time.Second,
	}, {
		name:   "persistent 500 after retries",
		faults: map[string]fault{cluster + "/namespaces/web" + deniesOf: {status: http.StatusInternalServerError, code: "InternalServerError", msg: "Encountered internal server error. Diagnostic information: timestamp '20240301T091244Z'."}},
		wantGaps: []string{"deny assignments at " + cluster + "/namespaces/web: HTTP 500 Internal Server Error (InternalServerError: " +
			"Encountered internal server error. Diagnostic information: timestamp '20240301T091244Z'.)"},
		wantAssign: 11, wantRoles: 4, wantDenies: 2, // web's is unread
		requests: map[string]int{cluster + "/namespaces/web" + deniesOf: 4}, // azcore's 3 retries
	}} {
		t.Run(tc.name, func(t *testing.T) {
			a := newFakeARM(t, loadFixture(t))
			for p, f := range tc.faults {
				a.fail(p, f)
			}
			start := time.Now()
			d, err := Load(t.Context(), cluster, []string{"web", "locked", "api"}, a.options(t, appSecret))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantGaps, d.Gaps); diff != "" {
				t.Errorf("gaps (-want +got):\n%s", diff)
			}
			if len(d.Assignments) != tc.wantAssign || len(d.Roles) != tc.wantRoles {
				t.Errorf("loaded %d assignments and %d roles, want %d and %d", len(d.Assignments), len(d.Roles), tc.wantAssign, tc.wantRoles)
			}
			if len(d.Denies) != tc.wantDenies {
				t.Errorf("loaded %d deny assignments, want %d", len(d.Denies), tc.wantDenies)
			}
			want := tc.wantEligible
			if want == 0 {
				want = 3
			}
			if len(d.Eligible) != want {
				t.Errorf("loaded %d eligible assignments, want %d", len(d.Eligible), want)
			}
			if diff := cmp.Diff(tc.wantEGaps, d.EligibleGaps); diff != "" {
				t.Errorf("eligible gaps (-want +got):\n%s", diff)
			}
			for p, n := range tc.requests {
				if got := a.requestsTo(p); got != n {
					t.Errorf("requests to %s = %d, want %d", p, got, n)
				}
			}
			if el := time.Since(start); el < tc.minTime {
				t.Errorf("took %v, want at least %v", el, tc.minTime)
			}
		})
	}
}

func TestLoadSignInFails(t *testing.T) {
	a := newFakeARM(t, loadFixture(t))
	_, err := Load(t.Context(), cluster, []string{"web"}, a.options(t, "wrong-secret-value"))
	var signIn *SignInError
	if !errors.As(err, &signIn) {
		t.Fatalf("err = %v, want a *SignInError", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "sign in to Azure (run `az login`") || strings.Contains(msg, "wrong-secret-value") {
		t.Errorf("err = %q, want the way to sign in and no secret", msg)
	}
	t.Logf("the error reads: %v", err)
	if n, _ := a.stats(); n != 0 {
		t.Errorf("ARM got %d requests without a token", n)
	}
}

// forgedCredential gives a token ARM does not accept: one of another
// tenant, say.
type forgedCredential struct{}

func (forgedCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "forged-token-value", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestLoadTokenRefused(t *testing.T) {
	a := newFakeARM(t, loadFixture(t))
	o := a.options(t, appSecret)
	o.Credential = forgedCredential{}
	_, err := Load(t.Context(), cluster, []string{"web"}, o)
	var re *azcore.ResponseError
	if err == nil || !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(err.Error(), "Azure Resource Manager refused the token for ") || !strings.Contains(err.Error(), "az login --tenant") {
		t.Fatalf("err = %v, want the token refused", err)
	}
	if strings.Contains(err.Error(), "forged-token-value") {
		t.Errorf("the error shows the token: %v", err)
	}
}

func TestLoadRejectsOtherResources(t *testing.T) {
	a := newFakeARM(t, loadFixture(t))
	_, err := Load(t.Context(), group, nil, a.options(t, appSecret))
	if err == nil || !strings.Contains(err.Error(), "is not an AKS cluster's resource id") {
		t.Errorf("err = %v", err)
	}
}

func TestLoadCancel(t *testing.T) {
	a := newFakeARM(t, loadFixture(t))
	a.delay = 5 * time.Second
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := Load(ctx, cluster, []string{"web", "api"}, a.options(t, appSecret))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("cancel took %v", el)
	}
}

func TestLoadParallel(t *testing.T) {
	var namespaces []string
	for i := range 40 {
		namespaces = append(namespaces, "ns-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	for _, parallel := range []int{1, 3, 8} {
		a := newFakeARM(t, loadFixture(t))
		a.delay = 3 * time.Millisecond
		o := a.options(t, appSecret)
		o.Parallel = parallel
		if _, err := Load(t.Context(), cluster, namespaces, o); err != nil {
			t.Fatal(err)
		}
		if _, most := a.stats(); most > parallel || parallel > 1 && most < 2 {
			t.Errorf("Parallel %d: %d requests in flight at most", parallel, most)
		}
	}
}

func TestServerNeedsToken(t *testing.T) {
	a := newFakeARM(t, loadFixture(t))
	for _, auth := range []string{"", "Bearer not-a-token-of-the-issuer"} {
		req, _ := http.NewRequest(http.MethodGet, a.srv.URL+cluster+assignmentsOf+"?api-version=2022-04-01&$filter=atScope()", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := a.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body) // only the status is checked
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
		}
	}
}

func TestFindCluster(t *testing.T) {
	for _, tc := range []struct {
		name, server string
		forbid       string // a path answering 403
		want         string
		wantErr      []string
	}{
		{name: "fqdn with a port", server: "https://" + devFQDN + ":443",
			want: sub + "/resourcegroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-dev"},
		{name: "private fqdn, other case", server: "https://AKS-PRIV-1a2b3c4d.3e4f5a6b-7c8d.privatelink.westeurope.azmk8s.io",
			want: sub2 + "/resourcegroups/rg-priv/providers/Microsoft.ContainerService/managedClusters/aks-priv"},
		{name: "no match", server: "https://nowhere.hcp.westeurope.azmk8s.io:443",
			wantErr: []string{"no AKS cluster has API server nowhere.hcp.westeurope.azmk8s.io among the 5 clusters of the 2 Azure subscriptions", "--azure-cluster-id"}},
		{name: "no match, a subscription unread", server: "https://nowhere.hcp.westeurope.azmk8s.io", forbid: sub2 + "/providers/Microsoft.ContainerService/managedClusters",
			wantErr: []string{"among the 3 clusters of the 2 Azure subscriptions", "(1 could not be listed: " + sub2 + ": HTTP 403 Forbidden (AuthorizationFailed", "--azure-cluster-id"}},
		{name: "two matches", server: "https://twin-5a4b3c2d.hcp.westeurope.azmk8s.io",
			wantErr: []string{"2 AKS clusters have API server twin-5a4b3c2d.hcp.westeurope.azmk8s.io", "/managedClusters/aks-twin-a, ", "/managedClusters/aks-twin-b", "--azure-cluster-id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newFakeARM(t, loadFixture(t))
			if tc.forbid != "" {
				a.fail(tc.forbid, fault{status: http.StatusForbidden, code: "AuthorizationFailed", msg: "no"})
			}
			got, err := FindCluster(t.Context(), tc.server, a.options(t, appSecret))
			if tc.wantErr == nil {
				if err != nil || got != tc.want {
					t.Fatalf("FindCluster = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("FindCluster = %q, want an error", got)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to say %q", err, w)
				}
			}
		})
	}
}

func TestCheckCluster(t *testing.T) {
	a := newFakeARM(t, loadFixture(t))
	o := a.options(t, appSecret)
	if err := CheckCluster(t.Context(), cluster, "https://"+devFQDN+":443", o); err != nil {
		t.Errorf("the right cluster: %v", err)
	}
	err := CheckCluster(t.Context(), cluster, "https://"+prodFQDN+":443", o)
	want := "--azure-cluster-id " + cluster + " is cluster aks-dev, whose API server is " + devFQDN + " or aks-dev-k3j2h1g0.portal.hcp.westeurope.azmk8s.io, but the kubeconfig's server is " + prodFQDN
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
	gone := group + "/providers/Microsoft.ContainerService/managedClusters/aks-gone"
	err = CheckCluster(t.Context(), gone, "https://"+devFQDN, o)
	var re *azcore.ResponseError
	if err == nil || !strings.Contains(err.Error(), "no such cluster (HTTP 404 Not Found (ResourceNotFound") || !errors.As(err, &re) {
		t.Errorf("err = %v, want no such cluster", err)
	}
}

func TestCredential(t *testing.T) {
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE",
		"AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"} {
		t.Setenv(k, "")
	}
	if _, err := Credential("kerberos", nil, azcore.ClientOptions{}); err == nil ||
		err.Error() != `unknown --login mode "kerberos": use one of [azurecli spn msi workloadidentity devicecode]` {
		t.Errorf("unknown mode: %v", err)
	}
	if _, err := Credential("spn", nil, azcore.ClientOptions{}); err == nil || !strings.Contains(err.Error(), "--login spn needs AZURE_TENANT_ID") {
		t.Errorf("spn without variables: %v", err)
	}
	if _, err := Credential("workloadidentity", nil, azcore.ClientOptions{}); err == nil || !strings.Contains(err.Error(), "AZURE_FEDERATED_TOKEN_FILE") {
		t.Errorf("workload identity without variables: %v", err)
	}
	for _, mode := range []string{"", "azurecli", "msi", "devicecode"} {
		if _, err := Credential(mode, io.Discard, azcore.ClientOptions{}); err != nil {
			t.Errorf("%q: %v", mode, err)
		}
	}
	t.Setenv("AZURE_TENANT_ID", tenant)
	t.Setenv("AAD_SERVICE_PRINCIPAL_CLIENT_ID", appID)
	t.Setenv("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", appSecret)
	c, err := Credential("spn", nil, azcore.ClientOptions{})
	if _, ok := c.(*azidentity.ClientSecretCredential); err != nil || !ok {
		t.Errorf("spn from kubelogin's variables = %T, %v", c, err)
	}
}

// TestLoadNodeResourceGroup: the node resource group's own role
// assignments are read beside the cluster's (who can run commands on its
// VMs is root on a node), not when AKS locks the group; what of it cannot
// be read is a gap of the doors only, never of guard's answers.
func TestLoadNodeResourceGroup(t *testing.T) {
	const nodeRG = sub + "/resourceGroups/MC_rg-aks_aks-dev"
	withNodes := func(t *testing.T, restriction string) *fakeARM {
		a := newFakeARM(t, loadFixture(t))
		for i, c := range a.clusters {
			if !strings.EqualFold(c.id, cluster) {
				continue
			}
			var mc map[string]any
			if err := json.Unmarshal(c.raw, &mc); err != nil {
				t.Fatal(err)
			}
			props := mc["properties"].(map[string]any)
			props["nodeResourceGroup"] = "MC_rg-aks_aks-dev"
			if restriction != "" {
				props["nodeResourceGroupProfile"] = map[string]any{"restrictionLevel": restriction}
			}
			a.clusters[i].raw, _ = json.Marshal(mc)
		}
		raw, _ := json.Marshal(map[string]any{"id": nodeRG + assignmentsOf + "/0de00000-0000-4000-8000-0000000000d1", "name": "0de00000-0000-4000-8000-0000000000d1",
			"type":       "Microsoft.Authorization/roleAssignments",
			"properties": map[string]any{"scope": nodeRG, "principalId": teamA, "principalType": "Group", "roleDefinitionId": roleID(reader)}})
		k := strings.ToLower(nodeRG)
		a.assignments[k] = append(a.assignments[k], item{id: strings.ToLower(nodeRG + assignmentsOf + "/0de00000-0000-4000-8000-0000000000d1"), scope: k, raw: raw})
		return a
	}
	a := withNodes(t, "")
	d, err := Load(t.Context(), cluster, nil, a.options(t, appSecret))
	if err != nil {
		t.Fatal(err)
	}
	if d.Cluster == nil || d.Cluster.NodeResourceGroup != "MC_rg-aks_aks-dev" || !slices.Contains(assignmentNames(d), "0de00000-0000-4000-8000-0000000000d1") {
		t.Errorf("the node resource group's assignment is not read: %v (cluster %+v)", assignmentNames(d), d.Cluster)
	}
	// Locked by AKS: nothing to read there.
	a = withNodes(t, "ReadOnly")
	if d, err = Load(t.Context(), cluster, nil, a.options(t, appSecret)); err != nil || slices.Contains(assignmentNames(d), "0de00000-0000-4000-8000-0000000000d1") || a.requestsContaining("MC_rg-aks_aks-dev") > 0 {
		t.Errorf("a ReadOnly node resource group was read: %v %v", err, assignmentNames(d))
	}
	// Refused: a door gap, guard's answers whole.
	a = withNodes(t, "")
	a.fail(nodeRG+assignmentsOf, fault{status: http.StatusForbidden, code: "AuthorizationFailed", msg: "no"})
	if d, err = Load(t.Context(), cluster, nil, a.options(t, appSecret)); err != nil || len(d.Gaps) != 0 || len(d.DoorGaps) != 1 || !strings.Contains(d.DoorGaps[0], "MC_rg-aks_aks-dev") {
		t.Errorf("a refused node resource group: %v gaps %v door gaps %v", err, d.Gaps, d.DoorGaps)
	}
}
