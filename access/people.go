package access

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Warning codes of the people behind Entra groups.
const (
	// WarnPeople: the directory could not say who is in a group, or which
	// groups a user is in: the answer may miss access.
	WarnPeople rbac.WarningCode = "people"
	// WarnEligible: PIM eligibility could not be read, or a group is
	// eligible-only.
	WarnEligible rbac.WarningCode = "eligible"
	// WarnOverage: the user is in more than 200 groups.
	WarnOverage rbac.WarningCode = "groups-overage"
)

// DefaultMemberLimit is how many members of a group --expand-groups lists.
const DefaultMemberLimit = 50

// Memberships are the Entra groups found for a user, and where.
type Memberships struct {
	identity.Memberships `json:",inline"`
	// From names the directory asked (Microsoft Graph, or a file).
	From string `json:"from"`
	// Named are the ids of the groups among them that the cluster's
	// bindings or Azure's assignments name: the ones that grant anything.
	Named []string `json:"named,omitempty"`
}

// EligibleGrant is access a principal may activate through Privileged
// Identity Management: membership (or ownership) of Group, which the
// cluster grants through Paths. It is never active access.
type EligibleGrant struct {
	identity.Eligibility `json:",inline"`
	// Through is the group the cluster names when Group is nested in it
	// (and Via the groups between them).
	Through *identity.Principal  `json:"through,omitempty"`
	Via     []identity.Principal `json:"via,omitempty"`
	// Paths are what the group is granted (can, who-can); for an
	// eligible Azure role assignment, what activating it would grant.
	Paths []rbac.Path `json:"paths,omitempty"`
	// Azure is set for an eligible Azure role assignment (PIM for Azure
	// resources) in place of Group: the role, its scope and what it
	// would grant.
	Azure *rbac.AzureEligible `json:"azure,omitempty"`
}

// Until is the eligibility's end for people: "until 2027-01-31" or
// "with no end".
func (e *EligibleGrant) Until() string {
	if e.End.IsZero() {
		return "with no end"
	}
	return "until " + e.End.UTC().Format("2006-01-02")
}

// findsGroups says whether the app looks up subject's groups: an Entra
// user (a UPN or an object id: a person, a service principal or a
// managed identity) and a directory to ask.
func (s *Session) findsGroups(subject rbac.Subject) bool {
	id := subject.Identity()
	return s.App.People != nil && subject.Kind == rbac.UserKind && id.MayBeEntra()
}

// FindsGroups says whether the app looks up subject's Entra groups (an
// Entra user, and a directory to ask): the explorer asks FindGroups then.
func (s *Session) FindsGroups(subject rbac.Subject) bool { return s.findsGroups(subject) }

// FindGroups is what-can's lookup of subject's Entra groups, for the
// explorer: the subject with its groups added, where they came from, the
// warnings, and whether the lookup failed (the answer is then
// incomplete). It asks the directory: call it off the UI goroutine.
func (s *Session) FindGroups(ctx context.Context, subject rbac.Subject) (rbac.Subject, *Memberships, []rbac.Warning, bool) {
	return s.withGroups(ctx, subject)
}

// withGroups finds subject's groups through the app's directory and adds
// them to the subject (the --group ones stay). A failure leaves the
// subject as given and says the answer is incomplete; groups found in
// part are added, and the answer is incomplete too.
func (s *Session) withGroups(ctx context.Context, subject rbac.Subject) (rbac.Subject, *Memberships, []rbac.Warning, bool) {
	if !s.findsGroups(subject) {
		return subject, nil, nil, false
	}
	src := s.App.People.Source()
	m, err := s.App.People.GroupsOf(ctx, subject.Name)
	if m == nil || err != nil && !errors.Is(err, identity.ErrIncomplete) {
		if err == nil {
			err = errors.New("no answer")
		}
		return subject, nil, []rbac.Warning{rbac.Warnf(WarnPeople, "the Entra groups of %s could not be read from %s: %v; what a group grants them is not in the answer", subject, src, err)}, true
	}
	var warns []rbac.Warning
	// What the directory could only say in part: the user's groups
	// themselves (the answer is incomplete), or only what they may
	// activate, or the chains (said).
	partial := errors.Is(err, identity.ErrGroupsPartial)
	if err != nil {
		code := WarnEligible
		if partial {
			code = WarnPeople
		}
		warns = append(warns, rbac.Warnf(code, "%s: %v", src, err))
	}
	out := &Memberships{Memberships: *m, From: src}
	if !m.Found {
		warns = append(warns, rbac.Warnf(WarnPeople, "%s does not know %s: no group memberships found (a user of another tenant, or a name Kubernetes sees that Entra does not)", src, subject))
		return subject, out, warns, partial
	}
	if m.Overage {
		warns = append(warns, rbac.Warnf(WarnOverage, "%s is in %d security groups, more than the %d a token carries: the token has an overage claim instead. AKS's guard then reads the groups from Microsoft Graph (getMemberGroups, which counts Microsoft 365 groups too, left out here); an API server reading tokens itself (structured authentication) sees none of them", subject, len(m.Groups), identity.OverageLimit))
	}
	for _, g := range m.Groups {
		if !slices.Contains(subject.Groups, g.Group.ID) {
			subject.Groups = append(subject.Groups, g.Group.ID)
		}
		if s.Index.Names(rbac.Subject{Kind: rbac.GroupKind, Name: g.Group.ID}) {
			out.Named = append(out.Named, g.Group.ID)
		}
	}
	return subject, out, warns, partial
}

