// Package guardhook is a guard-like authorization webhook for tests and
// the demo: it answers the API server's SubjectAccessReviews from an Azure
// RBAC fixture (role definitions, role assignments, deny assignments) with
// guard's verdicts and reason strings (kubeguard/guard,
// authz/providers/azure), as AKS chains Azure RBAC after Kubernetes RBAC.
//
// Its decision logic is written here on its own, apart from the engine's
// (azurerbac): the request's dataAction, Azure's wildcard as a regular
// expression, scopes as path prefixes. The differential tests check the
// engine against an authorizer, not against itself.
package guardhook

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
)

// Prefix is the dataActions' resource provider.
const Prefix = "Microsoft.ContainerService/managedClusters"

// Everyone is the principal id a deny assignment names for all
// principals.
const Everyone = "00000000-0000-0000-0000-000000000000"

type (
	// Perm is one permission of a role or a deny assignment.
	Perm struct {
		DataActions, NotDataActions []string
	}
	// Role is a role definition.
	Role struct {
		ID, Name string
		Perms    []Perm
	}
	// Assignment is a role assignment. One with a Condition (ABAC) is
	// never evaluated: the webhook grants nothing through it.
	Assignment struct {
		ID, Scope, PrincipalID, PrincipalType, PrincipalName, RoleID string
		Condition                                                    string `json:",omitempty"`
	}
	// Deny is a deny assignment.
	Deny struct {
		ID, Scope           string
		Principals, Exclude []string
		Perm                Perm
		NoChildren          bool
	}
	// User is a generated user (tests only: the webhook decides from the
	// SubjectAccessReview's oid and groups).
	User struct {
		UPN, OID string
		Groups   []string
	}
	// Fixture is the Azure side of one AKS cluster. Lock it while
	// changing Assignments (a loopback ARM's writes) as Decide reads them.
	Fixture struct {
		sync.RWMutex `json:"-"`
		Cluster      string
		Roles        []Role
		Assignments  []Assignment
		Denies       []Deny
		Users        []User   `json:",omitempty"`
		Groups       []string `json:",omitempty"`
		Namespaces   []string `json:",omitempty"`
	}
)

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// verb is guard's verb -> action, written here again.
var verb = map[string]string{"get": "read", "list": "read", "watch": "read", "create": "write", "update": "write", "patch": "write",
	"delete": "delete", "deletecollection": "delete", "bind": "bind/action", "escalate": "escalate/action", "use": "use/action", "impersonate": "impersonate/action", "*": "*"}

// Action is the dataAction guard checks for a request.
func Action(s *authorizationv1.SubjectAccessReviewSpec) string {
	if n := s.NonResourceAttributes; n != nil {
		return strings.TrimSuffix(Prefix+"/"+strings.Trim(n.Path, "/")+"/"+verb[n.Verb], "/")
	}
	r := s.ResourceAttributes
	out := Prefix
	if r.Group != "" {
		out += "/" + r.Group
	}
	out += "/" + r.Resource
	if r.Resource == "pods" && r.Subresource == "exec" {
		return out + "/exec/action"
	}
	if a := verb[r.Verb]; a != "" {
		out += "/" + a
	}
	return out
}

func match(pattern, action string) bool {
	re := "(?i)^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, `.*`) + "$"
	return regexp.MustCompile(re).MatchString(action)
}

// Allows says whether the permission covers action: a dataAction matches
// it and no notDataAction does.
func (p Perm) Allows(action string) bool {
	any := func(l []string) bool {
		for _, x := range l {
			if match(x, action) {
				return true
			}
		}
		return false
	}
	return any(p.DataActions) && !any(p.NotDataActions)
}

// Under says whether scope is at or below parent, as Azure scopes nest.
func Under(scope, parent string) bool {
	s, p := strings.ToLower(scope)+"/", strings.ToLower(parent)+"/"
	return strings.HasPrefix(s, p)
}

// Reaches says whether an assignment at scope applies to the cluster or
// one of its namespaces: at or above the cluster, or below it (a
// namespace), or at a management group (which holds every subscription
// here).
func (f *Fixture) Reaches(scope string) bool {
	return Under(f.Cluster, scope) || Under(scope, f.Cluster) || strings.Contains(strings.ToLower(scope), "/managementgroups/")
}

// Decide is the webhook's answer, with guard's verdicts and reason
// strings.
func (f *Fixture) Decide(s authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus {
	f.RLock()
	defer f.RUnlock()
	if strings.HasPrefix(strings.ToLower(s.User), "system:") {
		return authorizationv1.SubjectAccessReviewStatus{Reason: "Azure does not have opinion for this user."}
	}
	oids := s.Extra["oid"]
	if len(oids) == 0 {
		return authorizationv1.SubjectAccessReviewStatus{Reason: "Azure does not have opinion for this non AAD user. If you are an AAD user, please set Extra:oid parameter for impersonated user in the kubeconfig"}
	}
	if n := s.NonResourceAttributes; n != nil && n.Verb == "get" {
		for _, d := range []string{"/api", "/openapi", "/version", "/healthz"} {
			if strings.HasPrefix(strings.ToLower(n.Path), d) {
				return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "Access allowed by Azure RBAC"}
			}
		}
	}
	ids := map[string]bool{strings.ToLower(oids[0]): true}
	for _, g := range s.Groups {
		if guidPattern.MatchString(g) {
			ids[strings.ToLower(g)] = true
		}
	}
	action := Action(&s)
	scope := f.Cluster
	if r := s.ResourceAttributes; r != nil && r.Namespace != "" {
		scope += "/namespaces/" + r.Namespace
	}
	denied := authorizationv1.SubjectAccessReviewStatus{Denied: true, Reason: "User does not have access to the resource in Azure. Update role assignment to allow access."}
	for _, d := range f.Denies {
		if !Under(scope, d.Scope) || d.NoChildren && !strings.EqualFold(scope, d.Scope) || !d.Perm.Allows(action) {
			continue
		}
		named := false
		for _, p := range d.Principals {
			named = named || p == Everyone || ids[strings.ToLower(p)]
		}
		for _, p := range d.Exclude {
			named = named && !ids[strings.ToLower(p)]
		}
		if named {
			return denied
		}
	}
	for _, a := range f.Assignments {
		reaches := Under(scope, a.Scope) || strings.Contains(strings.ToLower(a.Scope), "/managementgroups/")
		if !ids[strings.ToLower(a.PrincipalID)] || !reaches || a.Condition != "" {
			continue
		}
		for _, r := range f.Roles {
			if !strings.EqualFold(r.ID, a.RoleID) {
				continue
			}
			for _, p := range r.Perms {
				if p.Allows(action) {
					return authorizationv1.SubjectAccessReviewStatus{Allowed: true,
						Reason: fmt.Sprintf("Access allowed by Azure RBAC Role Assignment %s of Role %s to user %s", a.ID, a.RoleID, s.User)}
				}
			}
		}
	}
	return denied
}

// Handler serves SubjectAccessReviews (authorization.k8s.io/v1), as an
// authorization webhook, answering each with decide.
func Handler(decide func(authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sar authorizationv1.SubjectAccessReview
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&sar); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sar.Status = decide(sar.Spec)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&sar)
	})
}
