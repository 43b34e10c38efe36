package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/identity"
)

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
