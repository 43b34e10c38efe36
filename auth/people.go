package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/identity"
)

// GraphPeople answers identity.People live from Microsoft Graph.
//
// MembersOf reads at most MaxMembers objects (default 5000) under each
// group: past that it stops, and that group's Members is Truncated with a
// Total that counts only what was read, a lower bound (Truncated with
// Total == MaxMembers says so), rather than reading a whole tenant for
// "All Employees".
type GraphPeople struct {
	G          *Graph
	MaxMembers int
}

var _ identity.People = (*GraphPeople)(nil)

// DefaultMaxMembers is how many objects MembersOf reads under a group
// when MaxMembers is 0.
const DefaultMaxMembers = 5000

// Source names Graph for messages.
func (p *GraphPeople) Source() string { return "Microsoft Graph (" + p.G.BaseURL + ")" }

// graphObject is a user, group or service principal as Graph lists it.
type graphObject struct {
	Type                 string `json:"@odata.type"`
	ID                   string `json:"id"`
	DisplayName          string `json:"displayName"`
	UserPrincipalName    string `json:"userPrincipalName"`
	UserType             string `json:"userType"`
	SecurityEnabled      bool   `json:"securityEnabled"`
	ServicePrincipalType string `json:"servicePrincipalType"`
}

// principal is what o says of itself; false for an object that is not a
// user, group or service principal (a device, a contact): none of those
// signs in to a cluster.
func (o graphObject) principal() (identity.Principal, bool) {
	p := identity.Principal{ID: o.ID, DisplayName: o.DisplayName, UserPrincipalName: o.UserPrincipalName}
	switch strings.TrimPrefix(o.Type, "#microsoft.graph.") {
	case "user":
		p.Kind, p.Guest = identity.KindUser, strings.EqualFold(o.UserType, "Guest")
	case "group":
		p.Kind, p.SecurityEnabled = identity.KindGroup, o.SecurityEnabled
	case "servicePrincipal":
		p.Kind, p.ServicePrincipalType = identity.KindServicePrincipal, o.ServicePrincipalType
	default:
		return p, false
	}
	return p, true
}

