package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/internal/files"
)

// KindDirectory is the kind of the directory document `kubectl access
// snapshot --entra` writes.
const KindDirectory = "EntraDirectory"

// Directory is a part of an Entra directory, read once: the groups
// Kubernetes and Azure name, their members transitively, who those
// members are and who may activate membership through PIM. It answers
// People offline, the same as Graph does live, for every question about
// the groups it holds: a user in none of them holds nothing through a
// group the cluster names.
type Directory struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Source is where it was read (Graph's URL, or the files).
	From  string    `json:"source,omitempty"`
	Taken time.Time `json:"taken,omitzero"`
	// Objects are users, groups and service principals; a group's
	// Members are its direct members' ids, MembersRead says they were
	// read (all of them).
	Objects []DirectoryEntry `json:"objects"`
	// Eligibility are PIM for Groups eligibility schedules.
	Eligibility []Eligibility `json:"eligibility,omitempty"`
	// EligibilityRead says the schedules were read (an identity may read
	// groups and not PIM's schedules).
	EligibilityRead bool `json:"eligibilityRead,omitempty"`
	// Gaps say what could not be read.
	Gaps []string `json:"gaps,omitempty"`

	file    string
	byID    map[string]*DirectoryEntry
	byUPN   map[string]*DirectoryEntry
	parents map[string][]string // member id -> groups it is a direct member of
}

// DirectoryEntry is one object of a Directory.
type DirectoryEntry struct {
	Principal
	Members     []string `json:"members,omitempty"`
	MembersRead bool     `json:"membersRead,omitempty"`
}

// ErrIncomplete wraps the errors of answers the directory could only
// give in part.
var ErrIncomplete = errors.New("the directory does not hold it all")

// ErrGroupsPartial wraps ErrIncomplete when a user's groups themselves
// may be more than those found (a group whose members were not read):
// the answer counting them is incomplete, not only its eligibility.
var ErrGroupsPartial = fmt.Errorf("%w: some groups' members were not read, so the user may be in more", ErrIncomplete)

func key(id string) string { return strings.ToLower(id) }

// index builds the look-ups (once; Directory is not changed after).
func (d *Directory) index() {
	if d.byID != nil {
		return
	}
	d.byID = make(map[string]*DirectoryEntry, len(d.Objects))
	d.byUPN = map[string]*DirectoryEntry{}
	d.parents = map[string][]string{}
	for i := range d.Objects {
		o := &d.Objects[i]
		d.byID[key(o.ID)] = o
		if o.UserPrincipalName != "" {
			d.byUPN[key(o.UserPrincipalName)] = o
		}
	}
	for i := range d.Objects {
		o := &d.Objects[i]
		for _, m := range o.Members {
			d.parents[key(m)] = append(d.parents[key(m)], o.ID)
		}
	}
}

// Source names the directory for messages.
func (d *Directory) Source() string {
	if d.file != "" {
		return "directory " + d.file
	}
	return "directory"
}

// Lookup returns the object an id or a UPN names.
func (d *Directory) Lookup(idOrUPN string) (Principal, bool) {
	d.index()
	if o, ok := d.byID[key(idOrUPN)]; ok {
		return o.Principal, true
	}
	if o, ok := d.byUPN[key(idOrUPN)]; ok {
		return o.Principal, true
	}
	return Principal{}, false
}

// principal is what the directory knows of id, else the id alone.
func (d *Directory) principal(id string) Principal {
	if o, ok := d.byID[key(id)]; ok {
		return o.Principal
	}
	return Principal{ID: id}
}

