package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/rbac"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// WhoAmIKind is the kind of the whoami document.
const WhoAmIKind = "WhoAmI"

// OverageLimit is the number of groups past which Entra ID leaves the
// groups claim out of a token and points to Graph instead.
const OverageLimit = 200

// WhoAmI is who the API server says the caller is, and how the caller
// signed in.
type WhoAmI struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	User       User                 `json:"user"`
	Credential *identity.Credential `json:"credential,omitempty"`
	Token      *TokenInfo           `json:"token,omitempty"`
	// ObjectID is the Entra object id the API server sees for the caller
	// (extra.oid), which Azure RBAC decides with.
	ObjectID string `json:"objectId,omitempty"`
	// AzureRBAC is whether Azure RBAC for Kubernetes authorization decides
	// after RBAC on the cluster; AzureDecides says what that means for the
	// caller.
	AzureRBAC    *rbac.Probe `json:"azureRBAC,omitempty"`
	AzureDecides string      `json:"azureDecides,omitempty"`
	// ActiveDirectory is set when the caller is an Active Directory
	// identity of AKS hybrid (signed in with kubectl-adsso, or named
	// microsoft:activedirectory:... or by a SID).
	ActiveDirectory *ADIdentity `json:"activeDirectory,omitempty"`
	Warnings        []string    `json:"warnings"`
}

// ADSSONote names AKS hybrid's Active Directory sign-in, in notes and
// whoami's table.
const ADSSONote = "Active Directory single sign-on (AKS hybrid, kubectl-adsso, Kerberos)"

// ADIdentity is what whoami knows of an Active Directory caller: the
// domain and account its username names, or the SID it is; its groups
// are SIDs, which --group-names can name.
type ADIdentity struct {
	Domain  string `json:"domain,omitempty"`
	Account string `json:"account,omitempty"`
	SID     string `json:"sid,omitempty"`
	// SignIn is true when the kubeconfig signs in with kubectl-adsso.
	SignIn bool `json:"kubectlAdsso"`
	// SIDGroups counts the caller's groups that are SIDs.
	SIDGroups int `json:"sidGroups"`
}

// ActiveDirectoryOf says whether the caller u (signed in with c, nil when
// the kubeconfig could not be read) is an AD identity of AKS hybrid, and
// which: nil for anyone else.
func ActiveDirectoryOf(u *User, c *identity.Credential) *ADIdentity {
	signIn := c != nil && c.Method == identity.ADSSO
	if !signIn && !rbac.IsAD(u.Username) {
		return nil
	}
	ad := &ADIdentity{SignIn: signIn}
	if d, a, ok := rbac.ADAccount(u.Username); ok {
		ad.Domain, ad.Account = d, a
	} else if sid := strings.TrimPrefix(u.Username, rbac.ADPrefix); rbac.IsSID(sid) {
		ad.SID = sid
	}
	for _, g := range u.Groups {
		if rbac.IsSID(strings.TrimPrefix(g.ID, rbac.ADPrefix)) {
			ad.SIDGroups++
		}
	}
	return ad
}

// User is the identity of a SelfSubjectReview, groups with names where
// known.
type User struct {
	Username string              `json:"username"`
	UID      string              `json:"uid,omitempty"`
	Groups   []Group             `json:"groups"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// Group is a group the server sees, with its display name when known.
type Group struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// TokenInfo is what a bearer JWT says of itself (never the token).
type TokenInfo struct {
	Issuer   string    `json:"issuer,omitempty"`
	Audience []string  `json:"audience,omitempty"`
	Expiry   time.Time `json:"expiry,omitzero"`
	// Overage: the token carries Entra's groups overage claim instead of
	// its groups.
	Overage bool `json:"overage,omitempty"`
}

// Review asks the API server who the caller is (SelfSubjectReview,
// authentication.k8s.io/v1), and reads the bearer token the request
// carried, if it is a JWT, for its issuer, audience and expiry.
func Review(ctx context.Context, cfg *rest.Config) (*User, *TokenInfo, error) {
	c := rest.CopyConfig(cfg)
	var mu sync.Mutex
	var bearer string
	prev := c.WrapTransport
	// The recorder sits innermost, next to the wire, so it sees the
	// Authorization header whichever wrapper (a token, an exec plugin, an
	// in-process sign-in) sets it.
	c.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		rec := roundTripper(func(r *http.Request) (*http.Response, error) {
			if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				mu.Lock()
				bearer = t
				mu.Unlock()
			}
			return rt.RoundTrip(r)
		})
		if prev != nil {
			return prev(rec)
		}
		return rec
	}
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, nil, err
	}
	res, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return nil, nil, err
	}
	ui := res.Status.UserInfo
	u := &User{Username: ui.Username, UID: ui.UID, Groups: []Group{}}
	for _, g := range ui.Groups {
		u.Groups = append(u.Groups, Group{ID: g})
	}
	if len(ui.Extra) > 0 {
		u.Extra = map[string][]string{}
		for k, v := range ui.Extra {
			u.Extra[k] = v
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return u, parseJWT(bearer), nil
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// parseJWT reads a JWT's claims without verifying it (the API server has
// done that); nil when the token is not a JWT.
func parseJWT(token string) *TokenInfo {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims struct {
		Iss        string          `json:"iss"`
		Aud        json.RawMessage `json:"aud"`
		Exp        float64         `json:"exp"`
		ClaimNames map[string]any  `json:"_claim_names"`
		HasGroups  *bool           `json:"hasgroups"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return nil
	}
	ti := &TokenInfo{Issuer: claims.Iss}
	var one string
	if json.Unmarshal(claims.Aud, &one) == nil && one != "" {
		ti.Audience = []string{one}
	} else {
		_ = json.Unmarshal(claims.Aud, &ti.Audience)
	}
	if claims.Exp > 0 {
		ti.Expiry = time.Unix(int64(claims.Exp), 0).UTC()
	}
	_, ti.Overage = claims.ClaimNames["groups"]
	if claims.HasGroups != nil && *claims.HasGroups {
		ti.Overage = true
	}
	return ti
}

// Warn returns what the caller should know of an identity: the Entra
// groups overage, an expired or soon-expiring token.
func Warn(u *User, t *TokenInfo, now time.Time) []string {
	var out []string
	if len(u.Groups) > OverageLimit || (t != nil && t.Overage) {
		out = append(out, fmt.Sprintf("Entra ID groups overage: past %d groups a token carries none and AKS resolves them through Microsoft Graph; "+
			"RBAC still binds them by object id, but tools that read only the token miss them", OverageLimit))
	}
	if t != nil && !t.Expiry.IsZero() {
		if left := t.Expiry.Sub(now); left < 5*time.Minute {
			out = append(out, fmt.Sprintf("the token expires at %s (in %s)", t.Expiry.Format(time.RFC3339), left.Round(time.Second)))
		}
	}
	return out
}
