package azurearm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// DefaultGraphURL is Microsoft Graph in Azure's public cloud.
const DefaultGraphURL = "https://graph.microsoft.com"

// ErrMemberCounts is returned, with the directory, when some groups'
// member counts could not be read.
var ErrMemberCounts = errors.New("some groups' member counts could not be read")

// Directory asks Microsoft Graph, with the same Azure sign-in (a token for
// Graph's audience), what the object ids name: users by UPN, groups and
// service principals by display name, and each group's transitive member
// count. ARM's role assignments name no principal; az looks them up the
// same way. An id Graph does not return is a deleted principal. When only
// member counts fail, the directory comes back with ErrMemberCounts.
func Directory(ctx context.Context, ids []string, o Options) (*azurerbac.Directory, error) {
	g := o.graph()
	objs, err := g.Objects(ctx, ids, []string{"user", "group", "servicePrincipal"})
	if err != nil {
		return nil, err
	}
	dir := &azurerbac.Directory{}
	for _, v := range objs {
		o := azurerbac.DirectoryObject{ID: v.ID, Name: v.DisplayName}
		switch v.Type {
		case "user":
			o.Type, o.Name = "User", cmp.Or(v.UserPrincipalName, v.DisplayName)
		case "group":
			o.Type = "Group"
		case "servicePrincipal":
			o.Type, o.ServicePrincipalType = "ServicePrincipal", v.ServicePrincipalType
		default:
			continue
		}
		dir.Objects = append(dir.Objects, o)
	}
	for _, id := range ids {
		if _, ok := dir.Object(id); !ok && !slices.Contains(dir.NotFound, id) {
			dir.NotFound = append(dir.NotFound, id)
		}
	}
	// Member counts, o.parallel() at a time.
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
		sem    = make(chan struct{}, o.parallel())
	)
	for i := range dir.Objects {
		x := &dir.Objects[i]
		if x.Type != "Group" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			n, err := g.MemberCount(ctx, x.ID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", x.ID, err))
				return
			}
			x.Members = &n
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		return dir, fmt.Errorf("%w (%d of them; %s)", ErrMemberCounts, len(failed), failed[0])
	}
	return dir, nil
}

// graph is Microsoft Graph with the same Azure sign-in (a token for
// Graph's audience).
func (o Options) graph() *auth.Graph {
	base := strings.TrimSuffix(cmp.Or(o.GraphURL, DefaultGraphURL), "/")
	return &auth.Graph{BaseURL: base, Client: o.httpClient(), Token: func(ctx context.Context) (string, error) {
		t, err := signInCredential{cred: o.Credential}.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{base + "/.default"}})
		return t.Token, err
	}}
}

// httpClient is the transport the options give, when it is an HTTP client
// (tests' loopback TLS), else Go's default.
func (o Options) httpClient() *http.Client {
	if o.ClientOptions != nil {
		if c, ok := o.ClientOptions.Transport.(*http.Client); ok {
			return c
		}
	}
	return http.DefaultClient
}
