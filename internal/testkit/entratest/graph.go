package entratest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Directory is the directory the issuer's Graph serves: users, groups with
// their direct members (users, groups, service principals), PIM for
// Groups eligibility schedules, and app registrations.
type Directory struct {
	Users             []User
	Groups            []Group
	ServicePrincipals []ServicePrincipal
	Eligibility       []Schedule
	Applications      []Application
}

// User is a directory user; Guest makes its userType Guest.
type User struct {
	ID, UPN, DisplayName string
	Guest                bool
}

// Group is a directory group; Members are its direct members' ids.
type Group struct {
	ID, DisplayName string
	SecurityEnabled bool
	Members         []string
}

// ServicePrincipal is a directory service principal; Type is its
// servicePrincipalType (Application when empty).
type ServicePrincipal struct {
	ID, DisplayName, Type string
}

// Schedule is a PIM for Groups eligibility schedule; a zero End is no
// expiration.
type Schedule struct {
	GroupID, PrincipalID, AccessID string
	Start, End                     time.Time
}

// GraphToken returns a token for the issuer's Graph, as the client
// credentials grant would give, for tests that call Graph without a
// sign-in.
func (is *Issuer) GraphToken() (string, error) {
	now := time.Now()
	tok, err := is.sign(map[string]any{
		"aud": is.GraphAudience(), "iss": is.URL(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"tid": is.Tenant, "oid": "00000000-0000-4000-8000-00000000a11c", "ver": "2.0",
	})
	if err != nil {
		return "", err
	}
	is.mu.Lock()
	is.issued = append(is.issued, tok)
	is.mu.Unlock()
	return tok, nil
}

// HTTPClient is a client that trusts the issuer's CA.
func (is *Issuer) HTTPClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(is.caPEM)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
}

// ThrottleNext makes the next n Graph requests, or sub-requests of a
// $batch, answer 429 with Retry-After: retryAfter (seconds).
func (is *Issuer) ThrottleNext(n int, retryAfter string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.throttle, is.retryAfter = n, retryAfter
}

// Forbid makes every Graph request (or sub-request) whose path contains
// one of parts answer 403, as Graph does for a missing permission.
func (is *Issuer) Forbid(parts ...string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.forbid = append(is.forbid, parts...)
}

// answer is one Graph response, of a request or of a $batch's sub-request.
type answer struct {
	status int
	header http.Header
	body   any
}

func graphError(status int, code, msg string) answer {
	return answer{status: status, body: map[string]any{"error": map[string]string{"code": code, "message": msg}}}
}