// GroupsOf answers People.GroupsOf from the directory: breadth first up
// the member-of edges, so each group comes with its shortest chain.
func (d *Directory) GroupsOf(ctx context.Context, user string) (*Memberships, error) {
	d.index()
	p, ok := d.Lookup(user)
	out := &Memberships{User: p, Found: ok}
	if !ok {
		out.User = Principal{Kind: KindUser}
		if looksLikeID(user) {
			out.User.ID = user
		} else {
			out.User.UserPrincipalName = user
		}
		return out, nil
	}
	type step struct {
		id  string
		via []Principal
	}
	seen := map[string]bool{key(p.ID): true}
	queue := []step{{id: p.ID}}
	var holders []string // the user and every group the user is in
	holders = append(holders, p.ID)
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := queue[0]
		queue = queue[1:]
		parents := slices.Clone(d.parents[key(s.id)])
		slices.Sort(parents)
		for _, g := range parents {
			if seen[key(g)] {
				continue
			}
			seen[key(g)] = true
			gp := d.principal(g)
			if gp.SecurityEnabled {
				out.Groups = append(out.Groups, Membership{Group: gp, Via: slices.Clone(s.via)})
			}
			holders = append(holders, g)
			queue = append(queue, step{id: g, via: append(slices.Clone(s.via), gp)})
		}
	}
	out.Overage = len(out.Groups) > OverageLimit
	for _, e := range d.Eligibility {
		if slices.ContainsFunc(holders, func(h string) bool { return strings.EqualFold(h, e.Principal.ID) }) {
			e.Group = d.principal(e.Group.ID)
			e.Principal = d.principal(e.Principal.ID)
			out.Eligible = append(out.Eligible, e)
		}
	}
	var errs []error
	if unread := d.unreadGroups(); len(unread) > 0 {
		errs = append(errs, fmt.Errorf("%w (%d: %s)", ErrGroupsPartial, len(unread), strings.Join(unread[:min(3, len(unread))], ", ")))
	}
	if !d.EligibilityRead {
		errs = append(errs, fmt.Errorf("%w: PIM eligibility was not read", ErrIncomplete))
	}
	return out, errors.Join(errs...)
}

// unreadGroups are the groups the directory holds without their members:
// a user may be in them, or in groups under them, unseen.
func (d *Directory) unreadGroups() []string {
	var out []string
	for _, o := range d.Objects {
		if o.Kind == KindGroup && !o.MembersRead {
			out = append(out, o.ID)
		}
	}
	slices.Sort(out)
	return out
}

// MembersOf answers People.MembersOf from the directory: breadth first
// down the member edges. A group whose members were not read is an
// ErrIncomplete error, beside what the others have.
func (d *Directory) MembersOf(ctx context.Context, groups []string, limit int) (map[string]*Members, error) {
	d.index()
	out := map[string]*Members{}
	var unread []string
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ms := &Members{Group: d.principal(g)}
		type step struct {
			id  string
			via []Principal
		}
		seen := map[string]bool{key(g): true}
		queue := []step{{id: g}}
		var all []Member
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			o, ok := d.byID[key(s.id)]
			if !ok || !o.MembersRead {
				unread = append(unread, s.id)
				continue
			}
			for _, m := range o.Members {
				if seen[key(m)] {
					continue
				}
				seen[key(m)] = true
				mp := d.principal(m)
				if mp.Kind == "" {
					mp.Kind = KindUser
				}
				all = append(all, Member{Principal: mp, Via: slices.Clone(s.via)})
				if mp.Kind == KindGroup {
					queue = append(queue, step{id: m, via: append(slices.Clone(s.via), mp)})
				}
			}
		}
		sortMembers(all)
		ms.Total = len(all)
		if limit > 0 && len(all) > limit {
			all, ms.Truncated = all[:limit], true
		}
		ms.Members = all
		out[g] = ms
	}
	if len(unread) > 0 {
		slices.Sort(unread)
		unread = slices.Compact(unread)
		return out, fmt.Errorf("%w: the members of %d groups were not read (%s)", ErrIncomplete, len(unread), strings.Join(unread[:min(3, len(unread))], ", "))
	}
	return out, nil
}

// EligibleIn answers People.EligibleIn from the directory.
func (d *Directory) EligibleIn(ctx context.Context, groups []string) (map[string][]Eligibility, error) {
	d.index()
	out := map[string][]Eligibility{}
	for _, e := range d.Eligibility {
		for _, g := range groups {
			if strings.EqualFold(g, e.Group.ID) {
				e.Group = d.principal(e.Group.ID)
				e.Principal = d.principal(e.Principal.ID)
				out[g] = append(out[g], e)
			}
		}
	}
	if !d.EligibilityRead {
		return out, fmt.Errorf("%w: PIM eligibility was not read", ErrIncomplete)
	}
	return out, nil
}

