// Package entratest is an Entra ID-shaped OpenID provider on loopback, for
// the sign-in tests: HTTPS with its own CA, the v2.0 discovery document,
// JWKS, and a v2 token endpoint that issues, for a known confidential
// client, access tokens with upn, oid, tid and groups claims as Entra
// does for AKS. It is enough for kubelogin's MSAL client with instance
// discovery disabled, and for the API server's JWT authenticator. Its
// Microsoft Graph (/v1.0, for tokens of Graph's audience) serves a
// directory the test sets: users, groups and their members, PIM for
// Groups eligibility, paged and $batched, throttled or refused on demand.
package entratest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Identity is what a client's tokens say.
type Identity struct {
	UPN    string
	OID    string
	Groups []string
	// DirectoryGroups: the token's groups are the security groups the
	// issuer's Directory puts OID in, transitively, as Entra writes them
	// (past 200, none: an overage claim instead), after Groups.
	DirectoryGroups bool
}

// Issuer is the provider.
type Issuer struct {
	Tenant   string
	Audience string // the API server's application id (the tokens' aud)
	// GroupNames are the display names the Graph endpoint
	// (/v1.0/directoryObjects/getByIds, for tokens of its audience) knows.
	GroupNames map[string]string
	// Users (object id -> UPN) and ServicePrincipals (object id -> display
	// name) are the other objects its Graph knows; GroupMembers are the
	// groups' transitive member counts (/v1.0/groups/ID/transitiveMembers/$count).
	Users             map[string]string
	ServicePrincipals map[string]string
	// ManagedIdentities are service principals of type ManagedIdentity
	// (object id -> display name).
	ManagedIdentities map[string]string
	GroupMembers      map[string]int
	// MemberCountStatus, when set, is how every member count is answered
	// (403: the identity may read names but not memberships).
	MemberCountStatus int
	// Clients are the confidential clients: id -> secret and identity.
	Clients map[string]Client
	// federated are the clients that accept federated tokens and
	// issuerKeys the external issuers' keys (see Federate).
	federated  map[string]FederatedClient
	issuerKeys map[string][]VerificationKey
	// Directory is the directory Graph serves when the maps above do not
	// name an object: users, groups and their members, PIM schedules.
	Directory *Directory
	// PageSize is how many values a Graph page holds (100 when 0).
	PageSize int

	srv   *httptest.Server
	key   *rsa.PrivateKey
	kid   string
	caPEM []byte

	mu         sync.Mutex
	issued     []string
	throttle   int
	retryAfter string
	forbid     []string
	// Requests are the paths asked for, in order.
	Requests []string
}

// Client is a confidential client of the issuer.
type Client struct {
	Secret   string
	Identity Identity
}

// Start serves the issuer on 127.0.0.1 over HTTPS.
func Start(tenant, audience string, clients map[string]Client) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key.PublicKey.N.Bytes())
	is := &Issuer{Tenant: tenant, Audience: audience, Clients: clients, key: key, kid: hex.EncodeToString(sum[:8])}
	cert, caPEM, err := serving()
	if err != nil {
		return nil, err
	}
	is.caPEM = caPEM
	is.srv = httptest.NewUnstartedServer(http.HandlerFunc(is.serve))
	is.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	is.srv.StartTLS()
	return is, nil
}

// Close stops it.
func (is *Issuer) Close() { is.srv.Close() }

// Authority is the authority host (https://127.0.0.1:PORT).
func (is *Issuer) Authority() string { return is.srv.URL }

// URL is the issuer URL tokens carry: AUTHORITY/TENANT/v2.0.
func (is *Issuer) URL() string { return is.srv.URL + "/" + is.Tenant + "/v2.0" }

// CAPEM is the CA certificate the server's certificate chains to.
func (is *Issuer) CAPEM() []byte { return is.caPEM }

// Issued returns the tokens issued so far (for tests that grep outputs).
func (is *Issuer) Issued() []string {
	is.mu.Lock()
	defer is.mu.Unlock()
	return append([]string(nil), is.issued...)
}

