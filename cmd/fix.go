package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/source"
)

func init() { subcommands = append(subcommands, NewCmdFix) }

// FixOptions prints, or applies, the fix for one finding.
type FixOptions struct {
	queryOptions
	Keep   []string
	Narrow bool
	Apply  bool
	Yes    bool
	ID     string
}

// NewCmdFix returns `kubectl access fix`.
func NewCmdFix(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &FixOptions{queryOptions: queryOptions{flags: flags, IOStreams: streams}}
	c := &cobra.Command{
		Use:   "fix FINDING_ID",
		Short: "The smallest guarded change that removes one audit finding, checked to widen nobody's access",
		Long: `fix prints the change that removes one finding of "kubectl access audit": JSON patches
whose test operations guard every value they remove or replace, creates, and
guarded deletes. Before it is offered, the fix is applied to a copy of the
snapshot and checked with the engine: the finding is gone and no subject gains
any permission. Everyone who loses access is listed.

With --apply it runs a server-side dry run, shows the diff, and asks before it
changes anything (--yes answers for pipelines).`,
		Example: `  # What would fix this finding, and who loses what
  kubectl access fix secrets-read-0fcdc92217

  # The ready-to-run kubectl commands
  kubectl access fix secrets-read-0fcdc92217 -o kubectl

  # The Fix document, for review or GitOps
  kubectl access fix secrets-read-0fcdc92217 -o yaml

  # Dry run, diff, confirm, apply
  kubectl access fix secrets-read-0fcdc92217 --apply

  # A service account's cluster-wide grant, kept in its own namespace
  kubectl access fix workload-create-aa8a4925f6 --narrow

  # Narrow a wildcard verb to these verbs instead of get, list, watch
  kubectl access fix wildcard-grant-9343489652 --keep get,list,watch,create`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.ID = args[0]
			if err := o.validate(); err != nil {
				return err
			}
			if err := o.complete(true); err != nil {
				return err
			}
			return o.Run(c)
		},
	}
	o.addFlags(c)
	c.Flags().Lookup("output").Usage = "Output format: one of table, yaml, json, kubectl"
	c.Flags().StringSliceVar(&o.Keep, "keep", nil, "Verbs a wildcard verb is narrowed to (default get,list,watch)")
	c.Flags().BoolVar(&o.Narrow, "narrow", false, "For a cluster-wide grant, keep it in the subject's namespaces through RoleBindings instead of removing it")
	c.Flags().BoolVar(&o.Apply, "apply", false, "Apply the fix to the cluster: server-side dry run, diff, confirmation, then for real")
	c.Flags().BoolVarP(&o.Yes, "yes", "y", false, "With --apply, do not ask for confirmation")
	return c
}

func (o *FixOptions) validate() error {
	switch o.Output {
	case "table", "yaml", "json", "kubectl":
	default:
		return fmt.Errorf("unknown output format %q: use one of table, yaml, json, kubectl", o.Output)
	}
	i := strings.LastIndex(o.ID, "-")
	if i < 0 || !slices.ContainsFunc(audit.Catalogue(), func(r audit.Rule) bool { return r.Name == o.ID[:i] }) {
		return fmt.Errorf("%q is not a finding id (RULE-HASH, as kubectl access audit prints them)", o.ID)
	}
	if o.Yes && !o.Apply {
		return errors.New("--yes only answers --apply's question")
	}
	return nil
}

