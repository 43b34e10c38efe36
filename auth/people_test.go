package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/testkit/entratest"
)

func oid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// The directory of the tests: alice is in g-nested, which is in
// g-payments, which is in g-platform; g-m365 is not a security group.
var (
	alice, bob, carol, dave   = oid(1), oid(2), oid(3), oid(4)
	gPayments, gNested, gM365 = oid(11), oid(12), oid(13)
	gPlatform                 = oid(14)
	deployBot, kubeletMI      = oid(21), oid(22)
	eligibleFrom              = time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	eligibleTo                = time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	carolUPN                  = "carol_fabrikam.com#EXT#@contoso.onmicrosoft.com"
	aliceUPN, bobUPN, daveUPN = "alice@contoso.com", "bob@contoso.com", "dave@contoso.com"
	testGroups                = []string{gPayments, gM365, gPlatform}
)

func testDirectory() *entratest.Directory {
	return &entratest.Directory{
		Users: []entratest.User{
			{ID: alice, UPN: aliceUPN, DisplayName: "Alice"},
			{ID: bob, UPN: bobUPN, DisplayName: "Bob"},
			{ID: carol, UPN: carolUPN, DisplayName: "Carol (Fabrikam)", Guest: true},
			{ID: dave, UPN: daveUPN, DisplayName: "Dave"},
		},
		Groups: []entratest.Group{
			{ID: gPayments, DisplayName: "g-payments", SecurityEnabled: true, Members: []string{gNested, bob, deployBot}},
			{ID: gNested, DisplayName: "g-nested", SecurityEnabled: true, Members: []string{alice, carol, kubeletMI}},
			{ID: gM365, DisplayName: "g-m365", Members: []string{alice}},
			{ID: gPlatform, DisplayName: "g-platform", SecurityEnabled: true, Members: []string{gPayments}},
		},
		ServicePrincipals: []entratest.ServicePrincipal{
			{ID: deployBot, DisplayName: "deploy-bot"},
			{ID: kubeletMI, DisplayName: "kubelet-mi", Type: "ManagedIdentity"},
		},
		Eligibility: []entratest.Schedule{
			{GroupID: gPayments, PrincipalID: dave, AccessID: "member", Start: eligibleFrom, End: eligibleTo},
			{GroupID: gPlatform, PrincipalID: gNested, AccessID: "owner", Start: eligibleFrom},
			{GroupID: gM365, PrincipalID: alice, AccessID: "member"},
		},
	}
}