func (is *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	is.mu.Lock()
	is.Requests = append(is.Requests, r.Method+" "+r.URL.Path)
	is.mu.Unlock()
	base := "/" + is.Tenant
	switch {
	case r.URL.Path == base+"/v2.0/.well-known/openid-configuration",
		is.Tenant == "adfs" && r.URL.Path == base+"/.well-known/openid-configuration": // MSAL's ADFS authority
		writeJSON(w, map[string]any{
			"issuer":                                is.URL(),
			"authorization_endpoint":                is.srv.URL + base + "/oauth2/v2.0/authorize",
			"token_endpoint":                        is.srv.URL + base + "/oauth2/v2.0/token",
			"device_authorization_endpoint":         is.srv.URL + base + "/oauth2/v2.0/devicecode",
			"jwks_uri":                              is.srv.URL + base + "/discovery/v2.0/keys",
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"subject_types_supported":               []string{"pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"tenant_region_scope":                   "WW",
		})
	case r.URL.Path == base+"/discovery/v2.0/keys":
		pub := is.key.PublicKey
		writeJSON(w, map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": is.kid,
			"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	case r.URL.Path == base+"/oauth2/v2.0/token" && r.Method == http.MethodPost:
		is.token(w, r)
	case strings.HasPrefix(r.URL.Path, "/v1.0/"):
		is.graph(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (is *Issuer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", err.Error())
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		oauthError(w, "unsupported_grant_type", "this issuer serves client credentials only")
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	aud := ""
	if len(scopes) > 0 {
		aud = strings.TrimSuffix(scopes[0], "/.default")
	}
	if aud != is.Audience && aud != is.GraphAudience() {
		oauthError(w, "invalid_scope", fmt.Sprintf("AADSTS70011: scope %q is neither %s/.default nor Graph's", r.PostForm.Get("scope"), is.Audience))
		return
	}
	if r.PostForm.Get("client_assertion_type") == JWTBearer {
		is.federatedToken(w, r, aud)
		return
	}
	cl, ok := is.Clients[r.PostForm.Get("client_id")]
	if !ok || cl.Secret == "" || r.PostForm.Get("client_secret") != cl.Secret {
		oauthError(w, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	now := time.Now()
	claims := map[string]any{
		"aud": aud, "iss": is.URL(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"tid": is.Tenant, "oid": cl.Identity.OID, "sub": cl.Identity.OID, "upn": cl.Identity.UPN,
		"groups": is.tokenGroups(cl.Identity), "ver": "2.0", "azp": r.PostForm.Get("client_id"),
	}
	if claims["groups"] == nil {
		// Entra's overage claim: the groups are to be read from Graph.
		delete(claims, "groups")
		claims["_claim_names"] = map[string]string{"groups": "src1"}
	}
	tok, err := is.sign(claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	is.mu.Lock()
	is.issued = append(is.issued, tok)
	is.mu.Unlock()
	writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
}

// GraphAudience is the resource of the Graph this issuer serves: like
// Microsoft Graph's (https://graph.microsoft.com), the URL it is served at,
// here the issuer's own authority.
func (is *Issuer) GraphAudience() string { return is.srv.URL }

// graphToken answers for a request without a token this issuer gave for
// Graph's audience (a token for the cluster is refused, as Graph would).
func (is *Issuer) graphToken(w http.ResponseWriter, r *http.Request) bool {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ".")
	var claims struct {
		Aud string `json:"aud"`
	}
	if len(parts) == 3 {
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(b, &claims)
	}
	is.mu.Lock()
	known := slices.Contains(is.issued, tok)
	is.mu.Unlock()
	if !known || claims.Aud != is.GraphAudience() {
		http.Error(w, `{"error":{"code":"InvalidAuthenticationToken"}}`, http.StatusUnauthorized)
		return false
	}
	return true
}

func (is *Issuer) sign(claims map[string]any) (string, error) {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": is.kid})
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(h) + "." + b64(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, is.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // a response: a client gone has no one to tell
}

func oauthError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc}) // as writeJSON
}

// serving makes a CA and a certificate for 127.0.0.1 signed by it.
func serving() (tls.Certificate, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "entratest CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

// tokenGroups are the groups a token of id carries: Groups, then with
// DirectoryGroups the directory's transitive security groups; nil past
// 200 (the overage).
func (is *Issuer) tokenGroups(id Identity) []string {
	groups := slices.Clone(id.Groups)
	if id.DirectoryGroups {
		is.mu.Lock()
		for _, g := range is.closure(id.OID, is.parents) {
			if x := is.group(g); x != nil && x.SecurityEnabled && !slices.Contains(groups, x.ID) {
				groups = append(groups, x.ID)
			}
		}
		is.mu.Unlock()
	}
	if len(groups) > 200 {
		return nil
	}
	if groups == nil {
		groups = []string{}
	}
	return groups
}
