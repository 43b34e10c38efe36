package cmd

import (
	"sync"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/auth"
)

// logins are the --login settings of each root command's config flags.
var logins sync.Map // *genericclioptions.ConfigFlags -> *auth.Login

// addLoginFlags adds --login and its companions: sign in with kubelogin,
// converting the kubeconfig in memory only.
func addLoginFlags(root *cobra.Command, flags *genericclioptions.ConfigFlags) {
	l := &auth.Login{}
	fs := root.PersistentFlags()
	fs.StringVar(&l.Mode, "login", "", "Sign in with kubelogin instead of the kubeconfig's credentials: devicecode, interactive, azurecli, spn, msi or workloadidentity (the kubeconfig on disk is not changed)")
	fs.StringVar(&l.ServerID, "server-id", "", "With --login: the Entra application id of the API server (default: AKS's)")
	fs.StringVar(&l.TenantID, "tenant-id", "", "With --login: the Entra tenant id")
	fs.StringVar(&l.ClientID, "client-id", "", "With --login: the client (application) id that signs in (default for user logins: the AKS public client)")
	fs.StringVar(&l.AuthorityHost, "authority-host", "", "With --login: the Entra authority, for sovereign clouds and private authorities (an https URL)")
	fs.BoolVar(&l.UseExec, "login-exec", false, "With --login spn, msi or workloadidentity: run the kubelogin binary instead of kubelogin's Go package in-process (needed for a private authority without instance discovery)")
	logins.Store(flags, l)
	prev := flags.WrapConfigFn
	flags.WrapConfigFn = func(c *rest.Config) *rest.Config {
		if prev != nil {
			c = prev(c)
		}
		if l.Mode != "" {
			return l.Apply(c)
		}
		return c
	}
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if l.Mode != "" {
			if err := l.Validate(); err != nil {
				return err
			}
		}
		if pre != nil {
			return pre(c, args)
		}
		return nil
	}
}

// loginOf returns the --login of flags, nil when not given.
func loginOf(flags *genericclioptions.ConfigFlags) *auth.Login {
	if v, ok := logins.Load(flags); ok && v.(*auth.Login).Mode != "" {
		return v.(*auth.Login)
	}
	return nil
}
