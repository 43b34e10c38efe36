package entratest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The workload identity token exchange: a client (a managed identity or
// an app registration, by client id) whose federated identity credentials
// accept an external token gets its own Entra token for it, with the
// client credentials grant and the token as a jwt-bearer client
// assertion. Entra checks the assertion's signature against its issuer's
// keys, then that one federated credential has the assertion's iss and
// sub exactly and one of its aud among its audiences.

// JWTBearer is the client_assertion_type of a federated token.
const JWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// FederatedClient is an identity that accepts federated tokens: its
// object id (the token's oid) and its federated credentials.
type FederatedClient struct {
	OID         string
	Credentials []FederatedCredential
}

// Federate sets the clients that accept federated tokens (workload
// identity: managed identities and app registrations, by client id) and
// the keys each external issuer signs with (Entra reads them from the
// issuer's discovery document; a local API server's issuer is not
// reachable from Entra, so the test gives them).
func (is *Issuer) Federate(clients map[string]FederatedClient, keys map[string][]VerificationKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.federated, is.issuerKeys = clients, keys
}

// exchange answers a client credentials grant whose client assertion is
// an external token: the claims of the client's token, or an OAuth error.
func (is *Issuer) exchange(clientID, assertion string) (map[string]any, string, string) {
	is.mu.Lock()
	cl, ok := is.federated[clientID]
	keys := is.issuerKeys
	is.mu.Unlock()
	if !ok {
		return nil, "unauthorized_client", "AADSTS700016: Application with identifier '" + clientID + "' was not found in the directory."
	}
	var claims struct {
		jwt.RegisteredClaims
	}
	// The issuer's keys, as Entra reads them from its discovery document.
	_, err := jwt.ParseWithClaims(assertion, &claims, func(t *jwt.Token) (any, error) {
		iss, err := t.Claims.GetIssuer()
		if err != nil {
			return nil, err
		}
		ks := keys[iss]
		if len(ks) == 0 {
			return nil, fmt.Errorf("no keys for issuer %q", iss)
		}
		return jwt.VerificationKeySet{Keys: ks}, nil
	}, jwt.WithValidMethods([]string{"RS256", "ES256"}), jwt.WithExpirationRequired())
	if err != nil {
		return nil, "invalid_client", "AADSTS700211: the client assertion could not be validated: " + err.Error()
	}
	for _, c := range cl.Credentials {
		if c.Issuer == claims.Issuer && c.Subject == claims.Subject && slices.ContainsFunc(claims.Audience, func(a string) bool { return slices.Contains(c.Audiences, a) }) {
			return map[string]any{"oid": cl.OID, "sub": cl.OID, "azp": clientID, "appid": clientID}, "", ""
		}
	}
	return nil, "invalid_client", fmt.Sprintf("AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.",
		claims.Issuer, claims.Subject, claims.Audience)
}

// federatedToken serves the exchange on the token endpoint.
func (is *Issuer) federatedToken(w http.ResponseWriter, r *http.Request, aud string) {
	claims, code, desc := is.exchange(r.PostForm.Get("client_id"), r.PostForm.Get("client_assertion"))
	if code != "" {
		oauthError(w, code, desc)
		return
	}
	now := time.Now()
	claims["aud"], claims["iss"], claims["tid"], claims["ver"] = aud, is.URL(), is.Tenant, "2.0"
	claims["iat"], claims["nbf"], claims["exp"] = now.Unix(), now.Unix(), now.Add(time.Hour).Unix()
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

// ParseJWKS reads the RSA and P-256 keys of a JSON Web Key Set (an OIDC
// issuer's jwks_uri, the API server's /openid/v1/jwks).
func ParseJWKS(b []byte) ([]VerificationKey, error) {
	var set struct {
		Keys []struct {
			Kty, Crv, N, E, X, Y string
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, err
	}
	num := func(s string) (*big.Int, error) {
		v, err := base64.RawURLEncoding.DecodeString(s)
		return new(big.Int).SetBytes(v), err
	}
	var out []VerificationKey
	for _, k := range set.Keys {
		var key crypto.PublicKey
		switch {
		case k.Kty == "RSA":
			n, err1 := num(k.N)
			e, err2 := num(k.E)
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			key = &rsa.PublicKey{N: n, E: int(e.Int64())}
		case k.Kty == "EC" && k.Crv == "P-256":
			// JWK's x and y are the point's fixed-length coordinates: the
			// uncompressed encoding is 0x04 || x || y.
			x, err1 := base64.RawURLEncoding.DecodeString(k.X)
			y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
			if err != nil {
				return nil, err
			}
			key = pub
		default:
			continue
		}
		out = append(out, key)
	}
	if len(out) == 0 {
		return nil, errors.New("no RSA or P-256 key in the set")
	}
	return out, nil
}

// VerificationKey is a public key an external issuer signs with.
type VerificationKey = jwt.VerificationKey
