package auth

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/identity"
)

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
				return nil, fmt.Errorf("an eligibility schedule of Microsoft Graph: %w", err)
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
