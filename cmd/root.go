// Package cmd holds the cobra commands of `kubectl access`, in the shape
// of kubectl's own plugins: each command is NewCmdX(root) with exported
// Options whose Complete(cmd, args), Validate() and Run(ctx) run in that
// order. Complete reads the arguments and the files they name, Validate
// checks them without I/O, Run asks the application layer (package
// access) and prints what it answers. No command decides anything the
// explorer must decide too: that lives in package access.
package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/azurearm"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// Exit codes, part of the contracts in docs/architecture.md.
const (
	ExitOK     = 0
	ExitDenied = 1 // `can` answered "denied"
	ExitError  = 2 // usage or runtime error: the answer is unknown
	ExitFailOn = 3 // `audit --fail-on` threshold reached
	// ExitIncomplete: `--fail-on` was given and the view is incomplete
	// (unless --allow-incomplete): a gate never passes on what it could not
	// read.
	ExitIncomplete = 4
	// ExitDisagree: --verify found a request the cluster's own authorizer
	// decides otherwise than the answer.
	ExitDisagree    = 5
	ExitInterrupted = 130 // Ctrl-C (SIGINT) or SIGTERM
)

// ExitCodeError carries a non-zero exit code that is an answer, not a
// failure (a denied `can`); Execute prints nothing for it.
type ExitCodeError struct{ Code int }

func (e *ExitCodeError) Error() string { return fmt.Sprintf("exit code %d", e.Code) }

// Runner is a command's options in kubectl's plugin shape: Complete reads
// the arguments (and the files they name), Validate checks them without
// I/O, Run does the work.
type Runner interface {
	Complete(c *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// runE runs o's three steps in order.
func runE(o Runner) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if err := o.Complete(c, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(c.Context())
	}
}

// RootOptions are what every command shares: the streams, kubectl's
// config flags and the --login sign-in. Each command gets them from its
// constructor; nothing lives in package state.
type RootOptions struct {
	genericiooptions.IOStreams
	Flags *genericclioptions.ConfigFlags
	Login auth.Login
	// azureOptions, when set, reach ARM instead of Azure's public cloud
	// with the Azure CLI's sign-in (the tests' loopback ARM and Entra).
	azureOptions *azurearm.Options
	// HTTPClient is what Microsoft Graph is asked with; nil is Go's
	// default client (tests point it at a loopback Graph).
	HTTPClient *http.Client

	// contexts are every --context given (the fleet commands take several).
	contexts []string
	// Color is --color: auto, always or never.
	Color string
}

func (r *RootOptions) httpClient() *http.Client {
	if r.HTTPClient != nil {
		return r.HTTPClient
	}
	return http.DefaultClient
}

// Execute runs the command line and returns the process exit code. Errors
// are printed once, here.
func Execute(ctx context.Context, streams genericiooptions.IOStreams) int {
	return execute(ctx, NewCmdAccess(streams), streams)
}

func execute(ctx context.Context, root *cobra.Command, streams genericiooptions.IOStreams) int {
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ec *ExitCodeError
	if errors.As(err, &ec) {
		return ec.Code
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		fmt.Fprintln(streams.ErrOut, "error: interrupted")
		return ExitInterrupted
	}
	fmt.Fprintf(streams.ErrOut, "error: %s\n", safe.Error(err))
	return ExitError
}

// NewCmdAccess builds the root command with every subcommand.
func NewCmdAccess(streams genericiooptions.IOStreams) *cobra.Command {
	return NewRootCommand(&RootOptions{IOStreams: streams, Flags: genericclioptions.NewConfigFlags(true)})
}

// NewRootCommand builds the root command over r.
func NewRootCommand(r *RootOptions) *cobra.Command {
	streams := r.IOStreams
	explore := NewExploreOptions(r)
	root := &cobra.Command{
		Use:   "kubectl-access",
		Short: "Who can do what in a Kubernetes cluster, why, and how to fix it",
		Long: `kubectl access answers who can do what in a cluster, exactly as the API
server's RBAC authorizer decides, with the binding -> role -> rule path behind
every grant. It works live against a cluster or offline on manifests.`,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl access",
		},
		Example: `  # The interactive explorer (on a terminal): signs in first, then takes the screen
  kubectl access

  # The explorer on manifests, with Entra group names
  kubectl access -f testdata/demo/cluster.yaml --group-names testdata/demo/group-names.json

  # The questions, one at a time
  kubectl access who-can get secrets -n payments
  kubectl access audit --fail-on high`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			// The explorer needs a terminal; into a pipe, the help.
			if !isTerminal(streams.In, streams.Out) {
				return c.Help()
			}
			return runE(explore)(c, args)
		},
	}
	explore.AddFlags(root)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	r.Flags.AddFlags(root.PersistentFlags())
	addLogLevelFlag(root)
	addProfilingFlags(root)
	r.addLoginFlags(root)
	r.addColorFlag(root)
	r.trackContexts(root)
	r.checkKubeconfig(root)

	root.AddCommand(NewCmdVersion(r), NewCmdWhoCan(r), NewCmdWhatCan(r), NewCmdCan(r), NewCmdAudit(r),
		NewCmdFix(r), NewCmdSnapshot(r), NewCmdWhoAmI(r), NewCmdConfig(r))
	addCompletions(root, r)
	// Made now rather than when the command line runs, so that the
	// reference and the help list it like any command.
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.Example = `  # bash (needs the bash-completion package), for this shell
  source <(kubectl access completion bash)

  # zsh, for every new shell
  kubectl access completion zsh > _kubectl-access    # then move it into a directory of $fpath

  # For kubectl access <TAB> through kubectl (1.26+): kubectl_complete-access
  # from the release archive on PATH beside kubectl-access`
	}
	return root
}

