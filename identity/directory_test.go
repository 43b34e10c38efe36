package identity

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// demo is the directory the demo ships (testdata/demo/entra-directory.json).
func demo(t *testing.T) *Directory {
	t.Helper()
	d, err := LoadDirectory(t.Context(), []string{"../testdata/demo/entra-directory.json"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const (
	payments    = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e02"
	contractors = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e0b"
	admins      = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e01"
	opsLeads    = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e0a"
	sre         = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e04"
)

func TestDirectoryGroupsOf(t *testing.T) {
	d := demo(t)
	ctx := t.Context()
	// dave is in Payments Developers through Payments Contractors.
	m, err := d.GroupsOf(ctx, "DAVE@contoso.com")
	if err != nil || !m.Found {
		t.Fatalf("dave: %v %+v", err, m)
	}
	var got []string
	for _, g := range m.Groups {
		var via []string
		for _, v := range g.Via {
			via = append(via, v.DisplayName)
		}
		got = append(got, g.Group.DisplayName+"<"+strings.Join(via, ">"))
	}
	slices.Sort(got)
	if want := []string{"Payments Contractors<", "Payments Developers<Payments Contractors"}; !slices.Equal(got, want) {
		t.Errorf("dave's groups = %q, want %q", got, want)
	}
	// alice: the Microsoft 365 group is not a security group, so it is not
	// hers in a token; she is eligible for SRE On-call.
	m, err = d.GroupsOf(ctx, "0b5a1a8c-0000-4000-8000-0000000000a1")
	if err != nil {
		t.Fatal(err)
	}
	if ids := m.IDs(); !slices.Equal(ids, []string{payments}) {
		t.Errorf("alice's groups = %v, want only Payments Developers", ids)
	}
	if len(m.Eligible) != 1 || m.Eligible[0].Group.ID != sre || m.Eligible[0].Group.DisplayName != "SRE On-call" || m.Eligible[0].End.Year() != 2099 {
		t.Errorf("alice's eligibility = %+v", m.Eligible)
	}
	// Nobody: found false, no error, no groups.
	m, err = d.GroupsOf(ctx, "mallory@contoso.com")
	if err != nil || m.Found || len(m.Groups) > 0 || m.User.UserPrincipalName != "mallory@contoso.com" {
		t.Errorf("mallory = %+v, %v", m, err)
	}
}

func TestDirectoryEligibilityThroughAGroup(t *testing.T) {
	// PIM may make a group eligible: its members are then eligible too.
	d := &Directory{Kind: KindDirectory, EligibilityRead: true, Objects: []DirectoryEntry{
		{Principal: Principal{ID: "u1", Kind: KindUser, UserPrincipalName: "u1@x"}},
		{Principal: Principal{ID: "g1", Kind: KindGroup, SecurityEnabled: true}, Members: []string{"u1"}, MembersRead: true},
		{Principal: Principal{ID: "g2", Kind: KindGroup, SecurityEnabled: true, DisplayName: "admins"}, MembersRead: true},
	}, Eligibility: []Eligibility{{Group: Principal{ID: "g2"}, Principal: Principal{ID: "g1"}, AccessID: "member"}}}
	m, err := d.GroupsOf(t.Context(), "u1@x")
	if err != nil || len(m.Eligible) != 1 || m.Eligible[0].Group.DisplayName != "admins" || m.Eligible[0].Principal.ID != "g1" {
		t.Fatalf("%+v %v", m, err)
	}
	// Unread eligibility is said, beside the groups.
	d2 := *d
	d2.EligibilityRead, d2.byID = false, nil
	m, err = d2.GroupsOf(t.Context(), "u1@x")
	if !errors.Is(err, ErrIncomplete) || len(m.Groups) != 1 {
		t.Errorf("unread PIM: %+v %v", m, err)
	}
}

func TestDirectoryMembersOf(t *testing.T) {
	d := demo(t)
	ms, err := d.MembersOf(t.Context(), []string{payments, admins}, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := ms[payments]
	var got []string
	for _, m := range p.Members {
		got = append(got, m.Label())
	}
	if want := []string{"alice@contoso.com", "carol_fabrikam.com#EXT#@contoso.onmicrosoft.com", "dave@contoso.com", "Payments Contractors"}; !slices.Equal(got, want) {
		t.Errorf("members = %q, want %q", got, want)
	}
	if people, guests := p.People(); people != 3 || guests != 1 || p.Total != 4 || p.Truncated {
		t.Errorf("people %d guests %d total %d truncated %v", people, guests, p.Total, p.Truncated)
	}
	if dave := p.Members[2]; len(dave.Via) != 1 || dave.Via[0].ID != contractors {
		t.Errorf("dave's chain = %+v", dave.Via)
	}
	// Cut at the limit, said so.
	ms, _ = d.MembersOf(t.Context(), []string{payments}, 2)
	if p := ms[payments]; len(p.Members) != 2 || !p.Truncated || p.Total != 4 {
		t.Errorf("limited: %+v", p)
	}
	// A group whose members were not read is not "no members".
	_, err = d.MembersOf(t.Context(), []string{"6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4eff"}, 0)
	if !errors.Is(err, ErrIncomplete) {
		t.Errorf("unread group: err = %v", err)
	}
}

func TestDirectoryEligibleIn(t *testing.T) {
	d := demo(t)
	es, err := d.EligibleIn(t.Context(), []string{admins, payments})
	if err != nil {
		t.Fatal(err)
	}
	if e := es[admins]; len(e) != 1 || e[0].Principal.UserPrincipalName != "heidi@contoso.com" || e[0].AccessID != "member" || !e[0].Active(time.Now()) {
		t.Errorf("admins' eligible = %+v", e)
	}
	if len(es[payments]) != 0 {
		t.Errorf("payments has no eligible member: %+v", es[payments])
	}
	if e := (Eligibility{End: time.Now().Add(-time.Hour)}); e.Active(time.Now()) {
		t.Error("an ended schedule is active")
	}
}

// Graph's own pages read as the directory the tool writes.
func TestDirectoryFromGraphPages(t *testing.T) {
	pages := `[
 {"value": [
  {"@odata.type": "#microsoft.graph.group", "id": "g1", "displayName": "Team", "securityEnabled": true,
   "members": [{"@odata.type": "#microsoft.graph.user", "id": "u1", "userPrincipalName": "ann@x", "userType": "Guest"},
               {"@odata.type": "#microsoft.graph.group", "id": "g2", "displayName": "Inner"}]},
  {"@odata.type": "#microsoft.graph.group", "id": "g2", "displayName": "Inner", "securityEnabled": true,
   "members": [{"@odata.type": "#microsoft.graph.user", "id": "u2", "userPrincipalName": "ben@x"}]}
 ]},
 {"value": [{"id": "s1", "groupId": "g1", "principalId": "u3", "accessId": "owner",
   "scheduleInfo": {"startDateTime": "2026-01-01T00:00:00Z", "expiration": {"type": "afterDateTime", "endDateTime": "2099-01-01T00:00:00Z"}}}]}
]`
	d, err := ParseDirectory([]byte(pages))
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.GroupsOf(t.Context(), "ben@x")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Groups) != 2 || m.Groups[1].Group.ID != "g1" || len(m.Groups[1].Via) != 1 || m.Groups[1].Via[0].DisplayName != "Inner" {
		t.Errorf("ben's groups = %+v", m.Groups)
	}
	ms, _ := d.MembersOf(t.Context(), []string{"g1"}, 0)
	if g := ms["g1"]; g.Total != 3 || !g.Members[0].Guest {
		t.Errorf("g1's members = %+v", g)
	}
	es, err := d.EligibleIn(t.Context(), []string{"g1"})
	if err != nil || len(es["g1"]) != 1 || es["g1"][0].AccessID != "owner" || es["g1"][0].End.Year() != 2099 {
		t.Errorf("eligible = %+v %v", es, err)
	}
	// Round trip: the document written reads back the same.
	b, _ := json.Marshal(d)
	var head map[string]any
	_ = json.Unmarshal(b, &head)
	d.APIVersion, d.Kind = "kubectl-access/v1", KindDirectory
	b, _ = json.Marshal(d)
	d2, err := ParseDirectory(b)
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := d2.GroupsOf(t.Context(), "ben@x")
	if len(m2.Groups) != len(m.Groups) || m2.Groups[1].Via[0].ID != "g2" {
		t.Errorf("round trip: %+v", m2.Groups)
	}
}

func TestDirectoryRefusesAndNames(t *testing.T) {
	for _, bad := range []string{``, `{}`, `{"kind": "EntraDirectory", "objects": [{"kind": "user"}]}`, `{"kind": "EntraDirectory", "objects": [{"id": "x", "kind": "printer"}]}`, `{"value": [{"@odata.type": "#microsoft.graph.device", "id": "d"}]}`, `[1]`} {
		if _, err := ParseDirectory([]byte(bad)); err == nil {
			t.Errorf("%q was read", bad)
		}
	}
	// A display name that would stand for another group is not a name.
	d := &Directory{Objects: []DirectoryEntry{
		{Principal: Principal{ID: "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e99", Kind: KindGroup, DisplayName: "system:masters"}},
		{Principal: Principal{ID: "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e98", Kind: KindGroup, DisplayName: admins}},
		{Principal: Principal{ID: "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e97", Kind: KindGroup, DisplayName: "Honest"}},
	}}
	if n := d.Names(); len(n) != 1 || n["6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e97"] != "Honest" {
		t.Errorf("names = %v", n)
	}
	// A missing file is said with the flag.
	if _, err := LoadDirectory(context.Background(), []string{"/nonexistent/dir.json"}); err == nil || !strings.Contains(err.Error(), "--directory") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := os.Stat("../testdata/demo/entra-directory.json"); err != nil {
		t.Fatal(err)
	}
}

// TestDirectoryGroupsPartial: a group whose members were not read may
// hold the user: GroupsOf says its answer is partial (ErrGroupsPartial),
// beside the groups it found.
func TestDirectoryGroupsPartial(t *testing.T) {
	d := &Directory{Kind: KindDirectory, EligibilityRead: true, Objects: []DirectoryEntry{
		{Principal: Principal{ID: "u1", Kind: KindUser, UserPrincipalName: "u1@x"}},
		{Principal: Principal{ID: "g1", Kind: KindGroup, SecurityEnabled: true}, Members: []string{"u1"}, MembersRead: true},
		{Principal: Principal{ID: "g2", Kind: KindGroup, SecurityEnabled: true}},
	}}
	m, err := d.GroupsOf(t.Context(), "u1@x")
	if !errors.Is(err, ErrGroupsPartial) || !errors.Is(err, ErrIncomplete) || len(m.Groups) != 1 || !strings.Contains(err.Error(), "g2") {
		t.Errorf("a group unread: %+v, %v", m, err)
	}
	d.Objects[2].MembersRead, d.byID = true, nil
	if _, err = d.GroupsOf(t.Context(), "u1@x"); err != nil {
		t.Errorf("every group read: %v", err)
	}
}