// Run finds the finding, builds its fix, prints it, and applies it when
// asked.
func (o *FixOptions) Run(c *cobra.Command) error {
	if o.Apply && len(o.Filenames) > 0 {
		return errors.New("--apply changes a cluster: it cannot apply to files (-f); print the fix with -o kubectl or -o yaml")
	}
	ctx := c.Context()
	ix, err := o.load(ctx, source.Full)
	if err != nil {
		return err
	}
	rule := o.ID[:strings.LastIndex(o.ID, "-")]
	rep := audit.Run(ix, audit.Options{Only: []string{rule}})
	i := slices.IndexFunc(rep.Findings, func(f audit.Finding) bool { return f.ID == o.ID })
	if i < 0 {
		msg := fmt.Sprintf("no finding %s here now: it was fixed, or the objects it names changed; run kubectl access audit for current ids", o.ID)
		if rep.Incomplete {
			msg += " (the view is incomplete: it may be in what could not be read)"
		}
		return errors.New(msg)
	}
	f := &rep.Findings[i]
	fx, err := fix.For(ix, f, fix.Options{Keep: o.Keep, Resources: catalogResources(o.catalog), Narrow: o.Narrow})
	if err != nil {
		return err
	}
	switch o.Output {
	case "yaml", "json":
		if err := printDoc(o.Out, o.Output, fx); err != nil {
			return err
		}
	case "kubectl":
		fmt.Fprint(o.Out, fix.Kubectl(fx))
	default:
		printFix(o.Out, f, fx)
	}
	if !o.Apply {
		return nil
	}
	return o.apply(c, fx)
}

func printFix(w io.Writer, f *audit.Finding, fx *fix.Fix) {
	fmt.Fprintf(w, "Finding: %s\n  %s\n\nFix: %s\n", f.ID, f.Message, fx.Description)
	v := fx.Verification
	fmt.Fprintf(w, "\nChecked on a copy of the snapshot: the finding is gone; nobody gains access.\n")
	for _, g := range v.Granted {
		fmt.Fprintf(w, "  grants (the missing grant): %s\n", g)
	}
	if len(v.Lost) == 0 {
		fmt.Fprintln(w, "  nobody loses any permission")
	}
	for _, l := range v.Lost {
		fmt.Fprintf(w, "  loses %s\n", l)
	}
	if len(v.Others) > 0 {
		names := make([]string, len(v.Others))
		for i, s := range v.Others {
			names[i] = s.String()
		}
		fmt.Fprintf(w, "  Warning: also removes access from %s\n", strings.Join(names, ", "))
	}
	fmt.Fprintf(w, "\nAs kubectl commands (guarded: a concurrent change makes them fail):\n\n%s", fix.Kubectl(fx))
}

// apply runs every operation as a server-side dry run, shows the diff,
// asks, then applies for real, in order. A failed guard stops it.
func (o *FixOptions) apply(c *cobra.Command, fx *fix.Fix) error {
	ctx := c.Context()
	cfg, err := o.flags.ToRESTConfig()
	if err != nil {
		return kubeconfigError(err)
	}
	ap, err := fix.NewApplier(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(o.ErrOut, "\nServer-side dry run:")
	for _, op := range fx.Operations {
		before, after, err := ap.Do(ctx, op, true)
		if err != nil {
			return fmt.Errorf("dry run of %s %s: %w", op.Action, op.Target, err)
		}
		fmt.Fprintf(o.ErrOut, "%s %s\n%s", op.Action, op.Target, fix.Diff(before, after))
	}
	if !o.Yes {
		in, ok := o.In.(*os.File)
		if !ok || !term.IsTerminal(int(in.Fd())) {
			return errors.New("not applied: confirm on a terminal, or pass --yes")
		}
		fmt.Fprintf(o.ErrOut, "Apply %d change(s) to %s? [y/N] ", len(fx.Operations), cfg.Host)
		answer, _ := bufio.NewReader(o.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return errors.New("not applied")
		}
	}
	for i, op := range fx.Operations {
		if _, _, err := ap.Do(ctx, op, false); err != nil {
			return fmt.Errorf("%s %s: %w (%d of %d changes applied before it; each one only removes access or adds the intended grant)",
				op.Action, op.Target, err, i, len(fx.Operations))
		}
		fmt.Fprintf(o.ErrOut, "applied: %s %s\n", op.Action, op.Target)
	}
	return nil
}