// eligibleFor are the grants the subject may activate for the request
// (nil at: what-can, every eligibility with the paths its group holds
// anywhere).
func (s *Session) eligibleFor(subject rbac.Subject, m *Memberships, at *rbac.Attributes) []EligibleGrant {
	if m == nil {
		return nil
	}
	now := time.Now()
	var out []EligibleGrant
	for _, e := range m.Eligible {
		if !e.Active(now) || slices.Contains(subject.Groups, e.Group.ID) {
			continue // not in force, or already a member
		}
		g := EligibleGrant{Eligibility: e}
		with := subject
		with.Groups = append(slices.Clone(subject.Groups), e.Group.ID)
		if at != nil {
			r := s.Index.Can(with.Identity(), *at)
			if !r.Allowed {
				continue
			}
			g.Paths = r.Via
		} else if !s.Index.Names(rbac.Subject{Kind: rbac.GroupKind, Name: e.Group.ID}) {
			continue
		}
		out = append(out, g)
	}
	return out
}

// ExpandGroups adds to a who-can answer the members of each group it
// names, up to limit each: users (guests marked), service principals and
// nested groups with their chain. A group whose members could not be read
// makes the answer incomplete.
func (s *Session) ExpandGroups(ctx context.Context, ans *WhoCanAnswer, limit int) {
	if s.App.People == nil {
		ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnPeople, "--expand-groups: no directory to ask: sign in with Entra ID (kubelogin, --login) for Microsoft Graph, or give --directory FILE (kubectl access snapshot --entra)"))
		ans.Incomplete = true
		return
	}
	groups := s.entraGroups(ans)
	if len(groups) == 0 {
		return
	}
	ms, err := s.App.People.MembersOf(ctx, groups, limit)
	for _, g := range groups {
		if m, ok := ms[g]; ok {
			if m.Group.DisplayName == "" {
				m.Group.DisplayName = s.App.Names.DisplayName(g)
			}
			ans.Members = append(ans.Members, *m)
		}
	}
	if err != nil {
		ans.Incomplete = true
		ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnPeople, "--expand-groups: %s: %v; the groups' members are listed in part", s.App.People.Source(), err))
	}
}

// Eligible adds to a who-can answer who may activate membership of the
// groups it names through PIM for Groups, and of the groups nested in
// them when ExpandGroups ran first.
func (s *Session) Eligible(ctx context.Context, ans *WhoCanAnswer) {
	s.azureEligible(ans)
	defer sortEligible(ans.Eligible)
	if s.App.People == nil {
		ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnEligible, "--eligible: no directory to ask for PIM for Groups: sign in with Entra ID (kubelogin, --login) for Microsoft Graph, or give --directory FILE (kubectl access snapshot --entra)"))
		ans.Incomplete = true
		return
	}
	bound := s.entraGroups(ans)
	paths := map[string][]rbac.Path{}
	for _, g := range ans.Subjects {
		if g.Kind == rbac.GroupKind {
			paths[g.Name] = g.Via
		}
	}
	// A nested group's eligible members become members of the group the
	// cluster names once they activate.
	type nest struct {
		through identity.Principal
		via     []identity.Principal
	}
	nested := map[string]nest{}
	groups := slices.Clone(bound)
	for _, m := range ans.Members {
		for _, x := range m.Members {
			if _, seen := nested[x.ID]; x.Kind == identity.KindGroup && !seen && paths[x.ID] == nil {
				nested[x.ID] = nest{through: m.Group, via: x.Via}
				groups = append(groups, x.ID)
			}
		}
	}
	es, err := s.App.People.EligibleIn(ctx, groups)
	now := time.Now()
	for _, g := range groups {
		for _, e := range es[g] {
			if !e.Active(now) {
				continue
			}
			eg := EligibleGrant{Eligibility: e, Paths: paths[g]}
			if n, ok := nested[g]; ok {
				through := n.through
				eg.Through, eg.Via, eg.Paths = &through, n.via, paths[n.through.ID]
			}
			ans.Eligible = append(ans.Eligible, eg)
		}
	}
	if err != nil {
		ans.Incomplete = true
		ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnEligible, "--eligible: %s: %v", s.App.People.Source(), err))
	}
}

