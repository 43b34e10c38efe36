package auth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

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
			return out, fmt.Errorf("Microsoft Graph's object: %w", err)
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

// user reads a user by UPN or id; false when Graph does not know them.
func (p *GraphPeople) user(ctx context.Context, user string) (identity.Principal, bool, error) {
	var o graphObject
	err := p.G.do(ctx, http.MethodGet, p.G.BaseURL+"/v1.0/users/"+url.PathEscape(user)+"?$select=id,displayName,userPrincipalName,userType", nil, &o)
	if isNotFound(err) {
		return identity.Principal{}, false, nil
	}
	if err != nil {
		return identity.Principal{}, false, refused(err, "the user "+user, permUsers)
	}
	o.Type = "#microsoft.graph.user"
	u, _ := o.principal()
	return u, true, nil
}

// GroupsOf answers People.GroupsOf: the user's transitive groups
// (transitiveMemberOf), the security ones kept, each with its shortest
// chain, breadth first up the direct memberOf edges read in $batches.
//
// AKS's guard, on an overage token, asks Graph POST users/{upn}/getMemberGroups with securityEnabledOnly false: transitive, and non-security groups too.
// Source: https://github.com/kubeguard/guard/blob/master/auth/providers/azure/graph/graph.go (getGroupIDs).
func (p *GraphPeople) GroupsOf(ctx context.Context, user string) (*identity.Memberships, error) {
	u, found, err := p.user(ctx, user)
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
	all, err := p.G.getAll(ctx, []string{"/users/" + url.PathEscape(u.ID) + "/transitiveMemberOf/microsoft.graph.group?$select=id,displayName,securityEnabled"}, 0)
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
	urls := []string{"/users/" + url.PathEscape(u.ID) + "/memberOf/microsoft.graph.group?$select=id"}
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
		ps, err := decodeObjects(d.Values)
		if err != nil {
			return nil, err
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

// eligibility reads the PIM for Groups eligibility schedules whose field
// (groupId or principalId) is one of ids, their groups and principals
// named from known, else from getByIds; sorted.
func (p *GraphPeople) eligibility(ctx context.Context, field string, ids []string, known map[string]identity.Principal) ([]identity.Eligibility, error) {
	return readEligibility(ctx, p.G, field, ids, known)
}

func readEligibility(ctx context.Context, g *Graph, field string, ids []string, known map[string]identity.Principal) ([]identity.Eligibility, error) {
	urls := make([]string, len(ids))
	for i, id := range ids {
		// %20, not +, for the spaces: OData reads a + as itself.
		filter := url.QueryEscape(field + " eq '" + strings.ReplaceAll(id, "'", "''") + "'")
		urls[i] = eligibilityPath + "?$filter=" + strings.ReplaceAll(filter, "+", "%20")
	}
	read, err := g.getAll(ctx, urls, 0)
	if err != nil {
		return nil, refused(err, "PIM for Groups eligibility schedules", permPIM)
	}
	var out []identity.Eligibility
	var unknown []string
	for _, r := range read {
		if r.Err != nil {
			return nil, refused(r.Err, "PIM for Groups eligibility schedules", permPIM)
		}
		for _, v := range r.Values {
			var s struct {
				GroupID      string `json:"groupId"`
				PrincipalID  string `json:"principalId"`
				AccessID     string `json:"accessId"`
				ScheduleInfo struct {
					StartDateTime *time.Time `json:"startDateTime"`
					Expiration    struct {
						EndDateTime *time.Time `json:"endDateTime"`
					} `json:"expiration"`
				} `json:"scheduleInfo"`
			}
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("Microsoft Graph's eligibility schedule: %w", err)
			}
			e := identity.Eligibility{Group: identity.Principal{ID: s.GroupID, Kind: identity.KindGroup}, Principal: identity.Principal{ID: s.PrincipalID}, AccessID: s.AccessID}
			if t := s.ScheduleInfo.StartDateTime; t != nil {
				e.Start = t.UTC()
			}
			if t := s.ScheduleInfo.Expiration.EndDateTime; t != nil {
				e.End = t.UTC()
			}
			out = append(out, e)
			for _, id := range []string{s.GroupID, s.PrincipalID} {
				if _, ok := known[key(id)]; !ok && !slices.Contains(unknown, id) {
					unknown = append(unknown, id)
				}
			}
		}
	}
	if len(unknown) > 0 {
		objs, err := g.Objects(ctx, unknown, []string{"user", "group", "servicePrincipal"})
		if err != nil {
			return nil, refused(err, "the objects PIM schedules name", permObjs)
		}
		for _, o := range objs {
			known[key(o.ID)] = o.principal()
		}
	}
	for i := range out {
		if x, ok := known[key(out[i].Group.ID)]; ok {
			out[i].Group = x
		}
		if x, ok := known[key(out[i].Principal.ID)]; ok {
			out[i].Principal = x
		}
	}
	sortEligibility(out)
	return slices.CompactFunc(out, func(a, b identity.Eligibility) bool { return compareEligibility(a, b) == 0 }), nil
}

func compareEligibility(a, b identity.Eligibility) int {
	return cmp.Or(cmp.Compare(key(a.Group.ID), key(b.Group.ID)), cmp.Compare(key(a.Principal.ID), key(b.Principal.ID)),
		cmp.Compare(a.AccessID, b.AccessID), a.Start.Compare(b.Start), a.End.Compare(b.End))
}

// sortEligibility orders schedules by group, principal, access and time,
// so Graph and a directory file list them alike.
func sortEligibility(es []identity.Eligibility) { slices.SortFunc(es, compareEligibility) }

// EligibleIn answers People.EligibleIn: the schedules of each group
// (groupId eq), their principals named with getByIds.
func (p *GraphPeople) EligibleIn(ctx context.Context, groups []string) (map[string][]identity.Eligibility, error) {
	es, err := p.eligibility(ctx, "groupId", groups, map[string]identity.Principal{})
	if err != nil {
		return nil, err
	}
	out := map[string][]identity.Eligibility{}
	for _, e := range es {
		for _, g := range groups {
			if strings.EqualFold(g, e.Group.ID) {
				out[g] = append(out[g], e)
			}
		}
	}
	return out, nil
}

// MembersOf answers People.MembersOf: breadth first down the direct
// members of each group, a level's groups read in $batches, each member
// once with the nested groups that bring it in.
func (p *GraphPeople) MembersOf(ctx context.Context, groups []string, limit int) (map[string]*identity.Members, error) {
	heads, err := p.G.Objects(ctx, groups, []string{"group"})
	if err != nil {
		return nil, refused(err, "the groups", permObjs)
	}
	head := map[string]identity.Principal{}
	for _, h := range heads {
		head[key(h.ID)] = h.principal()
	}
	maxMembers := cmp.Or(p.MaxMembers, DefaultMaxMembers)
	r := &memberReader{g: p.G, max: maxMembers, members: map[string][]identity.Principal{}, more: map[string]bool{}, failed: map[string]error{}}
	out := map[string]*identity.Members{}
	var unread []string
	for _, g := range groups {
		ms := &identity.Members{Group: cmp.Or(head[key(g)], identity.Principal{ID: g, Kind: identity.KindGroup})}
		type step struct {
			id  string
			via []identity.Principal
		}
		seen := map[string]bool{key(g): true}
		level := []step{{id: g}}
		var all []identity.Member
		capped := false
		for len(level) > 0 && !capped {
			ids := make([]string, len(level))
			for i, s := range level {
				ids[i] = s.id
			}
			if err := r.read(ctx, ids); err != nil {
				return out, err
			}
			var next []step
			for _, s := range level {
				if err := r.failed[key(s.id)]; err != nil {
					if errors.Is(err, ErrGraphForbidden) {
						return out, refused(err, "the members of group "+s.id, permGroups)
					}
					unread = append(unread, s.id)
					continue
				}
				capped = capped || r.more[key(s.id)]
				for _, m := range r.members[key(s.id)] {
					if seen[key(m.ID)] {
						continue
					}
					seen[key(m.ID)] = true
					all = append(all, identity.Member{Principal: m, Via: slices.Clone(s.via)})
					if m.Kind == identity.KindGroup {
						next = append(next, step{id: m.ID, via: append(slices.Clone(s.via), m)})
					}
				}
				if len(all) > maxMembers {
					capped = true
					break
				}
			}
			level = next
		}
		if capped {
			all = all[:min(len(all), maxMembers)]
		}
		identity.SortMembers(all)
		ms.Total = len(all)
		ms.Truncated = capped
		if limit > 0 && len(all) > limit {
			all, ms.Truncated = all[:limit], true
		}
		ms.Members = all
		out[g] = ms
	}
	if len(unread) > 0 {
		slices.Sort(unread)
		unread = slices.Compact(unread)
		return out, fmt.Errorf("%w: the members of %d groups could not be read from Microsoft Graph (%s): %w", identity.ErrIncomplete, len(unread), strings.Join(unread[:min(3, len(unread))], ", "), r.failed[key(unread[0])])
	}
	return out, nil
}

// memberReader reads groups' direct members once each, in $batches.
type memberReader struct {
	g       *Graph
	max     int
	members map[string][]identity.Principal
	more    map[string]bool // more members than max: not all read
	failed  map[string]error
}

func (r *memberReader) read(ctx context.Context, ids []string) error {
	var need []string
	for _, id := range ids {
		_, done := r.members[key(id)]
		if !done && r.failed[key(id)] == nil && !slices.Contains(need, id) {
			need = append(need, id)
		}
	}
	if len(need) == 0 {
		return nil
	}
	urls := make([]string, len(need))
	for i, id := range need {
		urls[i] = "/groups/" + url.PathEscape(id) + "/members?" + selectPrincipal + "&$top=999"
	}
	read, err := r.g.getAll(ctx, urls, r.max)
	if err != nil {
		return refused(err, "the members of groups", permGroups)
	}
	for i, x := range read {
		id := need[i]
		if x.Err != nil {
			r.failed[key(id)] = x.Err
			continue
		}
		ms, err := decodeObjects(x.Values)
		if err != nil {
			return err
		}
		r.members[key(id)] = ms
		r.more[key(id)] = x.More
	}
	return nil
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