// addLogLevelFlag adds kubectl's -v: at 6 every API request is logged with
// its status and duration, at 7 with headers (tokens masked by client-go).
func addLogLevelFlag(root *cobra.Command) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	v := fs.Lookup("v")
	v.Usage = "Log level: 6 logs every API request, 7 adds headers (credentials masked)"
	// klog's level is global: the default shown is the real one, not the
	// level an earlier command line in the same process set.
	v.DefValue = "0"
	root.PersistentFlags().AddGoFlag(v)
	root.PersistentFlags().Lookup("v").Shorthand = "v"
}

// addLoginFlags adds --login and its companions: sign in with kubelogin,
// converting the kubeconfig in memory only.
func (r *RootOptions) addLoginFlags(root *cobra.Command) {
	l := &r.Login
	fs := root.PersistentFlags()
	fs.StringVar(&l.Mode, "login", "", "Sign in with kubelogin instead of the kubeconfig's credentials: devicecode, interactive, azurecli, spn, msi or workloadidentity (the kubeconfig on disk is not changed)")
	fs.StringVar(&l.ServerID, "server-id", "", "With --login: the Entra application id of the API server (default: AKS's)")
	fs.StringVar(&l.TenantID, "tenant-id", "", "With --login: the Entra tenant id")
	fs.StringVar(&l.ClientID, "client-id", "", "With --login: the client (application) id that signs in (default for user logins: the AKS public client)")
	fs.StringVar(&l.AuthorityHost, "authority-host", "", "With --login: the Entra authority, for sovereign clouds and private authorities (an https URL)")
	fs.BoolVar(&l.UseExec, "login-exec", false, "With --login spn, msi or workloadidentity: run the kubelogin binary instead of kubelogin's Go package in-process (needed for a private authority without instance discovery)")
	prev := r.Flags.WrapConfigFn
	r.Flags.WrapConfigFn = func(c *rest.Config) *rest.Config {
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

// login returns --login, nil when not given.
func (r *RootOptions) login() *auth.Login {
	if r.Login.Mode == "" {
		return nil
	}
	return &r.Login
}
