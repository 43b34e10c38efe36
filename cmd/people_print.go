package cmd

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// printMemberships says which of a user's Entra groups the answer counts:
// the ones the cluster names, each with its chain; wide lists the others
// too.
func printMemberships(w io.Writer, names identity.Names, subject rbac.Subject, m *access.Memberships, wide bool) {
	if m == nil || !m.Found {
		return
	}
	fmt.Fprintf(w, "\nGroups of %s (%s): %d, %d named by the cluster's bindings or Azure's assignments\n", cell(subject.Name), cell(m.From), len(m.Groups), len(m.Named))
	t := newTable(w)
	fmt.Fprintln(t, "GROUP\tHOW")
	for _, g := range m.Groups {
		if !wide && !slices.Contains(m.Named, g.Group.ID) {
			continue
		}
		fmt.Fprintf(t, "%s\t%s\n", cell(groupName(names, g.Group)), cell(access.MembershipLine(g, names)))
	}
	_ = t.Flush() // the command's output: a failed write has nowhere to go
	if other := len(m.Groups) - len(m.Named); other > 0 && !wide {
		fmt.Fprintf(w, "(%d more groups grant nothing here; -o wide lists them)\n", other)
	}
}

// printEligible lists access the subject may activate through PIM,
// apart from what it holds.
func printEligible(w io.Writer, names identity.Names, es []access.EligibleGrant, head string) {
	if len(es) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", head)
	t := newTable(w)
	fmt.Fprintln(t, "PRINCIPAL\tELIGIBLE FOR\tUNTIL\tWHICH HOLDS IT VIA")
	for i := range es {
		e := &es[i]
		if e.Azure != nil {
			fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", cell(principalLabel(e.Principal)), cell(e.AzureLine()+" (PIM for Azure resources)"), cell(strings.TrimPrefix(e.Until(), "until ")), cell(heldVia(e.Paths)))
			continue
		}
		group := groupName(names, e.Group)
		if e.Through != nil {
			var via []string
			for _, p := range e.Via {
				via = append(via, cmpName(p, names))
			}
			group += " (in " + strings.Join(append(via, cmpName(*e.Through, names)), " > ") + ")"
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", cell(principalLabel(e.Principal)), cell(e.AccessID+" of "+group), cell(strings.TrimPrefix(e.Until(), "until ")), cell(heldVia(e.Paths)))
	}
	_ = t.Flush() // the command's output
}

// heldVia is the first path of an eligible grant, and how many more.
func heldVia(ps []rbac.Path) string {
	if len(ps) == 0 {
		return ""
	}
	held := via(ps[0])
	if len(ps) > 1 {
		held += fmt.Sprintf(" (+%d)", len(ps)-1)
	}
	return held
}

// printMembers lists the members of each group a who-can answer names.
func printMembers(w io.Writer, names identity.Names, ms []identity.Members) {
	if len(ms) == 0 {
		return
	}
	fmt.Fprintf(w, "\nMembers of the groups (--expand-groups):\n")
	for i := range ms {
		m := &ms[i]
		fmt.Fprintf(w, "  %s: %s\n", cell(groupName(names, m.Group)), cell(access.MembersSummary(m)))
		for _, x := range m.Members {
			fmt.Fprintf(w, "    %s\n", cell(access.MemberLine(x, names)))
		}
		if m.Truncated {
			fmt.Fprintf(w, "    ... %s (--member-limit N lists more)\n", moreMembers(m))
		}
	}
}

func moreMembers(m *identity.Members) string {
	if more := m.Total - len(m.Members); more > 0 {
		return fmt.Sprintf("and %d more", more)
	}
	return "and more"
}

// memberRows are who-can's flat rows for the groups' members and the
// eligible: each person with the path that reaches them, their DISPLAY
// NAME cell saying how.
func memberRows(ans *access.WhoCanAnswer, names identity.Names) [][]string {
	paths := map[string][]rbac.Path{}
	for _, g := range ans.Subjects {
		if g.Kind == rbac.GroupKind {
			paths[g.Name] = g.Via
		}
	}
	var out [][]string
	add := func(who identity.Principal, how string, ps []rbac.Path) {
		for _, p := range ps {
			out = append(out, []string{principalSubject(who), how, access.PathWhere(&p), bindingOf(p), roleOf(p), ruleOf(p)})
		}
	}
	for i := range ans.Members {
		m := &ans.Members[i]
		for _, x := range m.Members {
			how := "member of " + groupName(names, m.Group)
			if len(x.Via) > 0 {
				var via []string
				for _, p := range x.Via {
					via = append(via, cmpName(p, names))
				}
				how += " via " + strings.Join(via, " > ")
			}
			if x.Guest {
				how += " (guest)"
			}
			add(x.Principal, how, paths[m.Group.ID])
		}
	}
	for i := range ans.Eligible {
		e := &ans.Eligible[i]
		if e.Azure != nil {
			add(e.Principal, "eligible (PIM for Azure resources): can activate "+e.AzureLine()+" "+e.Until()+", not active", e.Paths)
			continue
		}
		add(e.Principal, "eligible (PIM) for "+e.AccessID+" of "+groupName(names, e.Group)+" "+e.Until()+", not active", e.Paths)
	}
	return out
}

// whatCanPeopleRows are what-can's CSV and Markdown rows for how a user
// comes to its groups (each group the cluster or Azure names, with its
// chain) and for what it may activate through PIM (a row per path, never
// counted as access), in what-can's columns: WHERE, VERBS, RESOURCES,
// BINDING, ROLE. The words are who-can's (memberRows).
func whatCanPeopleRows(ans *access.WhatCanAnswer, names identity.Names) [][]string {
	var out [][]string
	if m := ans.Memberships; m != nil && m.Found {
		for _, g := range m.Groups {
			if slices.Contains(m.Named, g.Group.ID) {
				out = append(out, []string{"", "", "member of " + groupName(names, g.Group) + ": " + access.MembershipLine(g, names), "", ""})
			}
		}
	}
	for i := range ans.Eligible {
		e := &ans.Eligible[i]
		how := "eligible (PIM) for " + e.AccessID + " of " + groupName(names, e.Group) + " " + e.Until() + ", not active"
		if e.Azure != nil {
			how = "eligible (PIM for Azure resources): can activate " + e.AzureLine() + " " + e.Until() + ", not active"
		}
		if len(e.Paths) == 0 {
			// A group's eligibility: what the group holds is its own
			// what-can.
			out = append(out, []string{"", "", how + " (what-can group:" + e.Group.ID + " lists what it holds)", "", ""})
		}
		for _, p := range e.Paths {
			out = append(out, []string{access.PathWhere(&p), "", how + ": " + ruleOf(p), bindingOf(p), roleOf(p)})
		}
	}
	return out
}

// principalSubject writes a directory principal as a subject: a user by
// UPN, a group or service principal by object id.
func principalSubject(p identity.Principal) string {
	switch p.Kind {
	case identity.KindGroup:
		return "group:" + p.ID
	case identity.KindServicePrincipal:
		if strings.EqualFold(p.ServicePrincipalType, "ManagedIdentity") {
			return "managedidentity:" + p.ID
		}
		return "serviceprincipal:" + p.ID
	}
	if p.UserPrincipalName != "" {
		return "user:" + p.UserPrincipalName
	}
	return "user:" + p.ID
}

// principalLabel is a principal for a table cell.
func principalLabel(p identity.Principal) string {
	out := principalSubject(p)
	if p.Kind == identity.KindGroup && p.DisplayName != "" && p.DisplayName != p.ID {
		out += " (" + p.DisplayName + ")"
	}
	if p.Guest {
		out += " (guest)"
	}
	return out
}

func cmpName(p identity.Principal, names identity.Names) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	if n := names.DisplayName(p.ID); n != "" {
		return n
	}
	return p.ID
}

// groupName is a group as a subject, with its display name beside its id:
// the names file's, else what the directory said.
func groupName(names identity.Names, p identity.Principal) string {
	out := names.Subject(rbac.Subject{Kind: rbac.GroupKind, Name: p.ID})
	if names.DisplayName(p.ID) == "" && p.DisplayName != "" && p.DisplayName != p.ID {
		out += " (" + p.DisplayName + ")"
	}
	return out
}