// entraGroups are the groups a who-can answer names that Entra may hold
// (not system: groups), in the answer's order.
func (s *Session) entraGroups(ans *WhoCanAnswer) []string {
	var out []string
	for _, g := range ans.Subjects {
		if g.Kind == rbac.GroupKind && !strings.HasPrefix(g.Name, "system:") && !slices.Contains(out, g.Name) {
			out = append(out, g.Name)
		}
	}
	return out
}

// MembershipLine says how a user is in a group: "direct", or "via A, B".
func MembershipLine(m identity.Membership, names identity.Names) string {
	if len(m.Via) == 0 {
		return "direct member"
	}
	var via []string
	for _, p := range m.Via {
		via = append(via, groupLabel(p, names))
	}
	return "via " + strings.Join(via, " > ")
}

// groupLabel names a group for people: its display name, else the names
// file's, else its id.
func groupLabel(p identity.Principal, names identity.Names) string {
	return cmp.Or(p.DisplayName, names.DisplayName(p.ID), p.ID)
}

// MemberLine says who a member is for people: "alice@contoso.com (guest)
// via Team A".
func MemberLine(m identity.Member, names identity.Names) string {
	out := m.Label()
	switch {
	case m.Kind == identity.KindGroup:
		out = "group " + groupLabel(m.Principal, names)
	case m.Kind == identity.KindServicePrincipal:
		out = "service principal " + out
	case m.Guest:
		out += " (guest)"
	}
	if len(m.Via) > 0 {
		var via []string
		for _, p := range m.Via {
			via = append(via, groupLabel(p, names))
		}
		out += " via " + strings.Join(via, " > ")
	}
	return out
}

// MembersSummary counts a group's members for people: "42 people (3
// guests), 2 service principals, 1 nested group"; "50+ people" when cut
// at the limit.
func MembersSummary(m *identity.Members) string {
	people, guests := m.People()
	sps, groups := 0, 0
	for _, x := range m.Members {
		switch x.Kind {
		case identity.KindServicePrincipal:
			sps++
		case identity.KindGroup:
			groups++
		}
	}
	plus := ""
	if m.Truncated {
		plus = "+"
	}
	out := fmt.Sprintf("%d%s %s", people, plus, plural(people, "person", "people"))
	if guests > 0 {
		out += fmt.Sprintf(" (%d %s)", guests, plural(guests, "guest", "guests"))
	}
	if sps > 0 {
		out += fmt.Sprintf(", %d %s", sps, plural(sps, "service principal", "service principals"))
	}
	if groups > 0 {
		out += fmt.Sprintf(", %d nested %s", groups, plural(groups, "group", "groups"))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// EntraGroups are the Entra groups the cluster names, by object id: in
// its bindings and in Azure's role assignments, active or eligible. What a directory needs to
// hold for every answer about people here (snapshot --entra).
func (s *Session) EntraGroups() []string {
	var out []string
	add := func(name string) {
		if rbac.IsGUID(name) && !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, name) }) {
			out = append(out, name)
		}
	}
	for _, b := range s.Index.Bindings() {
		for _, sub := range b.Subjects {
			if sub.Kind == rbac.GroupKind {
				add(sub.Name)
			}
		}
	}
	for _, p := range s.Index.AzurePrincipals() {
		if p.Subject.Kind == rbac.GroupKind {
			add(p.Subject.Name)
		}
	}
	if d := s.Index.Snapshot().Azure; d != nil {
		for _, a := range d.Assignments {
			if strings.EqualFold(a.PrincipalType, rbac.AzureGroup) {
				add(a.PrincipalID)
			}
		}
		// A group eligible for a role (PIM for Azure resources): its
		// members may activate it.
		for _, e := range d.Eligible {
			if strings.EqualFold(e.PrincipalType, rbac.AzureGroup) {
				add(e.PrincipalID)
			}
		}
	}
	slices.Sort(out)
	return out
}
