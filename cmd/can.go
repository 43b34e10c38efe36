package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// CanOptions decide one request for one subject.
type CanOptions struct {
	*RootOptions
	Input  InputOptions
	Output *OutputFlag
	Verify *VerifyFlag
	Groups []string

	subject rbac.Subject
	request access.Request
}

// NewCmdCan returns `kubectl access can`.
func NewCmdCan(r *RootOptions) *cobra.Command {
	o := &CanOptions{RootOptions: r}
	c := &cobra.Command{
		Use:   "can SUBJECT VERB RESOURCE [NAME]",
		Short: "Decide one request for one subject: yes with its paths, or no with the nearest grants",
		Long: `Decide whether SUBJECT may make the request, exactly as the RBAC authorizer
would. Exit code 0 means allowed, 1 denied, 2 that no answer could be given
(including a denial seen through an incomplete view). With --verify the
cluster's own authorizer is asked too (a SubjectAccessReview as the
subject), and exit code 5 means it decided otherwise.

A cluster-scoped resource is decided cluster-wide; with -n it is decided in
that namespace, as kubectl auth can-i -n and a namespaced SubjectAccessReview
decide it (RoleBindings of the namespace count), with a warning.`,
		Example: `  kubectl access can user:alice@contoso.com get secrets -n web
  kubectl access can sa:ci:deployer create pods/exec -n payments
  kubectl access can user:bob@contoso.com --group 6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e03 delete deployments.apps frontend -n web -o json
  kubectl access can user:alice@contoso.com get /healthz`,
		Args: cobra.RangeArgs(3, 4),
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatTable, FormatJSON, FormatYAML)
	o.Verify = AddVerifyFlag(c)
	c.Flags().StringArrayVar(&o.Groups, "group", nil, "Group the user is also in (repeatable), like kubectl --as-group")
	return c
}

// Complete reads the arguments and the names file.
func (o *CanOptions) Complete(_ *cobra.Command, args []string) error {
	if err := o.Input.Complete(); err != nil {
		return err
	}
	s, err := parseSubject(args[0], o.Groups, o.Input.names)
	if err != nil {
		return err
	}
	o.subject, o.request = s, o.requestOf(args[1:], false)
	return nil
}

// Validate checks the flags.
func (o *CanOptions) Validate() error {
	return errors.Join(o.Output.Validate(), o.Verify.Validate(), o.Input.verifiable(o.Verify))
}

// Run decides the request.
func (o *CanOptions) Run(ctx context.Context) error {
	app, err := o.App(ctx, &o.Input, needs{catalog: true})
	if err != nil {
		return err
	}
	// The nearest grants may lie in other namespaces, so read them all.
	sess, err := app.Open(ctx, source.Scope{ClusterRBAC: true, AllNamespaces: true})
	if err != nil {
		return err
	}
	ans, err := sess.Can(ctx, o.subject, o.request)
	if err != nil {
		return err
	}
	nameSubject(&ans.Subject, app.Names)
	var verr error
	if o.Verify.On() {
		verr = sess.VerifyCan(ctx, ans, o.Verify.Options())
	}
	if o.Output.Document() {
		if err := printDoc(o.Out, o.Output.Value, ans); err != nil {
			return err
		}
	} else {
		printWarnings(o.ErrOut, ans.Incomplete, ans.Warnings)
		printCan(o, app, ans)
		printVerification(o.Out, ans.Verification)
	}
	switch {
	case verr != nil:
		return fmt.Errorf("the answer above is not verified: %w", verr)
	case !ans.Verification.Agrees():
		return verdict(ans.Verification)
	case ans.Allowed:
		return nil
	case ans.Unknown():
		return &ExitCodeError{Code: ExitError}
	}
	return &ExitCodeError{Code: ExitDenied}
}

func printCan(o *CanOptions, app *access.App, ans *access.CanAnswer) {
	a := ans.Query
	where := ""
	if a.Namespace != "" {
		where = " in namespace " + a.Namespace
	}
	who, what := cell(app.Names.Subject(o.subject)), cell(a.String()+where)
	switch {
	case ans.Allowed:
		fmt.Fprintf(o.Out, "yes: %s may %s\n", who, what)
		for _, p := range ans.Via {
			fmt.Fprintf(o.Out, "  via %s\n", cell(p.String()))
		}
	case ans.Unknown():
		fmt.Fprintf(o.Out, "unknown: no grant found for %s to %s, but the view is incomplete\n", who, what)
	default:
		fmt.Fprintf(o.Out, "no: %s may not %s\n", who, what)
	}
	if !ans.Allowed && len(ans.Nearest) > 0 {
		fmt.Fprintln(o.Out, "nearest grants:")
		for _, p := range ans.Nearest {
			fmt.Fprintf(o.Out, "  %s\n", cell(p.String()))
		}
	}
}
