package azurearm

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/kubectl-access/kubectl-access/internal/testkit/entratest"
)

// The Entra side of the tests: a confidential client of the loopback
// issuer, whose tokens ARM's audience accepts.
const (
	tenant      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	appID       = "5e4e1ce0-0000-4000-8000-0000000000c1"
	appSecret   = "s3cret-value-never-printed"
	armAudience = "https://management.core.windows.net/"
)

// fixture is ARM's resources as ARM returns them, by kind.
type fixture struct {
	RoleAssignments []json.RawMessage `json:"roleAssignments"`
	RoleDefinitions []json.RawMessage `json:"roleDefinitions"`
	DenyAssignments []json.RawMessage `json:"denyAssignments"`
	// RoleEligibilityScheduleInstances are PIM for Azure resources'
	// eligible assignments.
	RoleEligibilityScheduleInstances []json.RawMessage `json:"roleEligibilityScheduleInstances"`
	Subscriptions                    []json.RawMessage `json:"subscriptions"`
	ManagedClusters                  []json.RawMessage `json:"managedClusters"`
}

func loadFixture(t testing.TB) fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/arm.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// item is one resource, with what the server selects it by.
type item struct {
	id, scope string // lower case
	raw       json.RawMessage
}

func items(t testing.TB, raws []json.RawMessage) []item {
	t.Helper()
	out := make([]item, 0, len(raws))
	for _, r := range raws {
		var v struct {
			ID         string `json:"id"`
			Properties struct {
				Scope string `json:"scope"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(r, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, item{id: strings.ToLower(v.ID), scope: strings.ToLower(v.Properties.Scope), raw: r})
	}
	return out
}

// fault is how the server answers a path instead of serving it.
type fault struct {
	status     int
	code, msg  string
	retryAfter string
	times      int // how many answers; 0 is every one
}

// fakeARM serves ARM's role assignment, role definition, deny assignment,
// role eligibility schedule instance (PIM), subscription and managed
// cluster APIs on loopback TLS, as ARM shapes
// them: bearer tokens of the issuer only, $filter=atScope() on the lists
// of assignments, paging by nextLink with $skipToken.
type fakeARM struct {
	srv      *httptest.Server
	issuer   *entratest.Issuer
	pageSize int
	delay    time.Duration

	// byScope holds role and deny assignments by lower-case scope.
	assignments, denies, eligible map[string][]item
	definitions                   map[string]item // by lower-case GUID
	subscriptions                 []item
	clusters                      []item
	// identities are user-assigned identities (the item's scope is unused)
	// and credentials their federated credentials, by lower-case
	// identity id (identity_test.go adds them).
	identities []item
	// graphQueries are the identities' Resource Graph queries asked.
	graphQueries []string
	credentials  map[string][]item
	// aks, when set, serves the managed clusters' writes (aksupdate_test.go).
	aks *aksWrites

	mu          sync.Mutex
	faults      map[string]*fault // by lower-case path
	tokens      map[string]bool
	requests    int
	paths       map[string]int // lower-case path -> requests
	inFlight    int
	maxInFlight int
}

func newFakeARM(t testing.TB, f fixture) *fakeARM {
	t.Helper()
	is, err := entratest.Start(tenant, armAudience, map[string]entratest.Client{
		appID: {Secret: appSecret, Identity: entratest.Identity{UPN: "pipeline@contoso.com", OID: appID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	a := &fakeARM{issuer: is, pageSize: 2, assignments: map[string][]item{}, denies: map[string][]item{}, eligible: map[string][]item{},
		definitions: map[string]item{}, faults: map[string]*fault{}, tokens: map[string]bool{}, paths: map[string]int{}, credentials: map[string][]item{}}
	for _, it := range items(t, f.RoleAssignments) {
		a.assignments[it.scope] = append(a.assignments[it.scope], it)
	}
	for _, it := range items(t, f.DenyAssignments) {
		a.denies[it.scope] = append(a.denies[it.scope], it)
	}
	for _, it := range items(t, f.RoleEligibilityScheduleInstances) {
		a.eligible[it.scope] = append(a.eligible[it.scope], it)
	}
	for _, it := range items(t, f.RoleDefinitions) {
		a.definitions[path.Base(it.id)] = it
	}
	a.subscriptions = items(t, f.Subscriptions)
	a.clusters = items(t, f.ManagedClusters)
	a.srv = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

// fail makes the server answer resourcePath (an ARM path, any case) with f.
func (a *fakeARM) fail(resourcePath string, f fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults[strings.ToLower(resourcePath)] = &f
}

// client trusts both loopback servers, ARM's and the issuer's.
func (a *fakeARM) client() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.issuer.CAPEM())
	pool.AddCert(a.srv.Certificate())
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64}}
}

// options reach the server with the real SDK clients and a real azidentity
// credential of the issuer. Retries back off in milliseconds, not azcore's
// 0.8 s, so that the cases that retry stay fast; their number is azcore's.
func (a *fakeARM) options(t testing.TB, secret string) Options {
	t.Helper()
	hc := a.client()
	cred, err := azidentity.NewClientSecretCredential(tenant, appID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: a.issuer.Authority()}, Transport: hc},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return Options{Credential: cred, ClientOptions: &arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: a.issuer.Authority(),
			Services:                     map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {Endpoint: a.srv.URL, Audience: armAudience}},
		},
		Transport: hc,
		Retry:     policy.RetryOptions{RetryDelay: 2 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
	}}}
}

func (a *fakeARM) stats() (requests, maxInFlight int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests, a.maxInFlight
}

func (a *fakeARM) requestsTo(resourcePath string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.paths[strings.ToLower(resourcePath)]
}

// requestsContaining counts the requests to paths containing s.
func (a *fakeARM) requestsContaining(s string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for p, c := range a.paths {
		if strings.Contains(p, strings.ToLower(s)) {
			n += c
		}
	}
	return n
}

var (
	identitiesOfSubscription = regexp.MustCompile(`^/subscriptions/[^/]+/providers/microsoft\.managedidentity/userassignedidentities$`)
	credentialsOfIdentity    = regexp.MustCompile(`^(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.managedidentity/userassignedidentities/[^/]+)/federatedidentitycredentials$`)
	clustersOfSubscription   = regexp.MustCompile(`^/subscriptions/[^/]+/providers/microsoft\.containerservice/managedclusters$`)
	oneCluster               = regexp.MustCompile(`^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.containerservice/managedclusters/[^/]+$`)
)

func (a *fakeARM) serve(w http.ResponseWriter, r *http.Request) {
	p := strings.ToLower(r.URL.Path)
	a.mu.Lock()
	a.requests++
	a.paths[p]++
	a.inFlight++
	a.maxInFlight = max(a.maxInFlight, a.inFlight)
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.inFlight--
		a.mu.Unlock()
	}()

	if !a.authorized(r) {
		writeARMError(w, http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing or invalid.")
		return
	}
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-r.Context().Done():
			return
		}
	}
	if a.faulted(w, p) {
		return
	}
	if a.aks != nil && a.aks.serve(w, r, p) {
		return
	}
	q := r.URL.Query()
	const authz = "/providers/microsoft.authorization/"
	switch {
	case p == "/subscriptions":
		a.page(w, r, "2022-12-01", a.subscriptions)
	case clustersOfSubscription.MatchString(p):
		sub := strings.TrimSuffix(p, "/providers/microsoft.containerservice/managedclusters")
		var mine []item
		for _, c := range a.clusters {
			if strings.HasPrefix(c.id, sub+"/") {
				mine = append(mine, c)
			}
		}
		a.page(w, r, "2024-05-01", mine)
	case oneCluster.MatchString(p):
		if !apiVersion(w, r, "2024-05-01") {
			return
		}
		for _, c := range a.clusters {
			if c.id == p {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(c.raw) // a failed write fails the client's read
				return
			}
		}
		writeARMError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The Resource '%s' was not found.", r.URL.Path))
	case identitiesOfSubscription.MatchString(p):
		sub := strings.TrimSuffix(p, "/providers/microsoft.managedidentity/userassignedidentities")
		var mine []item
		for _, it := range a.identities {
			if strings.HasPrefix(it.id, sub+"/") {
				mine = append(mine, it)
			}
		}
		a.page(w, r, "2024-11-30", mine)
	case credentialsOfIdentity.MatchString(p):
		a.page(w, r, "2024-11-30", a.credentials[credentialsOfIdentity.FindStringSubmatch(p)[1]])
	case strings.HasSuffix(p, authz+"roleassignments") && strings.HasPrefix(q.Get("$filter"), "assignedTo('"):
		// A principal's assignments at the scope, above and below it.
		principal := strings.TrimSuffix(strings.TrimPrefix(q.Get("$filter"), "assignedTo('"), "')")
		scope := strings.TrimSuffix(p, authz+"roleassignments")
		var mine []item
		for s, its := range a.assignments {
			for _, it := range its {
				var v struct {
					Properties struct {
						PrincipalID string `json:"principalId"`
					} `json:"properties"`
				}
				_ = json.Unmarshal(it.raw, &v) // the fixture's, read before
				if v.Properties.PrincipalID == principal && (strings.HasPrefix(s+"/", scope+"/") || strings.HasPrefix(scope+"/", s+"/") || strings.HasPrefix(s, "/providers/microsoft.management/")) {
					mine = append(mine, it)
				}
			}
		}
		slices.SortFunc(mine, func(x, y item) int { return strings.Compare(x.id, y.id) })
		a.page(w, r, "2022-04-01", mine)
	case strings.HasSuffix(p, authz+"roleassignments"), strings.HasSuffix(p, authz+"denyassignments"):
		// Without atScope() ARM lists what is assigned below the scope too:
		// the loader must never ask for that.
		if q.Get("$filter") != "atScope()" {
			writeARMError(w, http.StatusBadRequest, "UnsupportedQuery", "the test server serves $filter=atScope() only")
			return
		}
		scope, kind := path.Split(p)
		scope = strings.TrimSuffix(scope, authz)
		from := a.assignments
		if kind == "denyassignments" {
			from = a.denies
		}
		a.page(w, r, "2022-04-01", atScopeOf(from, scope))
	case strings.HasSuffix(p, authz+"roleeligibilityscheduleinstances"):
		// PIM's list serves atScope() too (and asTarget(), principalId eq,
		// which the loader does not ask for).
		if q.Get("$filter") != "atScope()" {
			writeARMError(w, http.StatusBadRequest, "UnsupportedQuery", "the test server serves $filter=atScope() only")
			return
		}
		a.page(w, r, "2020-10-01", atScopeOf(a.eligible, strings.TrimSuffix(p, authz+"roleeligibilityscheduleinstances")))
	case strings.Contains(p, authz+"roledefinitions/"):
		if !apiVersion(w, r, "2022-04-01") {
			return
		}
		if d, ok := a.definitions[path.Base(p)]; ok {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(d.raw) // as above
			return
		}
		writeARMError(w, http.StatusNotFound, "RoleDefinitionDoesNotExist", fmt.Sprintf("The specified role definition with ID '%s' does not exist.", path.Base(r.URL.Path)))
	case p == "/providers/microsoft.resourcegraph/resources" && r.Method == http.MethodPost:
		a.resourceGraph(w, r)
	default:
		writeARMError(w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found.")
	}
}

// authorized checks the bearer token is one the issuer gave.
func (a *fakeARM) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tokens[tok] {
		return true
	}
	for _, t := range a.issuer.Issued() {
		a.tokens[t] = true
	}
	return a.tokens[tok]
}

func (a *fakeARM) faulted(w http.ResponseWriter, p string) bool {
	a.mu.Lock()
	f := a.faults[p]
	if f != nil && f.times > 0 {
		f.times--
		if f.times == 0 {
			delete(a.faults, p)
		}
	}
	a.mu.Unlock()
	if f == nil {
		return false
	}
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	writeARMError(w, f.status, f.code, f.msg)
	return true
}

// atScopeOf is what ARM's atScope() gives at scope: what is assigned at
// scope itself and at every scope above it, the management group (above
// every subscription here) and the root included.
func atScopeOf(by map[string][]item, scope string) []item {
	var out []item
	for s, its := range by {
		if strings.HasPrefix(s, "/providers/microsoft.management/managementgroups/") || s == "/" {
			out = append(out, its...)
		}
	}
	for i := 1; i <= len(scope); i++ {
		if i == len(scope) || scope[i] == '/' {
			out = append(out, by[scope[:i]]...)
		}
	}
	return out
}

// page serves one page of all, as ARM pages: pageSize items and, when
// there are more, a nextLink repeating the query with a $skipToken.
func (a *fakeARM) page(w http.ResponseWriter, r *http.Request, version string, all []item) {
	if !apiVersion(w, r, version) {
		return
	}
	q := r.URL.Query()
	skip, _ := strconv.Atoi(q.Get("$skipToken"))
	end := min(skip+a.pageSize, len(all))
	skip = min(skip, end)
	// The page is written as bytes: the items are ARM's JSON already, and
	// encoding/json would validate and compact each on every request,
	// the server's cost not the loader's.
	var body bytes.Buffer
	body.WriteString(`{"value":[`)
	for i, it := range all[skip:end] {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(it.raw)
	}
	body.WriteString("]")
	if end < len(all) {
		q.Set("$skipToken", strconv.Itoa(end))
		link, _ := json.Marshal(a.srv.URL + r.URL.Path + "?" + q.Encode())
		body.WriteString(`,"nextLink":`)
		body.Write(link)
	}
	body.WriteString("}")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body.Bytes()) // as above
}

func apiVersion(w http.ResponseWriter, r *http.Request, want string) bool {
	if got := r.URL.Query().Get("api-version"); got != want {
		writeARMError(w, http.StatusBadRequest, "InvalidApiVersionParameter", fmt.Sprintf("The api-version '%s' is invalid here: the test server serves '%s'.", got, want))
		return false
	}
	return true
}

func writeARMError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-ms-failure-cause", "gateway")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}}) // as above
}

// resourceGraph answers Azure Resource Graph's query of the managed
// clusters as the service does: the rows as an object array, pageSize (or
// $top) rows a page, a $skipToken for the next.
func (a *fakeARM) resourceGraph(w http.ResponseWriter, r *http.Request) {
	if !apiVersion(w, r, "2024-04-01") {
		return
	}
	var req struct {
		Query   string `json:"query"`
		Options struct {
			Top          int    `json:"$top"`
			SkipToken    string `json:"$skipToken"`
			ResultFormat string `json:"resultFormat"`
		} `json:"options"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Options.ResultFormat != "objectArray" {
		writeARMError(w, http.StatusBadRequest, "BadRequest", "the test server answers as object arrays")
		return
	}
	if strings.Contains(req.Query, "microsoft.managedidentity/userassignedidentities") {
		a.identitiesByClientID(w, req.Query)
		return
	}
	if !strings.Contains(req.Query, "microsoft.containerservice/managedclusters") {
		writeARMError(w, http.StatusBadRequest, "BadRequest", "the test server answers the managed clusters' and the identities' queries")
		return
	}
	size := a.pageSize // the server's page, at most $top
	if req.Options.Top > 0 {
		size = min(size, req.Options.Top)
	}
	skip, _ := strconv.Atoi(req.Options.SkipToken)
	end := min(skip+size, len(a.clusters))
	rows := make([]json.RawMessage, 0, end-skip)
	for _, c := range a.clusters[skip:end] {
		rows = append(rows, c.raw)
	}
	resp := map[string]any{"totalRecords": len(a.clusters), "count": len(rows), "resultTruncated": "false", "data": rows}
	if end < len(a.clusters) {
		resp["$skipToken"] = strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// clientIDsInQuery are the ids of a query's "in ('a', 'b')", as the
// loader writes it; nil when the query is not of that form.
var clientIDsInQuery = regexp.MustCompile(`tolower\(tostring\(properties\.clientId\)\) in \(([^)]*)\)`)

// identitiesByClientID answers the loader's Resource Graph query for
// identities by client id: every subscription's identities alike, as
// Resource Graph spans the subscriptions the caller may read.
func (a *fakeARM) identitiesByClientID(w http.ResponseWriter, query string) {
	m := clientIDsInQuery.FindStringSubmatch(query)
	if m == nil {
		writeARMError(w, http.StatusBadRequest, "BadRequest", "the test server answers the identities by client id")
		return
	}
	want := map[string]bool{}
	for _, c := range strings.Split(m[1], ",") {
		want[strings.Trim(strings.TrimSpace(c), "'")] = true
	}
	rows := []json.RawMessage{}
	for _, it := range a.identities {
		var v struct {
			Properties struct {
				ClientID string `json:"clientId"`
			} `json:"properties"`
		}
		if json.Unmarshal(it.raw, &v) == nil && want[strings.ToLower(v.Properties.ClientID)] {
			rows = append(rows, it.raw)
		}
	}
	a.mu.Lock()
	a.graphQueries = append(a.graphQueries, query)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"totalRecords": len(rows), "count": len(rows), "resultTruncated": "false", "data": rows})
}