// startGraph serves dir from a loopback Graph and returns a client of it
// with a Graph token, recording the waits instead of sleeping.
func startGraph(t *testing.T, dir *entratest.Directory) (*entratest.Issuer, *Graph, *[]time.Duration) {
	t.Helper()
	is, err := entratest.Start("contoso", "api://cluster", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	is.Directory = dir
	tok, err := is.GraphToken()
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	g := &Graph{BaseURL: is.Authority(), Client: is.HTTPClient(),
		Token: func(context.Context) (string, error) { return tok, nil },
		sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	return is, g, &slept
}

func labels[T any](xs []T, f func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

func chain(via []identity.Principal) string {
	return strings.Join(labels(via, identity.Principal.Label), " > ")
}

func TestGraphPeopleGroupsOf(t *testing.T) {
	_, g, _ := startGraph(t, testDirectory())
	p := &GraphPeople{G: g}
	m, err := p.GroupsOf(t.Context(), aliceUPN)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Found || m.User.ID != alice || m.User.DisplayName != "Alice" || m.Overage {
		t.Errorf("user %+v found %v overage %v", m.User, m.Found, m.Overage)
	}
	// g-m365 is not a security group: no token carries it.
	got := labels(m.Groups, func(x identity.Membership) string { return x.Group.Label() + " via [" + chain(x.Via) + "]" })
	want := []string{"g-nested via []", "g-payments via [g-nested]", "g-platform via [g-nested > g-payments]"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
	// alice may activate g-m365 herself, and owner of g-platform through g-nested.
	el := labels(m.Eligible, func(e identity.Eligibility) string {
		return e.Principal.Label() + " " + e.AccessID + " of " + e.Group.Label()
	})
	if d := cmp.Diff([]string{"alice@contoso.com member of g-m365", "g-nested owner of g-platform"}, el); d != "" {
		t.Errorf("eligible (-want +got):\n%s", d)
	}
	if !m.Eligible[1].Start.Equal(eligibleFrom) || !m.Eligible[1].End.IsZero() {
		t.Errorf("g-platform eligibility: %v..%v", m.Eligible[1].Start, m.Eligible[1].End)
	}

	// A managed identity is a user to Kubernetes (its object id): its
	// groups come from servicePrincipals/ID.
	m, err = p.GroupsOf(t.Context(), kubeletMI)
	if err != nil || !m.Found || m.User.Kind != identity.KindServicePrincipal || m.User.ServicePrincipalType != "ManagedIdentity" {
		t.Fatalf("the managed identity: %+v, %v", m, err)
	}
	got = labels(m.Groups, func(x identity.Membership) string { return x.Group.Label() + " via [" + chain(x.Via) + "]" })
	if d := cmp.Diff([]string{"g-nested via []", "g-payments via [g-nested]", "g-platform via [g-nested > g-payments]"}, got); d != "" {
		t.Errorf("the managed identity's groups (-want +got):\n%s", d)
	}

	// A UPN Graph does not know: not found, no error.
	m, err = p.GroupsOf(t.Context(), "nobody@contoso.com")
	if err != nil || m.Found || m.User.UserPrincipalName != "nobody@contoso.com" || len(m.Groups) != 0 {
		t.Errorf("unknown user: %+v, %v", m, err)
	}
}

func TestGraphPeopleMembersOf(t *testing.T) {
	_, g, _ := startGraph(t, testDirectory())
	p := &GraphPeople{G: g}
	ms, err := p.MembersOf(t.Context(), []string{gPayments}, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := ms[gPayments]
	got := labels(m.Members, func(x identity.Member) string {
		s := x.Kind + " " + x.Label() + " via [" + chain(x.Via) + "]"
		if x.Guest {
			s += " guest"
		}
		return s
	})
	want := []string{
		"user alice@contoso.com via [g-nested]",
		"user bob@contoso.com via []",
		"user " + carolUPN + " via [g-nested] guest",
		"servicePrincipal deploy-bot via []",
		"servicePrincipal kubelet-mi via [g-nested]",
		"group g-nested via []",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("members (-want +got):\n%s", d)
	}
	if people, guests := m.People(); m.Group.Label() != "g-payments" || m.Total != 6 || m.Truncated || people != 3 || guests != 1 {
		t.Errorf("group %s total %d truncated %v people %d guests %d", m.Group.Label(), m.Total, m.Truncated, people, guests)
	}
	if m.Members[4].ServicePrincipalType != "ManagedIdentity" {
		t.Errorf("kubelet-mi: %+v", m.Members[4])
	}

	// limit: the first two of six, Total still six.
	ms, err = p.MembersOf(t.Context(), []string{gPayments, gPlatform}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m := ms[gPayments]; len(m.Members) != 2 || m.Total != 6 || !m.Truncated || m.Members[0].ID != alice {
		t.Errorf("limit 2: %d members of %d, truncated %v", len(m.Members), m.Total, m.Truncated)
	}
	if m := ms[gPlatform]; len(m.Members) != 2 || m.Total != 7 || !m.Truncated {
		t.Errorf("g-platform limit 2: %d members of %d, truncated %v", len(m.Members), m.Total, m.Truncated)
	}

	// The hard cap: Graph is not read past MaxMembers, Total a lower bound.
	capped := &GraphPeople{G: g, MaxMembers: 3}
	ms, err = capped.MembersOf(t.Context(), []string{gPlatform}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m := ms[gPlatform]; len(m.Members) != 3 || m.Total != 3 || !m.Truncated {
		t.Errorf("capped at 3: %d members of %d, truncated %v", len(m.Members), m.Total, m.Truncated)
	}
}

func TestGraphPeoplePaging(t *testing.T) {
	dir := &entratest.Directory{Users: []entratest.User{{ID: alice, UPN: aliceUPN}}}
	// alice is in a chain of 30 groups, each in the next; g-big has 25 users.
	for i := range 30 {
		members := []string{alice}
		if i > 0 {
			members = []string{oid(100 + i - 1)}
		}
		dir.Groups = append(dir.Groups, entratest.Group{ID: oid(100 + i), DisplayName: fmt.Sprintf("chain-%02d", i), SecurityEnabled: true, Members: members})
	}
	big := entratest.Group{ID: oid(200), DisplayName: "g-big", SecurityEnabled: true}
	for i := range 25 {
		dir.Users = append(dir.Users, entratest.User{ID: oid(300 + i), UPN: fmt.Sprintf("user%02d@contoso.com", i)})
		big.Members = append(big.Members, oid(300+i))
	}
	dir.Groups = append(dir.Groups, big)
	is, g, _ := startGraph(t, dir)
	is.PageSize = 2
	p := &GraphPeople{G: g}

	m, err := p.GroupsOf(t.Context(), aliceUPN)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Groups) != 30 {
		t.Fatalf("%d groups over pages of 2, want 30", len(m.Groups))
	}
	if last := m.Groups[29]; last.Group.DisplayName != "chain-29" || len(last.Via) != 29 || last.Via[0].DisplayName != "chain-00" {
		t.Errorf("chain-29 via %s", chain(last.Via))
	}
	ms, err := p.MembersOf(t.Context(), []string{big.ID}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b := ms[big.ID]; b.Total != 25 || len(b.Members) != 25 || b.Members[24].UserPrincipalName != "user24@contoso.com" {
		t.Errorf("g-big: %d of %d", len(b.Members), b.Total)
	}
	// 31 memberOf reads (the user's and 30 groups'), 20 a batch, each then paged.
	batches := 0
	for _, r := range is.Requests {
		if r == "POST /v1.0/$batch" {
			batches++
		}
	}
	if batches < 3 {
		t.Errorf("%d $batch requests, want the memberOf reads split in batches of 20: %v", batches, is.Requests)
	}
}

func TestGraphPeopleThrottledInBatch(t *testing.T) {
	is, g, slept := startGraph(t, testDirectory())
	p := &GraphPeople{G: g}
	// Two of the three sub-requests of the one $batch answer 429.
	is.ThrottleNext(2, "1")
	es, err := p.EligibleIn(t.Context(), []string{gPayments, gM365, gPlatform})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for g, e := range es {
		got[g] = len(e)
	}
	if d := cmp.Diff(map[string]int{gPayments: 1, gM365: 1, gPlatform: 1}, got); d != "" {
		t.Errorf("schedules per group after a 429 (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]time.Duration{time.Second}, *slept); d != "" {
		t.Errorf("waits (Retry-After: 1) (-want +got):\n%s", d)
	}

	// Throttled past every retry: an error naming 429 and Retry-After.
	g.MaxRetries = 2
	is.ThrottleNext(1000, "0")
	_, err = p.MembersOf(t.Context(), []string{gPayments}, 0)
	if !errors.Is(err, ErrGraphThrottled) || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "Retry-After") {
		t.Errorf("throttled: %v", err)
	}
	is.ThrottleNext(0, "")
}

func TestGraphPeopleForbidden(t *testing.T) {
	is, g, _ := startGraph(t, testDirectory())
	is.Forbid("/members")
	p := &GraphPeople{G: g}
	ms, err := p.MembersOf(t.Context(), []string{gPayments}, 0)
	if !errors.Is(err, ErrGraphForbidden) || !strings.Contains(err.Error(), "GroupMember.Read.All") || !strings.Contains(err.Error(), "members of group") {
		t.Errorf("members refused: %v", err)
	}
	if m := ms[gPayments]; m != nil {
		t.Errorf("an answer beside the refusal: %+v", m)
	}

	is.Forbid("memberOf")
	m, err := p.GroupsOf(t.Context(), aliceUPN)
	if !errors.Is(err, ErrGraphForbidden) || m != nil || !strings.Contains(err.Error(), "the groups of alice@contoso.com") {
		t.Errorf("groups refused: %+v, %v", m, err)
	}
}

func TestGraphPeoplePIMForbidden(t *testing.T) {
	is, g, _ := startGraph(t, testDirectory())
	is.Forbid("eligibilitySchedules")
	p := &GraphPeople{G: g}
	m, err := p.GroupsOf(t.Context(), aliceUPN)
	if !errors.Is(err, identity.ErrIncomplete) || !errors.Is(err, ErrGraphForbidden) || !strings.Contains(err.Error(), "PIM eligibility") ||
		!strings.Contains(err.Error(), "PrivilegedEligibilitySchedule.Read.AzureADGroup") {
		t.Errorf("PIM refused: %v", err)
	}
	if m == nil || len(m.Groups) != 3 || m.Eligible != nil {
		t.Fatalf("the groups beside PIM refused: %+v", m)
	}
	if _, err := p.EligibleIn(t.Context(), []string{gPayments}); !errors.Is(err, ErrGraphForbidden) {
		t.Errorf("EligibleIn refused: %v", err)
	}
}

func TestGraphPeopleOverage(t *testing.T) {
	dir := &entratest.Directory{Users: []entratest.User{{ID: alice, UPN: aliceUPN}}}
	for i := range identity.OverageLimit + 1 {
		dir.Groups = append(dir.Groups, entratest.Group{ID: oid(1000 + i), DisplayName: fmt.Sprintf("g%03d", i), SecurityEnabled: true, Members: []string{alice}})
	}
	// Non-security groups do not count toward the limit.
	dir.Groups = append(dir.Groups, entratest.Group{ID: oid(999), DisplayName: "m365", Members: []string{alice}})
	_, g, _ := startGraph(t, dir)
	m, err := (&GraphPeople{G: g}).GroupsOf(t.Context(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Overage || len(m.Groups) != 201 || m.User.UserPrincipalName != aliceUPN {
		t.Errorf("overage %v with %d groups", m.Overage, len(m.Groups))
	}
	dir.Groups = dir.Groups[1:]
	if m, err := (&GraphPeople{G: g}).GroupsOf(t.Context(), alice); err != nil || m.Overage || len(m.Groups) != 200 {
		t.Errorf("200 groups: overage %v with %d, %v", m.Overage, len(m.Groups), err)
	}
}

func TestGraphPeopleEligibleIn(t *testing.T) {
	_, g, _ := startGraph(t, testDirectory())
	es, err := (&GraphPeople{G: g}).EligibleIn(t.Context(), []string{gPayments, gPlatform, gNested})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || len(es[gPayments]) != 1 || len(es[gPlatform]) != 1 {
		t.Fatalf("eligibility: %+v", es)
	}
	e := es[gPayments][0]
	if e.Principal.UserPrincipalName != daveUPN || e.Principal.Kind != identity.KindUser || e.Group.DisplayName != "g-payments" ||
		e.AccessID != "member" || !e.Start.Equal(eligibleFrom) || !e.End.Equal(eligibleTo) {
		t.Errorf("dave's: %+v", e)
	}
	if e := es[gPlatform][0]; e.Principal.DisplayName != "g-nested" || e.Principal.Kind != identity.KindGroup || e.AccessID != "owner" || !e.End.IsZero() {
		t.Errorf("g-nested's: %+v", e)
	}
}

// TestReadDirectoryAnswersAsGraph reads the directory, writes it as JSON,
// parses it back, and asks it what Graph was asked: the same answers.
func TestReadDirectoryAnswersAsGraph(t *testing.T) {
	_, g, _ := startGraph(t, testDirectory())
	d, err := ReadDirectory(t.Context(), g, testGroups, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !d.EligibilityRead || len(d.Gaps) != 0 || d.Kind != identity.KindDirectory || d.From != g.BaseURL || d.Taken.IsZero() {
		t.Errorf("directory: read %v gaps %v kind %s from %s", d.EligibilityRead, d.Gaps, d.Kind, d.From)
	}
	read := map[string]bool{}
	for _, o := range d.Objects {
		read[o.DisplayName] = o.MembersRead
	}
	if d := cmp.Diff(map[string]bool{"g-payments": true, "g-nested": true, "g-m365": true, "g-platform": true,
		"Alice": false, "Bob": false, "Carol (Fabrikam)": false, "Dave": false, "deploy-bot": false, "kubelet-mi": false}, read); d != "" {
		t.Errorf("objects (-want +got):\n%s", d)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	file, err := identity.ParseDirectory(b)
	if err != nil {
		t.Fatal(err)
	}
	live := &GraphPeople{G: g}
	for _, who := range []string{aliceUPN, bob, carolUPN, daveUPN, "nobody@contoso.com"} {
		want, werr := live.GroupsOf(t.Context(), who)
		got, gerr := file.GroupsOf(t.Context(), who)
		if werr != nil || gerr != nil {
			t.Fatalf("GroupsOf %s: graph %v, file %v", who, werr, gerr)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("GroupsOf %s (-graph +file):\n%s", who, d)
		}
	}
	if m, _ := file.GroupsOf(t.Context(), aliceUPN); len(m.Groups) != 3 || len(m.Eligible) != 2 {
		t.Errorf("alice from the file: %d groups, %d eligible", len(m.Groups), len(m.Eligible))
	}
	for _, limit := range []int{0, 2} {
		want, werr := live.MembersOf(t.Context(), testGroups, limit)
		got, gerr := file.MembersOf(t.Context(), testGroups, limit)
		if werr != nil || gerr != nil {
			t.Fatalf("MembersOf: graph %v, file %v", werr, gerr)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("MembersOf limit %d (-graph +file):\n%s", limit, d)
		}
		if want[gPlatform].Total != 7 {
			t.Errorf("g-platform: %d members", want[gPlatform].Total)
		}
	}
	want, werr := live.EligibleIn(t.Context(), testGroups)
	got, gerr := file.EligibleIn(t.Context(), testGroups)
	if werr != nil || gerr != nil {
		t.Fatalf("EligibleIn: graph %v, file %v", werr, gerr)
	}
	if d := cmp.Diff(want, got); d != "" || len(got) != 3 {
		t.Errorf("EligibleIn (-graph +file):\n%s", d)
	}
}

func TestReadDirectoryGaps(t *testing.T) {
	is, g, _ := startGraph(t, testDirectory())
	is.Forbid("eligibilitySchedules", "/groups/"+gNested+"/members")
	d, err := ReadDirectory(t.Context(), g, append([]string{oid(404)}, testGroups...), 0)
	if !errors.Is(err, identity.ErrIncomplete) || !errors.Is(err, ErrGraphForbidden) {
		t.Fatalf("g-nested's members refused: %v", err)
	}
	if d.EligibilityRead || len(d.Eligibility) != 0 {
		t.Errorf("PIM refused, yet read %v: %v", d.EligibilityRead, d.Eligibility)
	}
	gaps := strings.Join(d.Gaps, "\n")
	for _, want := range []string{oid(404) + ": Microsoft Graph does not know it", "the members of group g-nested", "PIM for Groups eligibility: Microsoft Graph refused", "PrivilegedEligibilitySchedule.Read.AzureADGroup"} {
		if !strings.Contains(gaps, want) {
			t.Errorf("gaps lack %q:\n%s", want, gaps)
		}
	}
	read := map[string]bool{}
	for _, o := range d.Objects {
		if o.Kind == identity.KindGroup {
			read[o.DisplayName] = o.MembersRead
		}
	}
	if d := cmp.Diff(map[string]bool{"g-payments": true, "g-nested": false, "g-m365": true, "g-platform": true}, read); d != "" {
		t.Errorf("members read (-want +got):\n%s", d)
	}
	// The file says what it lacks: g-payments' members in part.
	if _, err := d.MembersOf(t.Context(), []string{gPayments}, 0); !errors.Is(err, identity.ErrIncomplete) {
		t.Errorf("MembersOf from a directory with a gap: %v", err)
	}
}
