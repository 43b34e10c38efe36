package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// people is who answers for the people behind Entra groups: --directory's
// files when given; else Microsoft Graph, with a Graph token from the same
// Entra sign-in, when the context signs in with kubelogin (or --login)
// and --no-graph is not set; else nobody (an Entra user's memberships are
// then said to be unknown).
func (r *RootOptions) people(in *InputOptions, cred *identity.Credential) identity.People {
	if in.directory != nil {
		return in.directory
	}
	if in.NoGraph {
		return nil
	}
	base := strings.TrimSuffix(in.GraphURL, "/")
	if base == "" {
		return nil
	}
	// The kubeconfig's (or --login's) exec plugin, before the sign-in
	// bound it: its arguments are what a Graph token is asked with.
	var cfg *rest.Config
	if c, err := r.Flags.ToRESTConfig(); err == nil {
		cfg = c
	}
	var token func(context.Context) (string, error)
	switch l := r.login(); {
	case l != nil && l.InProcess():
		token = l.GraphToken(base)
	case cfg != nil && cfg.ExecProvider != nil && (l != nil || cred != nil && cred.Method == identity.Kubelogin):
		t, err := auth.GraphTokenFromExec(cfg.ExecProvider, base)
		if err != nil {
			return nil
		}
		token = t
	default:
		return nil
	}
	return &auth.GraphPeople{G: &auth.Graph{BaseURL: base, Token: token, Client: r.httpClient()}}
}

// graphSignIn gets Microsoft Graph's token now, on the terminal, before
// the explorer takes the screen: kubelogin's device-code prompt (or a
// browser sign-in) shows here, never behind the explorer. A sign-in that
// fails leaves the people behind groups unknown, said as a warning.
func graphSignIn(ctx context.Context, app *access.App, errOut io.Writer) {
	gp, ok := app.People.(*auth.GraphPeople)
	if !ok {
		return
	}
	fmt.Fprintln(errOut, "Signing in to Microsoft Graph (who is in which Entra group)…")
	if _, err := gp.G.Token(ctx); err != nil {
		app.People = nil
		app.Warnings = append(app.Warnings, rbac.Warnf(access.WarnPeople, "Microsoft Graph: %s; who is in which Entra group is not known (--no-graph skips it, --directory FILE reads it from a file)", safe.Error(err)))
	}
}
