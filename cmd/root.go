// Package cmd holds the cobra commands of `kubectl access`. Each command is a
// NewCmdX(streams) with an options struct whose RunE calls Complete,
// Validate and Run; the work itself lives in the packages below.
package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
)

// Exit codes, part of the contract in DESIGN.md.
const (
	ExitOK     = 0
	ExitDenied = 1 // `can` answered "denied"
	ExitError  = 2 // usage or runtime error: the answer is unknown
	ExitFailOn = 3 // `audit --fail-on` threshold reached
)

// ExitCodeError carries a non-zero exit code that is an answer, not a
// failure (a denied `can`); Execute prints nothing for it.
type ExitCodeError struct{ Code int }

func (e *ExitCodeError) Error() string { return fmt.Sprintf("exit code %d", e.Code) }

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
	if ctx.Err() != nil {
		fmt.Fprintln(streams.ErrOut, "error: interrupted")
		return ExitError
	}
	fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
	return ExitError
}

// NewCmdAccess builds the root command with every subcommand.
func NewCmdAccess(streams genericiooptions.IOStreams) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	explore := &ExploreOptions{queryOptions: queryOptions{flags: flags, IOStreams: streams, Timeout: 2 * time.Minute}}
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
		RunE: func(c *cobra.Command, _ []string) error {
			// The explorer needs a terminal; into a pipe, the help.
			if !isTerminal(streams.In, streams.Out) {
				return c.Help()
			}
			return explore.Run(c)
		},
	}
	explore.addFlags(root)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	flags.AddFlags(root.PersistentFlags())
	addLogLevelFlag(root)
	addProfilingFlags(root)
	addLoginFlags(root, flags)

	root.AddCommand(NewCmdVersion(streams))
	for _, add := range subcommands {
		root.AddCommand(add(flags, streams))
	}
	addCompletions(root, flags)
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

// subcommands are the commands that talk to a cluster or read files; each
// file registers its own in init so root.go does not grow with them.
var subcommands []func(*genericclioptions.ConfigFlags, genericiooptions.IOStreams) *cobra.Command

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
