package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/loading"
)

// FixOptions print, or apply, the fix for one finding.
type FixOptions struct {
	*RootOptions
	Input           InputOptions
	Output          *OutputFlag
	Keep            []string
	Narrow          bool
	Apply           bool
	Yes             bool
	AllowIncomplete bool
	AllowLockout    bool
	// RestoreDir is where --apply saves what puts its changes back.
	RestoreDir string

	id string
}

// NewCmdFix returns `kubectl access fix`.
func NewCmdFix(r *RootOptions) *cobra.Command {
	o := &FixOptions{RootOptions: r}
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
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatTable, FormatYAML, FormatJSON, FormatKubectl)
	c.Flags().StringSliceVar(&o.Keep, "keep", nil, "Verbs a wildcard verb is narrowed to (default get,list,watch)")
	c.Flags().BoolVar(&o.Narrow, "narrow", false, "For a cluster-wide grant, keep it in the subject's namespaces through RoleBindings (an Azure role assignment: assignments at those namespaces' scopes) instead of removing it")
	c.Flags().BoolVar(&o.Apply, "apply", false, "Apply the fix to the cluster: server-side dry run, diff, confirmation, then for real")
	c.Flags().BoolVarP(&o.Yes, "yes", "y", false, "With --apply, do not ask for confirmation")
	c.Flags().StringVar(&o.RestoreDir, "restore-dir", ".", "With --apply: where to save the script that puts back what was changed (restore-ID-TIME.sh, mode 0600), built from each object as it was just before")
	c.Flags().BoolVar(&o.AllowIncomplete, "allow-incomplete", false, "Offer a fix checked on an incomplete view (who else loses or gains access in what could not be read is unknown)")
	c.Flags().BoolVar(&o.AllowLockout, "allow-lockout", false, "Allow a fix that leaves no person or group with cluster-admin-equivalent rights (only system:masters certificates and service accounts)")
	return c
}

// Complete reads the finding id and the names file.
func (o *FixOptions) Complete(c *cobra.Command, args []string) error {
	o.id = args[0]
	return o.Input.Complete(c.Context())
}

// Validate checks the flags and the id's form.
func (o *FixOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if _, err := audit.ParseID(o.id); err != nil {
		return err
	}
	if o.Yes && !o.Apply {
		return errors.New("--yes only answers --apply's question")
	}
	for _, v := range o.Keep {
		if !fix.KnownVerb(v) {
			return fmt.Errorf("--keep %q: not a verb the API server checks; use get, list, watch, create, update, patch, delete, deletecollection, use, bind, escalate, impersonate, approve, sign, attest or proxy", v)
		}
	}
	if o.Apply && o.Input.Offline() {
		return errors.New("--apply changes a cluster: it cannot apply to files (-f); print the fix with -o kubectl or -o yaml")
	}
	return nil
}

// Run finds the finding, builds its fix, prints it, and applies it when
// asked.
func (o *FixOptions) Run(ctx context.Context) error {
	app, err := o.App(ctx, &o.Input, needs{catalog: true})
	if err != nil {
		return err
	}
	sess, err := app.Open(ctx, loading.Full)
	if err != nil {
		return err
	}
	if sess.Incomplete() && !o.AllowIncomplete {
		var gaps []string
		for _, g := range sess.Index.Gaps() {
			gaps = append(gaps, g.String())
		}
		return safe.Hint(fmt.Errorf("the view is incomplete (%s): a fix checked on it may take access from, or give it to, someone in what could not be read", strings.Join(gaps, "; ")),
			"read the whole cluster (see deploy/reader.yaml), or pass --allow-incomplete to see the fix anyway")
	}
	f, err := sess.Finding(o.id)
	if err != nil {
		return err
	}
	plan, err := sess.PlanFix(f, fix.Options{Keep: o.Keep, Narrow: o.Narrow, AllowLockout: o.AllowLockout})
	if err != nil {
		return err
	}
	switch o.Output.Value {
	case FormatYAML, FormatJSON:
		if err := printDoc(o.Out, o.Output.Value, plan.Fix); err != nil {
			return err
		}
	case FormatKubectl:
		fmt.Fprint(o.Out, plan.Commands())
	default:
		printFix(o.Out, plan, app.Names)
	}
	if !o.Apply {
		return nil
	}
	return o.apply(ctx, app, plan.Fix)
}

