//go:build !darwin || cgo

package auth

import (
	"context"
	"time"

	"github.com/Azure/kubelogin/pkg/token"
	"golang.org/x/oauth2"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport"
)

// InProcessAvailable says whether this build can sign in without the
// kubelogin binary. Builds for macOS without cgo cannot: kubelogin's token
// cache needs the keychain through cgo there.
const InProcessAvailable = true

// inProcess are the login modes kubelogin's Go package serves: the
// non-interactive ones, for pipelines without a kubelogin binary.
var inProcess = map[string]bool{"spn": true, "msi": true, "workloadidentity": true}

// applyInProcess signs cfg in through kubelogin's Go package
// (github.com/Azure/kubelogin/pkg/token): secrets come from the same
// environment variables kubelogin reads (AAD_SERVICE_PRINCIPAL_CLIENT_SECRET,
// AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE, ...); tokens are renewed
// before they expire.
func (l *Login) applyInProcess(cfg *rest.Config) (*rest.Config, bool) {
	if !l.InProcess() {
		return nil, false
	}
	ts := oauth2.ReuseTokenSource(nil, &tokenSource{o: l.options(l.ServerID), timeout: l.Timeout})
	c := rest.AnonymousClientConfig(cfg)
	c.Impersonate = cfg.Impersonate
	c.Wrap(transport.TokenSourceWrapTransport(ts))
	return c, true
}

// InProcess says whether this login runs in-process.
func (l *Login) InProcess() bool { return inProcess[l.Mode] && !l.UseExec }

// GraphToken is a token source for Microsoft Graph from the same
// in-process sign-in (kubelogin asks SERVER_ID/.default).
func (l *Login) GraphToken(graphURL string) func(context.Context) (string, error) {
	ts := oauth2.ReuseTokenSource(nil, &tokenSource{o: l.options(graphURL), timeout: l.Timeout})
	return func(context.Context) (string, error) {
		t, err := ts.Token()
		if err != nil {
			return "", err
		}
		return t.AccessToken, nil
	}
}

func (l *Login) options(serverID string) *token.Options {
	o := token.OptionsWithEnv()
	o.LoginMethod, o.ServerID = l.Mode, serverID
	if l.TenantID != "" {
		o.TenantID = l.TenantID
	}
	if l.ClientID != "" {
		o.ClientID = l.ClientID
	}
	if l.AuthorityHost != "" {
		o.AuthorityHost = l.AuthorityHost
	}
	return o
}

type tokenSource struct {
	o       *token.Options
	timeout time.Duration
}

func (s *tokenSource) Token() (*oauth2.Token, error) {
	p, err := token.GetTokenProvider(s.o)
	if err != nil {
		return nil, err
	}
	timeout := s.timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	// The sign-in is a network call like any other: bounded.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	at, err := p.GetAccessToken(ctx)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: at.Token, TokenType: "Bearer", Expiry: at.ExpiresOn}, nil
}