func decodeObjects(vals []json.RawMessage) ([]identity.Principal, error) {
	var out []identity.Principal
	for _, v := range vals {
		var o graphObject
		if err := json.Unmarshal(v, &o); err != nil {
			return out, fmt.Errorf("an object of Microsoft Graph: %w", err)
		}
		if o.Type == "" {
			o.Type = "#microsoft.graph.group" // a cast (.../microsoft.graph.group) may leave it out
		}
		if p, ok := o.principal(); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

const (
	selectPrincipal = "$select=id,displayName,userPrincipalName,userType,securityEnabled,servicePrincipalType"
	eligibilityPath = "/identityGovernance/privilegedAccess/group/eligibilitySchedules"
)

// user reads a user by UPN or id, else (an object id) a service
// principal or managed identity, which Kubernetes sees as the user its
// object id names; false when Graph knows neither. base is its Graph
// path: /users/ID or /servicePrincipals/ID.
func (p *GraphPeople) user(ctx context.Context, user string) (u identity.Principal, base string, found bool, err error) {
	var o graphObject
	err = p.G.do(ctx, http.MethodGet, p.G.BaseURL+"/v1.0/users/"+url.PathEscape(user)+"?$select=id,displayName,userPrincipalName,userType", nil, &o)
	if isNotFound(err) && looksLikeID(user) {
		o = graphObject{}
		err = p.G.do(ctx, http.MethodGet, p.G.BaseURL+"/v1.0/servicePrincipals/"+url.PathEscape(user)+"?$select=id,displayName,servicePrincipalType", nil, &o)
		if err == nil {
			o.Type = "#microsoft.graph.servicePrincipal"
			u, _ = o.principal()
			return u, "/servicePrincipals/" + url.PathEscape(u.ID), true, nil
		}
	}
	if isNotFound(err) {
		return identity.Principal{}, "", false, nil
	}
	if err != nil {
		return identity.Principal{}, "", false, refused(err, "the user "+user, permUsers)
	}
	o.Type = "#microsoft.graph.user"
	u, _ = o.principal()
	return u, "/users/" + url.PathEscape(u.ID), true, nil
}

// GroupsOf answers People.GroupsOf: the user's transitive groups
// (transitiveMemberOf), the security ones kept, each with its shortest
// chain, breadth first up the direct memberOf edges read in $batches.
//
// AKS's guard, on an overage token, asks Graph POST users/{upn}/getMemberGroups with securityEnabledOnly false: transitive, and non-security groups too.
// Source: https://github.com/kubeguard/guard/blob/master/auth/providers/azure/graph/graph.go (getGroupIDs).
func (p *GraphPeople) GroupsOf(ctx context.Context, user string) (*identity.Memberships, error) {
	u, base, found, err := p.user(ctx, user)
	if err != nil {
		return nil, err
	}
	if !found {
		out := &identity.Memberships{User: identity.Principal{Kind: identity.KindUser}}
		if looksLikeID(user) {
			out.User.ID = user
		} else {
			out.User.UserPrincipalName = user
		}
		return out, nil
	}
	out := &identity.Memberships{User: u, Found: true}
	all, err := p.G.getAll(ctx, []string{base + "/transitiveMemberOf/microsoft.graph.group?$select=id,displayName,securityEnabled"}, 0)
	if err == nil {
		err = all[0].Err
	}
	if err != nil {
		return nil, refused(err, "the groups of "+u.Label(), permGroups)
	}
	groups, err := decodeObjects(all[0].Values)
	if err != nil {
		return nil, err
	}
	byID := map[string]identity.Principal{}
	for _, g := range groups {
		byID[key(g.ID)] = g
	}

	// The direct edges of the user and of every group, for the chains.
	urls := []string{base + "/memberOf/microsoft.graph.group?$select=id"}
	for _, g := range groups {
		urls = append(urls, "/groups/"+url.PathEscape(g.ID)+"/memberOf/microsoft.graph.group?$select=id")
	}
	direct, err := p.G.getAll(ctx, urls, 0)
	if err != nil {
		return nil, refused(err, "the groups of "+u.Label(), permGroups)
	}
	parents := map[string][]string{}
	var unread []string
	for i, d := range direct {
		child, label := u.ID, u.Label()
		if i > 0 {
			child, label = groups[i-1].ID, "group "+groups[i-1].Label()
		}
		if d.Err != nil {
			if errors.Is(d.Err, ErrGraphForbidden) {
				return nil, refused(d.Err, "the groups of "+label, permGroups)
			}
			unread = append(unread, child)
			continue
		}
		ps, derr := decodeObjects(d.Values)
		if derr != nil {
			return nil, derr
		}
		for _, x := range ps {
			parents[key(child)] = append(parents[key(child)], x.ID)
		}
		slices.Sort(parents[key(child)])
	}

	// Breadth first from the user, parents in id order, as the directory
	// file does: the same edges give the same chains.
	type step struct {
		id  string
		via []identity.Principal
	}
	seen := map[string]bool{key(u.ID): true}
	holders := []string{u.ID}
	queue := []step{{id: u.ID}}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, g := range parents[key(s.id)] {
			gp, ok := byID[key(g)]
			if seen[key(g)] || !ok {
				continue
			}
			seen[key(g)] = true
			if gp.SecurityEnabled {
				out.Groups = append(out.Groups, identity.Membership{Group: gp, Via: slices.Clone(s.via)})
			}
			holders = append(holders, g)
			queue = append(queue, step{id: g, via: append(slices.Clone(s.via), gp)})
		}
	}
	// A group transitiveMemberOf lists but no edge reaches (Graph's
	// replicas lag a little): the user is in it, the chain is unknown.
	for _, g := range groups {
		if !seen[key(g.ID)] {
			seen[key(g.ID)] = true
			holders = append(holders, g.ID)
			if g.SecurityEnabled {
				out.Groups = append(out.Groups, identity.Membership{Group: g})
			}
		}
	}
	out.Overage = len(out.Groups) > identity.OverageLimit

	known := map[string]identity.Principal{key(u.ID): u}
	for _, g := range groups {
		known[key(g.ID)] = g
	}
	out.Eligible, err = p.eligibility(ctx, "principalId", holders, known)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		// The groups stand: only what the user may activate is missing.
		return out, fmt.Errorf("%w: PIM eligibility could not be read, so the groups %s may activate are not shown: %w", identity.ErrIncomplete, u.Label(), err)
	}
	if len(unread) > 0 {
		return out, fmt.Errorf("%w: the groups of %d groups %s is in could not be read, so some chains are missing (%s)", identity.ErrIncomplete, len(unread), u.Label(), strings.Join(unread[:min(3, len(unread))], ", "))
	}
	return out, nil
}

func key(id string) string { return strings.ToLower(id) }

func looksLikeID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}

// principal is a getByIds object as people read it.
func (o DirectoryObject) principal() identity.Principal {
	g := graphObject{Type: "#microsoft.graph." + o.Type, ID: o.ID, DisplayName: o.DisplayName, UserPrincipalName: o.UserPrincipalName,
		UserType: o.UserType, SecurityEnabled: o.SecurityEnabled, ServicePrincipalType: o.ServicePrincipalType}
	p, ok := g.principal()
	if !ok {
		return identity.Principal{ID: o.ID, DisplayName: o.DisplayName}
	}
	return p
}