// printFix writes the fix as a person reads it.
func printFix(w io.Writer, plan *access.FixPlan, names identity.Names) {
	f, fx := plan.Finding, plan.Fix
	fmt.Fprintf(w, "Finding: %s\n  %s\n\nFix: %s\n", f.ID, safe.Terminal(names.Annotate(f.Message)), safe.Terminal(fx.Description))
	fmt.Fprintln(w)
	for _, l := range plan.Summary(names) {
		if l.Kind != access.FixChecked {
			l.Text = "  " + l.Text
		}
		fmt.Fprintln(w, l.Text)
	}
	// The commands are printable already (safe.Shell); escaped again for
	// the terminal like every other line here.
	fmt.Fprintf(w, "\nAs kubectl commands (guarded: a concurrent change makes them fail):\n\n%s", safe.Lines(plan.Commands()))
}

// apply runs every operation as a server-side dry run, shows the diff,
// asks, then applies for real, in order. A failed guard stops it.
func (o *FixOptions) apply(ctx context.Context, app *access.App, fx *fix.Fix) error {
	azure := slices.ContainsFunc(fx.Operations, func(op fix.Operation) bool { return op.IsAzure() || op.IsAKS() })
	if azure {
		fmt.Fprintln(o.ErrOut, "\nDry run (Azure Resource Manager has none: what the fix changes there was read and checked; the Kubernetes changes, if any, run server-side):")
	} else {
		fmt.Fprintln(o.ErrOut, "\nServer-side dry run:")
	}
	diffs, err := app.DryRun(ctx, fx)
	if err != nil {
		return err
	}
	for _, d := range diffs {
		fmt.Fprintf(o.ErrOut, "%s\n%s", safe.Terminal(d.Operation), safe.Lines(d.Diff))
	}
	if !o.Yes {
		in, ok := o.In.(*os.File)
		if !ok || !term.IsTerminal(int(in.Fd())) {
			return errors.New("not applied: confirm on a terminal, or pass --yes")
		}
		where := safe.Terminal(app.Origin.Server)
		var azure, aks []string
		for _, op := range fx.Operations {
			switch {
			case op.IsAzure() || op.IsCredential():
				azure = append(azure, safe.Terminal(op.Target.Name))
			case op.IsAKS():
				aks = append(aks, safe.Terminal(op.Target.Name))
			}
		}
		switch {
		case len(azure) > 0:
			// ARM's changes reach beyond this cluster when the scope is
			// above it: name every assignment.
			what := "Azure role assignments "
			if slices.ContainsFunc(fx.Operations, fix.Operation.IsCredential) {
				what = "Azure role assignments and federated credentials "
			}
			where = what + strings.Join(azure, ", ") + " (for cluster " + where + ")"
		case len(aks) > 0:
			where = "managed cluster " + strings.Join(aks, ", ") + " through Azure Resource Manager (for cluster " + where + "; the update may take minutes)"
		}
		fmt.Fprintf(o.ErrOut, "Apply %d change(s) to %s? [y/N] ", len(fx.Operations), where)
		answer, readErr := readLine(ctx, o.In)
		if readErr != nil {
			return readErr
		}
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return errors.New("not applied")
		}
	}
	if slices.ContainsFunc(fx.Operations, func(op fix.Operation) bool { return op.IsAKS() }) {
		fmt.Fprintf(o.ErrOut, "Updating the managed cluster through Azure Resource Manager and waiting for it (minutes; at most %s, Ctrl-C stops the wait, not the update)...\n", access.AKSWait)
	}
	ap, err := app.ApplyFix(ctx, fx, func(op fix.Operation) {
		fmt.Fprintf(o.ErrOut, "applied: %s %s\n", op.Action, safe.Terminal(op.Target.String()))
	})
	if ap.N > 0 {
		// What stands can be put back: say how, even after a failure.
		switch path, command, serr := access.SaveRestore(ap, o.RestoreDir, app.Origin, time.Now()); {
		case ap.RestoreErr != nil:
			fmt.Fprintf(o.ErrOut, "No restore script: %s\n", safe.Error(ap.RestoreErr))
		case serr != nil:
			fmt.Fprintf(o.ErrOut, "The restore script could not be saved: %s\n", safe.Error(serr))
		default:
			fmt.Fprintf(o.ErrOut, "Saved the previous state to %s (mode 0600). To put it back: %s\n", safe.Terminal(path), safe.Terminal(command))
		}
	}
	return err
}

// readLine reads one line, giving up when ctx ends (Ctrl-C at the prompt).
func readLine(ctx context.Context, r io.Reader) (string, error) {
	type line struct {
		s   string
		err error
	}
	ch := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		ch <- line{s, err}
	}()
	select {
	case l := <-ch:
		if l.err != nil && l.err != io.EOF {
			return "", l.err
		}
		return l.s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
