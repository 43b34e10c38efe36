package access

import (
	"fmt"
	"strings"

	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Warning codes of the application layer (the engine and the resolver
// have theirs).
const (
	WarnVerb              rbac.WarningCode = "verb"
	WarnNamespaceMissing  rbac.WarningCode = "namespace-missing"
	WarnAllNamespacesMoot rbac.WarningCode = "all-namespaces-moot"
	WarnNotNamespaced     rbac.WarningCode = "not-namespaced"
	WarnSubjectUnbound    rbac.WarningCode = "subject-unbound"
	// WarnMembershipsUnknown: an Entra user's groups are not known (no
	// --group); what they are granted is not in the answer.
	WarnMembershipsUnknown  rbac.WarningCode = "memberships-unknown"
	WarnServiceAccountGone  rbac.WarningCode = "service-account-missing"
	WarnCheckFailed         rbac.WarningCode = "check-failed"
	WarnCredentialUnchecked rbac.WarningCode = "credential-unchecked"
	// WarnWorkloadIdentity: a service account's workload identity
	// annotation grants nothing, or whether it does is unknown.
	WarnWorkloadIdentity rbac.WarningCode = "workload-identity"
)

// Request is VERB RESOURCE [NAME] with its namespace flags, as the CLI and
// the explorer's query line take it.
type Request struct {
	Verb, Resource, Name string
	// Namespace is -n ("" = the app's namespace); NamespaceSet says it was
	// given explicitly.
	Namespace     string
	NamespaceSet  bool
	AllNamespaces bool
}

// Attributes turns a request into the authorizer's attributes, as the API
// server's request info does, with what the reader should know:
//   - the resource is resolved as kubectl resolves it;
//   - a namespaced resource is asked in -n (else the app's namespace);
//   - a named namespace (get namespaces foo) is asked in itself;
//   - a cluster-scoped resource is asked without a namespace, unless -n is
//     given: a check in a namespace is what kubectl auth can-i -n and a
//     namespaced SubjectAccessReview (the gMSA webhook's) make, and
//     RoleBindings of that namespace count for it, so it is answered as
//     asked, with kubectl's warning.
func (a *App) Attributes(r Request) (rbac.Attributes, []rbac.Warning, error) {
	var warns []rbac.Warning
	if strings.Contains(r.Verb, ",") {
		return rbac.Attributes{}, nil, fmt.Errorf("%q is several verbs: the API server checks one verb a request; ask once for each (%s)", r.Verb, strings.Join(strings.Split(r.Verb, ","), ", "))
	}
	verb := strings.ToLower(r.Verb)
	if verb != r.Verb {
		warns = append(warns, rbac.Warnf(WarnVerb, "%q is answered as %q: requests always carry lower-case verbs, and the authorizer compares verbs exactly (a rule that says %q matches no request)", r.Verb, verb, r.Verb))
	}
	if strings.HasPrefix(r.Resource, "/") {
		if r.Name != "" {
			return rbac.Attributes{}, nil, fmt.Errorf("a non-resource URL takes no NAME (got %q)", r.Name)
		}
		if !knownURLVerbs[verb] {
			warns = append(warns, rbac.Warnf(WarnVerb, "non-resource requests use HTTP verbs (get, post, put, patch, delete, head, options); %q matches only rules that name it or *", verb))
		}
		if r.AllNamespaces {
			warns = append(warns, rbac.Warnf(WarnAllNamespacesMoot, "-A changes nothing for %s %s: only ClusterRoleBindings grant non-resource URLs", verb, r.Resource))
		}
		return rbac.Attributes{Verb: verb, Path: r.Resource}, warns, nil
	}
	if a.Resolver == nil {
		return rbac.Attributes{}, nil, fmt.Errorf("internal error: no resource resolver")
	}
	res, rw, err := a.Resolver.Resolve(r.Resource)
	if err != nil {
		return rbac.Attributes{}, rw, err
	}
	warns = append(warns, rw...)
	if !knownVerbs[verb] {
		hint := ""
		if s := Closest(verb, knownVerbList); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		warns = append(warns, rbac.Warnf(WarnVerb, "%q is not a standard verb%s; answering for it as written", verb, hint))
	}
	at := rbac.Attributes{Verb: verb, APIGroup: res.Group, Resource: res.Resource, Subresource: res.Subresource, Name: r.Name}
	ns := r.Namespace
	if ns == "" {
		ns = a.Namespace
	}
	switch {
	case res.Group == "" && res.Resource == "namespaces" && r.Name != "":
		at.Namespace = r.Name
	case res.Namespaced:
		at.Namespace = ns
	case r.AllNamespaces:
		// The engine answers in every namespace (WhoCan with all): a
		// check of a cluster-scoped resource in a namespace counts that
		// namespace's RoleBindings.
		warns = append(warns, rbac.Warnf(WarnNotNamespaced, "%s is not namespaced: -A answers the check in every namespace, where RoleBindings count as for a namespaced SubjectAccessReview (the gMSA webhook's, kubectl auth can-i -n); each path says its namespace, and a request for it without a namespace is granted by ClusterRoleBindings only", at.String()))
	case r.NamespaceSet && r.Namespace != "":
		at.Namespace = r.Namespace
		what := "resource '" + res.Resource + "'"
		if res.Group != "" {
			what += " in group '" + res.Group + "'"
		}
		warns = append(warns, rbac.Warnf(WarnNotNamespaced, "%s is not namespace scoped: answering the check in namespace %s as asked (as kubectl auth can-i -n and a namespaced SubjectAccessReview do: RoleBindings there count); a request for it without -n is cluster-wide", what, r.Namespace))
	}
	return at, warns, nil
}

// ScopeFor is what must be read to answer a request: the ClusterRoles and
// ClusterRoleBindings always, and the Roles and RoleBindings of the
// request's namespace (every namespace with all, for any resource request:
// RoleBindings grant cluster-scoped resources asked in a namespace too).
func ScopeFor(at rbac.Attributes, all bool) loading.Scope {
	return loading.Scope{ClusterRBAC: true, Namespace: at.Namespace, AllNamespaces: all && at.IsResourceRequest()}
}

var knownVerbList = append(rbac.Verbs(), "*")

// KnownVerbs are the verbs completion offers first.
func KnownVerbs() []string { return append([]string(nil), knownVerbList...) }

var knownVerbs = func() map[string]bool {
	m := map[string]bool{}
	for _, v := range knownVerbList {
		m[v] = true
	}
	return m
}()

var knownURLVerbs = map[string]bool{"get": true, "post": true, "put": true, "patch": true, "delete": true, "head": true, "options": true, "*": true}

// Closest returns the candidate within edit distance 2 of s, if any: the
// "did you mean" of verbs, resources and subjects.
func Closest(s string, candidates []string) string {
	if len(s) < 3 {
		return "" // everything short is two edits from everything short
	}
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD && c != s {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	// A longer name cut short ("Payments Devs" for "Payments Developers"):
	// the candidate sharing the longest prefix, if that is most of s.
	bestP := len(s) * 3 / 4
	for _, c := range candidates {
		p := 0
		for p < len(s) && p < len(c) && s[p] == c[p] {
			p++
		}
		if p > bestP && c != s {
			best, bestP = c, p
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