// Names are the display names of the directory's groups, for the names
// file's uses (tables, group:"Display Name"). A display name that could
// stand for another group (a system: name, an object id, another
// group's id) is left out, as a names file's is refused: whoever creates
// a group chooses its name.
func (d *Directory) Names() Names {
	out := Names{}
	for _, o := range d.Objects {
		if o.Kind == KindGroup && o.DisplayName != "" && o.DisplayName != o.ID {
			out[o.ID] = o.DisplayName
		}
	}
	for id, name := range out {
		if _, isID := out[name]; literal(name) || isID {
			delete(out, id)
		}
	}
	return out
}

func looksLikeID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}

// LoadDirectory reads directory files: the document `kubectl access
// snapshot --entra` writes (alone, or inside a snapshot), or Microsoft
// Graph's own JSON pages ({"value": [...]}, or a list of them): users,
// groups (their members when expanded, $expand=members), service
// principals and PIM for Groups eligibility schedules. Several files are
// merged.
func LoadDirectory(ctx context.Context, paths []string) (*Directory, error) {
	out := &Directory{APIVersion: "kubectl-access/v1", Kind: KindDirectory, file: strings.Join(paths, ", "), From: strings.Join(paths, ", ")}
	for _, p := range paths {
		b, err := files.Read(ctx, files.Input{What: "--directory", Path: p, Max: files.MaxNames})
		if err != nil {
			return nil, err
		}
		d, err := ParseDirectory(b)
		if err != nil {
			return nil, fmt.Errorf("--directory %s: %w", p, err)
		}
		out.merge(d)
	}
	return out, nil
}

func (d *Directory) merge(x *Directory) {
	at := map[string]int{}
	for i, o := range d.Objects {
		at[key(o.ID)] = i
	}
	for _, o := range x.Objects {
		if i, ok := at[key(o.ID)]; ok {
			old := &d.Objects[i]
			if o.MembersRead || len(o.Members) > 0 {
				old.Members = append(old.Members, o.Members...)
				slices.Sort(old.Members)
				old.Members = slices.Compact(old.Members)
				old.MembersRead = old.MembersRead || o.MembersRead
			}
			old.fill(o.Principal)
			continue
		}
		at[key(o.ID)] = len(d.Objects)
		d.Objects = append(d.Objects, o)
	}
	d.Eligibility = append(d.Eligibility, x.Eligibility...)
	d.EligibilityRead = d.EligibilityRead || x.EligibilityRead
	d.Gaps = append(d.Gaps, x.Gaps...)
	d.byID = nil
}

// fill sets what p says and the entry does not.
func (e *DirectoryEntry) fill(p Principal) {
	if e.Kind == "" {
		e.Kind = p.Kind
	}
	if e.DisplayName == "" {
		e.DisplayName = p.DisplayName
	}
	if e.UserPrincipalName == "" {
		e.UserPrincipalName = p.UserPrincipalName
	}
	if e.ServicePrincipalType == "" {
		e.ServicePrincipalType = p.ServicePrincipalType
	}
	e.Guest = e.Guest || p.Guest
	e.SecurityEnabled = e.SecurityEnabled || p.SecurityEnabled
}

// ParseDirectory reads one directory file's content (see LoadDirectory).
func ParseDirectory(b []byte) (*Directory, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errors.New("empty: want the JSON of kubectl access snapshot --entra, or Microsoft Graph's pages")
	}
	var head struct {
		Kind  string          `json:"kind"`
		Entra json.RawMessage `json:"entra"`
		Value json.RawMessage `json:"value"`
	}
	if b[0] == '[' {
		var pages []json.RawMessage
		if err := json.Unmarshal(b, &pages); err != nil {
			return nil, fmt.Errorf("not a JSON list of Graph pages: %v", err)
		}
		out := &Directory{}
		for i, p := range pages {
			d, err := ParseDirectory(p)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out.merge(d)
		}
		return out, nil
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	switch {
	case head.Kind == KindDirectory:
		var d Directory
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, err
		}
		return &d, d.check()
	case len(head.Entra) > 0 && string(head.Entra) != "null":
		// A snapshot that carries the directory (snapshot --entra).
		return ParseDirectory(head.Entra)
	case len(head.Value) > 0:
		return parseGraphPage(head.Value)
	}
	return nil, errors.New("neither an EntraDirectory document (kubectl access snapshot --entra) nor a Microsoft Graph page ({\"value\": [...]})")
}

