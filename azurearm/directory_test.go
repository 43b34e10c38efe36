package azurearm

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestDirectory: Microsoft Graph, asked with the same Azure sign-in (a
// token for Graph's audience from the loopback issuer), names users by UPN
// and groups and service principals by display name, counts each group's
// members, and leaves out the ids it does not know (deleted principals).
// Member counts it refuses come back as ErrMemberCounts with the names; a
// Graph the credential cannot get a token for is an error, with no secret
// in it.
func TestDirectory(t *testing.T) {
	a := newFakeARM(t, loadFixture(t))
	const (
		user  = "10000000-0000-4000-8000-000000000001"
		group = "20000000-0000-4000-8000-000000000002"
		sp    = "30000000-0000-4000-8000-000000000003"
		gone  = "40000000-0000-4000-8000-000000000004"
		mi    = "50000000-0000-4000-8000-000000000005"
	)
	a.issuer.Users = map[string]string{user: "ann@contoso.com"}
	a.issuer.GroupNames = map[string]string{group: "platform"}
	a.issuer.ServicePrincipals = map[string]string{sp: "deploy-bot"}
	a.issuer.ManagedIdentities = map[string]string{mi: "aks-agentpool"}
	a.issuer.GroupMembers = map[string]int{group: 250}
	o := a.options(t, appSecret)
	o.GraphURL = a.issuer.GraphAudience()
	ctx := context.Background()
	dir, err := Directory(ctx, []string{user, group, sp, gone, mi}, o)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{user: "User ann@contoso.com ", group: "Group platform ", sp: "ServicePrincipal deploy-bot Application", mi: "ServicePrincipal aks-agentpool ManagedIdentity"}
	for id, w := range want {
		o, ok := dir.Object(id)
		if !ok || o.Type+" "+o.Name+" "+o.ServicePrincipalType != w {
			t.Errorf("%s: %+v, want %s", id, o, w)
		}
	}
	if g, _ := dir.Object(group); g == nil || g.Members == nil || *g.Members != 250 {
		t.Errorf("the group's members: %+v, want 250", g)
	}
	if u, _ := dir.Object(user); u != nil && u.Members != nil {
		t.Errorf("a user has a member count: %+v", u)
	}
	if !dir.Gone(gone) || dir.Gone(user) || len(dir.NotFound) != 1 {
		t.Errorf("not found: %v, want only %s", dir.NotFound, gone)
	}

	a.issuer.MemberCountStatus = http.StatusForbidden
	dir, err = Directory(ctx, []string{user, group}, o)
	if !errors.Is(err, ErrMemberCounts) || dir == nil {
		t.Fatalf("member counts refused: %v (directory %v), want ErrMemberCounts with the names", err, dir)
	}
	if g, _ := dir.Object(group); g == nil || g.Name != "platform" || g.Members != nil {
		t.Errorf("with counts refused the group is %+v, want its name and no count", g)
	}

	o.GraphURL = "https://graph.invalid"
	if _, err := Directory(ctx, []string{user}, o); err == nil || strings.Contains(err.Error(), appSecret) {
		t.Errorf("a Graph the issuer gives no token for: %v", err)
	}
}
