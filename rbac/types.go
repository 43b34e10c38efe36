package rbac

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/internal/jsontext"
)

// APIVersion is the apiVersion of every document the tool prints.
const APIVersion = "access.kubectl.io/v1alpha1"

// Well-known groups and users the API server adds or special-cases.
const (
	GroupMasters                 = "system:masters"
	GroupAuthenticated           = "system:authenticated"
	GroupUnauthenticated         = "system:unauthenticated"
	GroupServiceAccounts         = "system:serviceaccounts"
	GroupServiceAccountsPrefix   = "system:serviceaccounts:"
	UserAnonymous                = "system:anonymous"
	ServiceAccountUsernamePrefix = "system:serviceaccount:"
)

// Attributes describe one request, as authorizer.Attributes do less the
// user. A request with Path set is a non-resource request.
type Attributes struct {
	Verb        string `json:"verb"`
	APIGroup    string `json:"group"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Name        string `json:"name,omitempty"`
	Namespace   string `json:"namespace"`
	Path        string `json:"nonResourceURL,omitempty"`
}

// IsResourceRequest is false for non-resource URLs (/healthz, /metrics).
func (a *Attributes) IsResourceRequest() bool { return a.Path == "" }

// String renders the request the way kubectl writes it.
func (a *Attributes) String() string {
	if !a.IsResourceRequest() {
		return a.Verb + " " + a.Path
	}
	r := a.Resource
	if a.APIGroup != "" {
		r += "." + a.APIGroup
	}
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	s := a.Verb + " " + r
	if a.Name != "" {
		s += " " + a.Name
	}
	return s
}

// Identity is a user as the authorizer sees one: a name and groups.
type Identity struct {
	Name   string
	Groups []string
	// ObjectID is the Entra object id (extra.oid) guard decides with; ""
	// when not known (then the user name, if an object id, or the name
	// Azure role assignments give it).
	ObjectID string
}

func (id *Identity) inGroup(g string) bool { return slices.Contains(id.Groups, g) }

// Subject kinds on the command line and in documents, as in RBAC subjects.
const (
	UserKind           = rbacv1.UserKind
	GroupKind          = rbacv1.GroupKind
	ServiceAccountKind = rbacv1.ServiceAccountKind
)

// Subject names a user, group or service account. Groups are extra
// memberships of a user (like kubectl --as-group).
type Subject struct {
	Kind      string   `json:"kind"`
	Name      string   `json:"name"`
	Namespace string   `json:"namespace,omitempty"`
	Groups    []string `json:"groups,omitempty"`
	// DisplayName is a group's display name (Entra's), where a names file
	// gives one; documents carry it beside the object id.
	DisplayName string `json:"displayName,omitempty"`
	// ObjectID is a user's Entra object id (can --oid), which Azure RBAC
	// decides with.
	ObjectID string `json:"objectId,omitempty"`
	// PrincipalType is, for a user that is not a person, what Entra says it
	// is: ServicePrincipal or ManagedIdentity. Kubernetes sees either as
	// the user its object id names, so the kind stays User and the
	// authorizer's answer is the same; only the printed form says which.
	PrincipalType string `json:"principalType,omitempty"`
}

// Entra principal types a User subject may carry (Subject.PrincipalType).
const (
	PrincipalServicePrincipal = "ServicePrincipal"
	PrincipalManagedIdentity  = "ManagedIdentity"
)

// ParseSubject reads user:NAME, group:NAME, sa:NAMESPACE:NAME,
// serviceprincipal:OID or managedidentity:OID (sp:, mi:). A user named
// system:serviceaccount:NS:NAME is that service account.
func ParseSubject(s string) (Subject, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Subject{}, fmt.Errorf("subject %q: write user:NAME, group:NAME or sa:NAMESPACE:NAME", s)
	}
	switch strings.ToLower(kind) {
	case "serviceprincipal", "sp", "managedidentity", "mi":
		// A service principal or managed identity signs in as the user its
		// object id names (AKS with Entra); the kind is only its label.
		if !IsGUID(rest) {
			return Subject{}, fmt.Errorf("subject %q: a %s is named by its Entra object id (a GUID)", s, strings.ToLower(kind))
		}
		t := PrincipalServicePrincipal
		if k := strings.ToLower(kind); k == "managedidentity" || k == "mi" {
			t = PrincipalManagedIdentity
		}
		return Subject{Kind: UserKind, Name: rest, ObjectID: rest, PrincipalType: t}, nil
	case "user", "u":
		if ns, name, ok := splitServiceAccountUsername(rest); ok {
			return Subject{Kind: ServiceAccountKind, Namespace: ns, Name: name}, nil
		}
		return Subject{Kind: UserKind, Name: rest}, nil
	case "group", "g":
		return Subject{Kind: GroupKind, Name: rest}, nil
	case "sa", "serviceaccount":
		ns, name, ok := strings.Cut(rest, ":")
		if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
			return Subject{}, fmt.Errorf("service account %q: write sa:NAMESPACE:NAME", s)
		}
		return Subject{Kind: ServiceAccountKind, Namespace: ns, Name: name}, nil
	}
	return Subject{}, fmt.Errorf("subject %q: unknown kind %q; write user:NAME, group:NAME, sa:NAMESPACE:NAME or serviceprincipal:OBJECT-ID", s, kind)
}

func splitServiceAccountUsername(u string) (ns, name string, ok bool) {
	rest, ok := strings.CutPrefix(u, ServiceAccountUsernamePrefix)
	if !ok {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, ":")
	if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return ns, name, true
}

// String is the command-line form of the subject, which ParseSubject
// reads back: a service principal or managed identity is printed with its
// kind (serviceprincipal:OID, managedidentity:OID), never as a user.
func (s Subject) String() string {
	switch s.Kind {
	case UserKind:
		switch s.PrincipalType {
		case PrincipalServicePrincipal:
			return "serviceprincipal:" + s.Name
		case PrincipalManagedIdentity:
			return "managedidentity:" + s.Name
		}
		return "user:" + s.Name
	case GroupKind:
		return "group:" + s.Name
	case ServiceAccountKind:
		return "sa:" + s.Namespace + ":" + s.Name
	case ServicePrincipalKind:
		return "serviceprincipal:" + s.Name
	case ManagedIdentityKind:
		return "managedidentity:" + s.Name
	}
	return s.Kind + ":" + s.Name
}

// Key is the identity the authorizer sees, for maps and comparisons: a
// service principal is the user its object id names, whatever its label.
func (s Subject) Key() string {
	if s.Kind == UserKind || s.Kind == ServicePrincipalKind || s.Kind == ManagedIdentityKind {
		return "user:" + s.Name
	}
	return s.String()
}

// Identity is what the API server would see for the subject: a user is in
// system:authenticated (system:anonymous in system:unauthenticated), a
// service account also in system:serviceaccounts and
// system:serviceaccounts:NS. A group subject is a nameless member of that
// group only, so its answer is what the group itself is granted.
func (s Subject) Identity() Identity {
	var id Identity
	switch s.Kind {
	case UserKind:
		id.Name = s.Name
		id.ObjectID = s.ObjectID
		id.Groups = append(id.Groups, s.Groups...)
		if s.Name == UserAnonymous {
			id.Groups = append(id.Groups, GroupUnauthenticated)
		} else {
			id.Groups = append(id.Groups, GroupAuthenticated)
		}
	case GroupKind:
		id.Groups = append([]string{s.Name}, s.Groups...)
	case ServiceAccountKind:
		id.Name = ServiceAccountUsernamePrefix + s.Namespace + ":" + s.Name
		id.Groups = append(id.Groups, s.Groups...)
		id.Groups = append(id.Groups, GroupServiceAccounts, GroupServiceAccountsPrefix+s.Namespace, GroupAuthenticated)
	}
	return id
}

// ObjectRef names an object: a binding or role in a path, an object a
// finding is about, the target of a fix, where an offline object was read.
// Paths name RBAC objects without APIVersion; findings and fixes set it.
type ObjectRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace"`
}

