package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kubectl-access/kubectl-access/identity"
)

// ReadDirectory reads from Graph the part of the directory a cluster
// names: the groups (by object id), their members transitively (nested
// groups as entries of their own), the users and service principals met,
// and the groups' PIM for Groups eligibility schedules. It is what
// `kubectl access snapshot --entra` writes, and answers identity.People
// offline as GraphPeople does live for those groups.
//
// limit bounds the direct members read per group (0: DefaultMaxMembers):
// a group past it keeps MembersRead false, with a Gap, so a file never
// claims to know all of "All Employees". A group whose members could not
// be read is a Gap too, and the error wraps identity.ErrIncomplete beside
// the directory read; PIM refused is a Gap and EligibilityRead false, no
// error (the groups are still whole). A group id Graph does not know is a
// Gap only: there is nothing more to read.
func ReadDirectory(ctx context.Context, g *Graph, groups []string, limit int) (*identity.Directory, error) {
	d := &identity.Directory{APIVersion: "kubectl-access/v1", Kind: identity.KindDirectory, From: g.BaseURL, Taken: time.Now().UTC()}
	limit = cmp.Or(limit, DefaultMaxMembers)
	entries := map[string]*identity.DirectoryEntry{}
	add := func(p identity.Principal) *identity.DirectoryEntry {
		if e, ok := entries[key(p.ID)]; ok {
			return e
		}
		e := &identity.DirectoryEntry{Principal: p}
		entries[key(p.ID)] = e
		return e
	}

	heads, err := g.Objects(ctx, groups, []string{"group"})
	if err != nil {
		return nil, refused(err, "the groups", permObjs)
	}
	var level []string
	for _, h := range heads {
		if _, ok := entries[key(h.ID)]; !ok {
			add(h.principal())
			level = append(level, h.ID)
		}
	}
	for _, id := range groups {
		if _, ok := entries[key(id)]; !ok {
			d.Gaps = append(d.Gaps, fmt.Sprintf("group %s: Microsoft Graph does not know it (deleted, or not a group)", id))
		}
	}

	// Down the members, a level at a time, each group once.
	var errs []error
	r := &memberReader{g: g, max: limit, members: map[string][]identity.Principal{}, more: map[string]bool{}, failed: map[string]error{}}
	for len(level) > 0 {
		if err := r.read(ctx, level); err != nil {
			return nil, err
		}
		var next []string
		for _, id := range level {
			e := entries[key(id)]
			if err := r.failed[key(id)]; err != nil {
				if errors.Is(err, ErrGraphForbidden) {
					err = refused(err, fmt.Sprintf("the members of group %s (%s)", e.Label(), id), permGroups)
				} else {
					err = fmt.Errorf("the members of group %s (%s): %w", e.Label(), id, err)
				}
				d.Gaps = append(d.Gaps, err.Error())
				errs = append(errs, err)
				continue
			}
			if r.more[key(id)] {
				d.Gaps = append(d.Gaps, fmt.Sprintf("the members of group %s (%s): more than %d, not read", e.Label(), id, limit))
				continue
			}
			e.MembersRead = true
			for _, m := range r.members[key(id)] {
				e.Members = append(e.Members, m.ID)
				if _, met := entries[key(m.ID)]; met {
					continue
				}
				add(m)
				if m.Kind == identity.KindGroup {
					next = append(next, m.ID)
				}
			}
		}
		level = next
	}

	// PIM for Groups: the schedules of every group held.
	var held []string
	known := map[string]identity.Principal{}
	for _, e := range entries {
		known[key(e.ID)] = e.Principal
		if e.Kind == identity.KindGroup {
			held = append(held, e.ID)
		}
	}
	slices.Sort(held)
	es, err := readEligibility(ctx, g, "groupId", held, known)
	switch {
	case err == nil:
		d.Eligibility, d.EligibilityRead = es, true
		for _, e := range es {
			// Someone eligible who is no member: named, members unread.
			add(e.Principal)
		}
	case errors.Is(err, ErrGraphForbidden) || errors.Is(err, ErrGraphThrottled) || isGraphStatus(err):
		d.Gaps = append(d.Gaps, "PIM for Groups eligibility: "+err.Error())
	default:
		return nil, err
	}

	for _, e := range entries {
		if e.Kind == "" {
			continue // an id getByIds did not name: Graph no longer has it
		}
		d.Objects = append(d.Objects, *e)
	}
	slices.SortFunc(d.Objects, func(a, b identity.DirectoryEntry) int { return cmp.Compare(key(a.ID), key(b.ID)) })
	if len(errs) > 0 {
		return d, fmt.Errorf("%w: %w", identity.ErrIncomplete, errors.Join(errs...))
	}
	return d, nil
}

func isGraphStatus(err error) bool {
	var se *graphStatusError
	return errors.As(err, &se)
}