// check refuses a directory whose objects could stand for others.
func (d *Directory) check() error {
	for _, o := range d.Objects {
		if o.ID == "" {
			return errors.New("an object without an id")
		}
		switch o.Kind {
		case KindUser, KindGroup, KindServicePrincipal:
		default:
			return fmt.Errorf("object %s: kind %q is not user, group or servicePrincipal", o.ID, o.Kind)
		}
	}
	return nil
}

// graphObject is one object of a Graph page, of any type.
type graphObject struct {
	Type                 string          `json:"@odata.type"`
	ID                   string          `json:"id"`
	DisplayName          string          `json:"displayName"`
	UserPrincipalName    string          `json:"userPrincipalName"`
	UserType             string          `json:"userType"`
	SecurityEnabled      *bool           `json:"securityEnabled"`
	ServicePrincipalType string          `json:"servicePrincipalType"`
	Members              json.RawMessage `json:"members"`
	// A PIM for Groups eligibility schedule's.
	GroupID      string `json:"groupId"`
	PrincipalID  string `json:"principalId"`
	AccessID     string `json:"accessId"`
	ScheduleInfo *struct {
		StartDateTime *time.Time `json:"startDateTime"`
		Expiration    *struct {
			EndDateTime *time.Time `json:"endDateTime"`
		} `json:"expiration"`
	} `json:"scheduleInfo"`
}

// GraphPrincipal is what a Graph object says of itself; ok is false for
// an object that is not a user, group or service principal.
func (o graphObject) principal() (Principal, bool) {
	p := Principal{ID: o.ID, DisplayName: o.DisplayName, UserPrincipalName: o.UserPrincipalName, ServicePrincipalType: o.ServicePrincipalType}
	switch strings.TrimPrefix(o.Type, "#microsoft.graph.") {
	case "user":
		p.Kind, p.Guest = KindUser, strings.EqualFold(o.UserType, "Guest")
	case "group":
		// A page read without $select carries securityEnabled; one that
		// leaves it out is taken as a security group.
		p.Kind, p.SecurityEnabled = KindGroup, o.SecurityEnabled == nil || *o.SecurityEnabled
	case "servicePrincipal":
		p.Kind = KindServicePrincipal
	default:
		return p, false
	}
	return p, true
}

func parseGraphPage(value json.RawMessage) (*Directory, error) {
	var objs []graphObject
	if err := json.Unmarshal(value, &objs); err != nil {
		return nil, fmt.Errorf("a Graph page's value: %v", err)
	}
	d := &Directory{}
	for _, o := range objs {
		if o.AccessID != "" && o.GroupID != "" && o.PrincipalID != "" {
			e := Eligibility{Group: Principal{ID: o.GroupID, Kind: KindGroup}, Principal: Principal{ID: o.PrincipalID}, AccessID: o.AccessID}
			if s := o.ScheduleInfo; s != nil {
				if s.StartDateTime != nil {
					e.Start = *s.StartDateTime
				}
				if s.Expiration != nil && s.Expiration.EndDateTime != nil {
					e.End = *s.Expiration.EndDateTime
				}
			}
			d.Eligibility = append(d.Eligibility, e)
			d.EligibilityRead = true
			continue
		}
		p, ok := o.principal()
		if !ok {
			if o.ID == "" {
				return nil, errors.New("an object without an id or @odata.type")
			}
			return nil, fmt.Errorf("object %s: @odata.type %q is not a user, group, service principal or eligibility schedule", o.ID, o.Type)
		}
		e := DirectoryEntry{Principal: p}
		if len(o.Members) > 0 && string(o.Members) != "null" {
			var ms []graphObject
			if err := json.Unmarshal(o.Members, &ms); err != nil {
				return nil, fmt.Errorf("group %s: members: %v", o.ID, err)
			}
			e.MembersRead = true
			for _, m := range ms {
				e.Members = append(e.Members, m.ID)
				if mp, ok := m.principal(); ok {
					d.Objects = append(d.Objects, DirectoryEntry{Principal: mp})
				}
			}
		}
		d.Objects = append(d.Objects, e)
	}
	// Members listed before their own page: keep one entry each, the
	// fullest.
	merged := &Directory{}
	merged.merge(d)
	merged.Eligibility, merged.EligibilityRead = d.Eligibility, d.EligibilityRead
	return merged, nil
}