// graph serves /v1.0/ for a token of Graph's audience.
func (is *Issuer) graph(w http.ResponseWriter, r *http.Request) {
	if !is.graphToken(w, r) {
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	var a answer
	if r.Method == http.MethodPost && r.URL.Path == "/v1.0/$batch" {
		a = is.batch(body)
	} else {
		a = is.answer(r.Method, r.URL.Path, r.URL.Query(), body, r.Header)
	}
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if n, ok := a.body.(int); ok { // $count: a bare number
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(a.status)
		fmt.Fprint(w, n)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body) // as writeJSON
}

// batch answers Graph's JSON batching: at most 20 requests, urls relative
// to the version, each answered on its own; the responses come in reverse
// order, as Graph does not promise any.
func (is *Issuer) batch(body []byte) answer {
	var req struct {
		Requests []struct {
			ID      string            `json:"id"`
			Method  string            `json:"method"`
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Requests) == 0 {
		return graphError(http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
	}
	if len(req.Requests) > 20 {
		return graphError(http.StatusBadRequest, "BadRequest", "Number of batch request steps exceeds the maximum of 20.")
	}
	var out []map[string]any
	for _, s := range slices.Backward(req.Requests) {
		u, err := url.Parse("/v1.0/" + strings.TrimPrefix(s.URL, "/"))
		if err != nil {
			return graphError(http.StatusBadRequest, "BadRequest", err.Error())
		}
		h := http.Header{}
		for k, v := range s.Headers {
			h.Set(k, v)
		}
		is.mu.Lock()
		is.Requests = append(is.Requests, "$batch "+s.Method+" "+u.Path)
		is.mu.Unlock()
		a := is.answer(s.Method, u.Path, u.Query(), s.Body, h)
		hs := map[string]string{"Content-Type": "application/json"}
		for k := range a.header {
			hs[k] = a.header.Get(k)
		}
		out = append(out, map[string]any{"id": s.ID, "status": a.status, "headers": hs, "body": a.body})
	}
	return answer{status: http.StatusOK, body: map[string]any{"responses": out}}
}

var filterRE = regexp.MustCompile(`^(groupId|principalId) eq '([^']*)'$`)

// answer routes one Graph request, after the throttling and 403 knobs.
func (is *Issuer) answer(method, path string, q url.Values, body []byte, h http.Header) answer {
	is.mu.Lock()
	if is.throttle > 0 {
		is.throttle--
		is.mu.Unlock()
		a := graphError(http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		a.header = http.Header{"Retry-After": {is.retryAfter}}
		return a
	}
	forbidden := slices.ContainsFunc(is.forbid, func(p string) bool { return strings.Contains(path, p) })
	is.mu.Unlock()
	if forbidden {
		return graphError(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
	parts := strings.Split(strings.TrimPrefix(path, "/v1.0/"), "/")
	cast := len(parts) == 4 && parts[3] == "microsoft.graph.group"
	if a, ok := is.byAppID(path, q, parts); ok && method == http.MethodGet {
		return a
	}
	switch {
	case method == http.MethodPost && path == "/v1.0/directoryObjects/getByIds":
		return is.getByIds(body)
	case method != http.MethodGet:
		return graphError(http.StatusMethodNotAllowed, "Request_BadRequest", "method not allowed")
	case len(parts) == 4 && parts[0] == "groups" && parts[2] == "transitiveMembers" && parts[3] == "$count":
		return is.memberCount(h, parts[1])
	case len(parts) == 2 && (parts[0] == "users" || parts[0] == "servicePrincipals"):
		u, ok := is.object(parts[1])
		if !ok || u["@odata.type"] != "#microsoft.graph."+strings.TrimSuffix(parts[0], "s") {
			return graphError(http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", parts[1]))
		}
		return answer{status: http.StatusOK, body: u}
	case (len(parts) == 3 || cast) && (parts[0] == "users" || parts[0] == "groups" || parts[0] == "servicePrincipals") && (parts[2] == "memberOf" || parts[2] == "transitiveMemberOf"):
		o, ok := is.object(parts[1])
		if !ok || !strings.HasSuffix(o["@odata.type"].(string), parts[0][:len(parts[0])-1]) {
			return graphError(http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+parts[1]+"' does not exist.")
		}
		ids := is.parents(o["id"].(string))
		if parts[2] == "transitiveMemberOf" {
			ids = is.closure(o["id"].(string), is.parents)
		}
		return is.page(path, q, is.objects(ids))
	case len(parts) == 3 && parts[0] == "groups" && (parts[2] == "members" || parts[2] == "transitiveMembers"):
		g := is.group(parts[1])
		if g == nil {
			return graphError(http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+parts[1]+"' does not exist.")
		}
		ids := g.Members
		if parts[2] == "transitiveMembers" {
			ids = is.closure(g.ID, is.children)
		}
		return is.page(path, q, is.objects(ids))
	case path == "/v1.0/identityGovernance/privilegedAccess/group/eligibilitySchedules":
		m := filterRE.FindStringSubmatch(q.Get("$filter"))
		if m == nil {
			return graphError(http.StatusBadRequest, "BadRequest", "Filter on groupId or principalId is required.")
		}
		var vals []map[string]any
		for i, s := range is.dir().Eligibility {
			if (m[1] == "groupId" && strings.EqualFold(s.GroupID, m[2])) || (m[1] == "principalId" && strings.EqualFold(s.PrincipalID, m[2])) {
				vals = append(vals, schedule(i, s))
			}
		}
		return is.page(path, q, vals)
	}
	return graphError(http.StatusNotFound, "Request_ResourceNotFound", "no such Graph resource in entratest: "+path)
}

func schedule(i int, s Schedule) map[string]any {
	exp := map[string]any{"type": "noExpiration", "endDateTime": nil}
	if !s.End.IsZero() {
		exp = map[string]any{"type": "afterDateTime", "endDateTime": s.End.UTC().Format(time.RFC3339)}
	}
	var start any
	if !s.Start.IsZero() {
		start = s.Start.UTC().Format(time.RFC3339)
	}
	return map[string]any{
		"id": fmt.Sprintf("sched-%d", i), "groupId": s.GroupID, "principalId": s.PrincipalID, "accessId": s.AccessID,
		"memberType": "direct", "status": "Provisioned",
		"scheduleInfo": map[string]any{"startDateTime": start, "expiration": exp},
	}
}

// page answers one page of a collection: PageSize (or $top, if smaller)
// values, and an absolute @odata.nextLink with a $skiptoken for the rest.
func (is *Issuer) page(path string, q url.Values, vals []map[string]any) answer {
	size := 100
	if is.PageSize > 0 {
		size = is.PageSize
	}
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top > 0 && top < size {
		size = top
	}
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	skip = min(skip, len(vals))
	end := min(skip+size, len(vals))
	body := map[string]any{"value": append([]map[string]any{}, vals[skip:end]...)}
	if end < len(vals) {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("$skiptoken", strconv.Itoa(end))
		body["@odata.nextLink"] = is.srv.URL + path + "?" + next.Encode()
	}
	return answer{status: http.StatusOK, body: body}
}

func (is *Issuer) dir() *Directory {
	if is.Directory == nil {
		return &Directory{}
	}
	return is.Directory
}

func (is *Issuer) group(id string) *Group {
	for i, g := range is.dir().Groups {
		if strings.EqualFold(g.ID, id) {
			return &is.dir().Groups[i]
		}
	}
	return nil
}

// object is what Graph says of an id (or a user's UPN), from the old maps
// first, then the Directory.
func (is *Issuer) object(id string) (map[string]any, bool) {
	if n, ok := is.GroupNames[id]; ok {
		return map[string]any{"@odata.type": "#microsoft.graph.group", "id": id, "displayName": n, "securityEnabled": true}, true
	}
	if n, ok := is.Users[id]; ok {
		return map[string]any{"@odata.type": "#microsoft.graph.user", "id": id, "displayName": strings.Split(n, "@")[0], "userPrincipalName": n, "userType": "Member"}, true
	}
	if n, ok := is.ServicePrincipals[id]; ok {
		return map[string]any{"@odata.type": "#microsoft.graph.servicePrincipal", "id": id, "displayName": n, "servicePrincipalType": "Application"}, true
	}
	if n, ok := is.ManagedIdentities[id]; ok {
		return map[string]any{"@odata.type": "#microsoft.graph.servicePrincipal", "id": id, "displayName": n, "servicePrincipalType": "ManagedIdentity"}, true
	}
	d := is.dir()
	for _, u := range d.Users {
		if strings.EqualFold(u.ID, id) || strings.EqualFold(u.UPN, id) {
			t := "Member"
			if u.Guest {
				t = "Guest"
			}
			return map[string]any{"@odata.type": "#microsoft.graph.user", "id": u.ID, "displayName": u.DisplayName, "userPrincipalName": u.UPN, "userType": t}, true
		}
	}
	if g := is.group(id); g != nil {
		return map[string]any{"@odata.type": "#microsoft.graph.group", "id": g.ID, "displayName": g.DisplayName, "securityEnabled": g.SecurityEnabled}, true
	}
	for _, s := range d.ServicePrincipals {
		if strings.EqualFold(s.ID, id) {
			t := s.Type
			if t == "" {
				t = "Application"
			}
			return map[string]any{"@odata.type": "#microsoft.graph.servicePrincipal", "id": s.ID, "displayName": s.DisplayName, "servicePrincipalType": t}, true
		}
	}
	return nil, false
}

func (is *Issuer) objects(ids []string) []map[string]any {
	var out []map[string]any
	for _, id := range ids {
		if o, ok := is.object(id); ok {
			out = append(out, o)
		}
	}
	return out
}

// parents are the groups id is a direct member of; children a group's
// direct members.
func (is *Issuer) parents(id string) []string {
	var out []string
	for _, g := range is.dir().Groups {
		if slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, id) }) {
			out = append(out, g.ID)
		}
	}
	return out
}

func (is *Issuer) children(id string) []string {
	if g := is.group(id); g != nil {
		return g.Members
	}
	return nil
}

// closure walks next from id breadth first, each object once.
func (is *Issuer) closure(id string, next func(string) []string) []string {
	seen := map[string]bool{strings.ToLower(id): true}
	var out []string
	queue := []string{id}
	for len(queue) > 0 {
		for _, n := range next(queue[0]) {
			if !seen[strings.ToLower(n)] {
				seen[strings.ToLower(n)] = true
				out = append(out, n)
				queue = append(queue, n)
			}
		}
		queue = queue[1:]
	}
	return out
}

// getByIds answers Graph's directoryObjects/getByIds.
func (is *Issuer) getByIds(body []byte) answer {
	var req struct {
		IDs   []string `json:"ids"`
		Types []string `json:"types"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return graphError(http.StatusBadRequest, "BadRequest", err.Error())
	}
	want := func(t string) bool { return len(req.Types) == 0 || slices.Contains(req.Types, t) }
	vals := []map[string]any{}
	for _, id := range req.IDs {
		if o, ok := is.object(id); ok && want(strings.TrimPrefix(o["@odata.type"].(string), "#microsoft.graph.")) {
			vals = append(vals, o)
		}
	}
	return answer{status: http.StatusOK, body: map[string]any{"value": vals}}
}

// memberCount answers /v1.0/groups/ID/transitiveMembers/$count as Graph
// does: a bare number, only with ConsistencyLevel: eventual.
func (is *Issuer) memberCount(h http.Header, id string) answer {
	if h.Get("ConsistencyLevel") != "eventual" {
		return graphError(http.StatusBadRequest, "Request_BadRequest", "$count is not supported without ConsistencyLevel: eventual")
	}
	if is.MemberCountStatus != 0 {
		return graphError(is.MemberCountStatus, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
	n, ok := is.GroupMembers[id]
	if !ok {
		switch _, named := is.GroupNames[id]; {
		case is.group(id) != nil:
			n = len(is.closure(id, is.children))
		case !named:
			return graphError(http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+id+"' does not exist.")
		}
	}
	return answer{status: http.StatusOK, body: n}
}