// RBACAPIVersion is the apiVersion of the RBAC objects.
const RBACAPIVersion = "rbac.authorization.k8s.io/v1"

func (r ObjectRef) String() string {
	if r.Namespace != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Kind + " " + r.Name
}

// Key is the reference without its APIVersion: the same object whichever
// version named it (a map key for locations and lookups).
func (r ObjectRef) Key() ObjectRef { r.APIVersion = ""; return r }

// WithAPIVersion returns the reference with its APIVersion set.
func (r ObjectRef) WithAPIVersion(v string) ObjectRef { r.APIVersion = v; return r }

// MarshalJSON keeps the two shapes of the documents: a path's binding and
// role are {kind, name, namespace} with namespace always present; a
// finding's objects and a fix's targets are {apiVersion, kind, name,
// namespace} with an empty namespace left out.
func (r ObjectRef) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 32+len(r.APIVersion)+len(r.Kind)+len(r.Name)+len(r.Namespace)))
}

// AppendJSON appends what MarshalJSON gives. Written by hand: a who-can
// -A answer holds tens of thousands of references, and a marshaller that
// calls json.Marshal was half of the time to encode it.
func (r ObjectRef) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	if r.APIVersion != "" {
		b = jsontext.AppendString(append(b, `"apiVersion":`...), r.APIVersion)
		b = append(b, ',')
	}
	b = jsontext.AppendString(append(b, `"kind":`...), r.Kind)
	b = jsontext.AppendString(append(b, `,"name":`...), r.Name)
	if r.Namespace != "" || r.APIVersion == "" {
		b = jsontext.AppendString(append(b, `,"namespace":`...), r.Namespace)
	}
	return append(b, '}'), nil
}

