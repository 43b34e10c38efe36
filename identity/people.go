package identity

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// People answers who is in which Entra group: Microsoft Graph when signed
// in (auth.GraphPeople), a directory file offline (*Directory). Every
// method says, by its error, that its answer is not whole: the caller
// marks the answer incomplete, never "no".
type People interface {
	// GroupsOf returns the security groups user (a UPN or an object id)
	// is in, transitively, each with the chain that puts the user in it.
	// A user the directory does not know is Found false, no error.
	GroupsOf(ctx context.Context, user string) (*Memberships, error)
	// MembersOf returns each group's transitive members (users, guests,
	// service principals, nested groups), up to limit each (0: no limit).
	MembersOf(ctx context.Context, groups []string, limit int) (map[string]*Members, error)
	// EligibleIn returns the PIM for Groups eligibility schedules of the
	// groups: who can activate membership (or ownership) of each.
	EligibleIn(ctx context.Context, groups []string) (map[string][]Eligibility, error)
	// Source names where the answers come from, for messages: "Microsoft
	// Graph (https://graph.microsoft.com)", "directory FILE".
	Source() string
}

// Kinds of directory object.
const (
	KindUser             = "user"
	KindGroup            = "group"
	KindServicePrincipal = "servicePrincipal"
)

// Principal is one directory object as people read it.
type Principal struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // user, group or servicePrincipal
	// UserPrincipalName is a user's UPN (what Kubernetes sees as its
	// username on AKS); DisplayName any object's.
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	// Guest: a user invited from another tenant (userType Guest).
	Guest bool `json:"guest,omitempty"`
	// SecurityEnabled: a group that is a security group (only those reach
	// a token's groups claim on AKS).
	SecurityEnabled bool `json:"securityEnabled,omitempty"`
	// ServicePrincipalType is a service principal's: Application,
	// ManagedIdentity, ...
	ServicePrincipalType string `json:"servicePrincipalType,omitempty"`
}

// Label is how a principal is printed: a user by UPN, anything else by
// display name, else its id.
func (p Principal) Label() string {
	return cmp.Or(p.UserPrincipalName, p.DisplayName, p.ID)
}

// Membership is one group a user is in.
type Membership struct {
	Group Principal `json:"group"`
	// Via are the groups between the user and Group, from the one the
	// user is a direct member of: empty when the user is a direct member.
	Via []Principal `json:"via,omitempty"`
}

// Memberships are a user's groups as the directory says.
type Memberships struct {
	// User is who was asked about; Found says the directory knows them.
	User  Principal `json:"user"`
	Found bool      `json:"found"`
	// Groups are the security groups the user is in, transitively.
	Groups []Membership `json:"groups,omitempty"`
	// Eligible are the groups the user may activate membership of
	// (Privileged Identity Management), when the directory read them.
	Eligible []Eligibility `json:"eligible,omitempty"`
	// Overage: more than 200 groups, so a token carries none (the
	// overage claim); AKS's guard reads them from Graph as here.
	Overage bool `json:"overage,omitempty"`
}

// OverageLimit is how many groups an Entra token carries at most; past
// it the token carries an overage claim instead.
const OverageLimit = 200

// IDs are the group object ids.
func (m *Memberships) IDs() []string {
	out := make([]string, 0, len(m.Groups))
	for _, g := range m.Groups {
		out = append(out, g.Group.ID)
	}
	return out
}

// Member is one transitive member of a group.
type Member struct {
	Principal
	// Via are the nested groups from the expanded group down to the one
	// the member is a direct member of: empty for a direct member.
	Via []Principal `json:"via,omitempty"`
}

// Members are a group's transitive members.
type Members struct {
	Group Principal `json:"group"`
	// Members, users first then service principals then groups, each by
	// label; at most the limit asked.
	Members []Member `json:"members"`
	// Total is how many there are (when known), Truncated that Members
	// stops at the limit.
	Total     int  `json:"total"`
	Truncated bool `json:"truncated,omitempty"`
}

// People counts the users among members, and the guests among them.
func (m *Members) People() (people, guests int) {
	for _, x := range m.Members {
		if x.Kind == KindUser {
			people++
			if x.Guest {
				guests++
			}
		}
	}
	return people, guests
}

// Eligibility is one PIM for Groups eligibility schedule: Principal may
// activate AccessID (member or owner) of Group until End.
type Eligibility struct {
	// Group is the group whose membership may be activated (PIM for
	// Groups); zero for an eligible Azure role assignment.
	Group     Principal `json:"group,omitzero"`
	Principal Principal `json:"principal"`
	AccessID  string    `json:"accessId,omitempty"` // member or owner
	Start     time.Time `json:"start,omitzero"`
	// End is when the eligibility ends; zero: never.
	End time.Time `json:"end,omitzero"`
}

// Active says whether the schedule is in force at t.
func (e Eligibility) Active(t time.Time) bool {
	return (e.Start.IsZero() || !t.Before(e.Start)) && (e.End.IsZero() || t.Before(e.End))
}

// ErrNotFound is an object the directory does not know.
var ErrNotFound = errors.New("not in the directory")

// sortMembers orders members: users, service principals, groups, each by
// label.
func sortMembers(ms []Member) {
	rank := map[string]int{KindUser: 0, KindServicePrincipal: 1, KindGroup: 2}
	slices.SortFunc(ms, func(a, b Member) int {
		return cmp.Or(cmp.Compare(rank[a.Kind], rank[b.Kind]), cmp.Compare(strings.ToLower(a.Label()), strings.ToLower(b.Label())), cmp.Compare(a.ID, b.ID))
	})
}

// SortMembers orders members as MembersOf returns them.
func SortMembers(ms []Member) { sortMembers(ms) }