// Path is the provenance of one grant: the binding, the role it references
// and the rule that matches. For system:masters, which needs no binding,
// Binding is nil and Role names system:masters. A grant by Azure RBAC has
// Azure set and nothing else.
type Path struct {
	Binding *ObjectRef        `json:"binding"`
	Role    ObjectRef         `json:"role"`
	Rule    rbacv1.PolicyRule `json:"rule"`
	Azure   *AzurePath        `json:"azure,omitempty"`
}

// MarshalJSON writes an Azure path as {"azure": {...}} alone, any other
// as {"binding", "role", "rule"}. Written by hand, as ObjectRef's is: a
// who-can -A answer holds tens of thousands of paths.
func (p Path) MarshalJSON() ([]byte, error) {
	return p.AppendJSON(make([]byte, 0, 160))
}

// AppendJSON appends what MarshalJSON gives.
func (p Path) AppendJSON(b []byte) ([]byte, error) {
	if p.Azure != nil {
		j, err := json.Marshal(struct {
			Azure *AzurePath `json:"azure"`
		}{p.Azure})
		return append(b, j...), err
	}
	b = append(b, `{"binding":`...)
	if p.Binding == nil {
		b = append(b, "null"...)
	} else {
		b, _ = p.Binding.AppendJSON(b)
	}
	b, _ = p.Role.AppendJSON(append(b, `,"role":`...))
	b = append(b, `,"rule":`...)
	return append(appendRule(b, &p.Rule), '}'), nil
}

// appendRule appends a PolicyRule as encoding/json writes it (its tags:
// verbs always, the rest omitted when empty).
func appendRule(b []byte, r *rbacv1.PolicyRule) []byte {
	list := func(b []byte, name string, l []string, always bool) []byte {
		if len(l) == 0 && !always {
			return b
		}
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), name...), `":`...)
		if l == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i, s := range l {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsontext.AppendString(b, s)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	b = list(b, "verbs", r.Verbs, true)
	b = list(b, "apiGroups", r.APIGroups, false)
	b = list(b, "resources", r.Resources, false)
	b = list(b, "resourceNames", r.ResourceNames, false)
	b = list(b, "nonResourceURLs", r.NonResourceURLs, false)
	return append(b, '}')
}

// IsAzure says whether Azure RBAC grants the path.
func (p *Path) IsAzure() bool { return p.Azure != nil }

// String renders the path as binding -> role -> rule.
func (p Path) String() string {
	switch {
	case p.Azure != nil:
		return p.Azure.String()
	case p.Binding != nil:
		return p.Binding.String() + " -> " + p.Role.String() + " -> " + RuleString(p.Rule)
	case p.Role.Kind == GroupKind:
		return "(no binding: group system:masters) -> " + p.Role.String() + " -> " + RuleString(p.Rule)
	}
	// A role's own rule, bound by nobody yet (audit evidence).
	return p.Role.String() + " -> " + RuleString(p.Rule)
}

// mastersPath is the grant system:masters holds without any binding.
var mastersPath = Path{
	Role: ObjectRef{Kind: GroupKind, Name: GroupMasters},
	Rule: rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}, NonResourceURLs: []string{"*"}},
}

// RuleString renders a rule compactly: "get,list pods,secrets (apps) [a,b]".
func RuleString(r rbacv1.PolicyRule) string {
	var b strings.Builder
	b.WriteString(strings.Join(r.Verbs, ","))
	if len(r.NonResourceURLs) > 0 && len(r.Resources) == 0 {
		b.WriteString(" " + strings.Join(r.NonResourceURLs, ","))
		return b.String()
	}
	b.WriteString(" " + strings.Join(r.Resources, ","))
	groups := make([]string, len(r.APIGroups))
	for i, g := range r.APIGroups {
		if g == "" {
			g = `""`
		}
		groups[i] = g
	}
	b.WriteString(" (" + strings.Join(groups, ",") + ")")
	if len(r.ResourceNames) > 0 {
		b.WriteString(" [" + strings.Join(r.ResourceNames, ",") + "]")
	}
	if len(r.NonResourceURLs) > 0 {
		b.WriteString(" " + strings.Join(r.NonResourceURLs, ","))
	}
	return b.String()
}

// Includes says whether a subject, as a binding names it, applies to the
// identity: the authorizer's own match (a user by name, a group by
// membership, a service account by its username), so that what is found
// for a binding's subject (a group, system:authenticated) is found for
// every identity it covers. A service principal or managed identity is
// the user its object id names.
func (id *Identity) Includes(s Subject) bool {
	kind := s.Kind
	if kind == ServicePrincipalKind || kind == ManagedIdentityKind {
		kind = UserKind
	}
	return appliesToUser(id, &rbacv1.Subject{Kind: kind, Name: s.Name, Namespace: s.Namespace}, s.Namespace)
}
