package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// WhoCanOptions list who may make a request.
type WhoCanOptions struct {
	*RootOptions
	Input         InputOptions
	Output        *OutputFlag
	Verify        *VerifyFlag
	AllNamespaces bool
	Transitive    bool

	request access.Request
}

// NewCmdWhoCan returns `kubectl access who-can`.
func NewCmdWhoCan(r *RootOptions) *cobra.Command {
	o := &WhoCanOptions{RootOptions: r}
	c := &cobra.Command{
		Use:   "who-can VERB RESOURCE [NAME]",
		Short: "List every subject allowed to make a request, with the binding -> role -> rule behind each",
		Example: `  # Who can read secrets in the payments namespace?
  kubectl access who-can get secrets -n payments

  # Who can exec into pods anywhere (RoleBindings in every namespace count)?
  kubectl access who-can create pods/exec -A

  # Who can scale one deployment, as JSON?
  kubectl access who-can update deployments.apps/scale frontend -n web -o json

  # Non-resource URLs
  kubectl access who-can get /metrics

  # Also who reaches it through a service account (creating pods, exec, tokens)
  kubectl access who-can get secrets -n payments --transitive

  # Checked against the cluster's own authorizer (exit 5 on a disagreement)
  kubectl access who-can get secrets -n payments --verify

  # Offline, on manifests
  kubectl access who-can delete nodes -f testdata/demo/cluster.yaml`,
		Args: cobra.RangeArgs(2, 3),
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatTable, FormatWide, FormatJSON, FormatYAML, FormatCSV, FormatMarkdown)
	o.Verify = AddVerifyFlag(c)
	c.Flags().BoolVar(&o.Transitive, "transitive", false, "Also list who reaches the request through a service account that holds it (creating pods in its namespace, exec into its pods, minting its token), each with the chain; the default is the authorizer's direct answer")
	c.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "In any namespace: RoleBindings of every namespace count (each path says which)")
	return c
}

// Complete reads the arguments and the names file.
func (o *WhoCanOptions) Complete(_ *cobra.Command, args []string) error {
	o.request = o.requestOf(args, o.AllNamespaces)
	return o.Input.Complete()
}

// Validate checks the flags.
func (o *WhoCanOptions) Validate() error {
	return errors.Join(o.Output.Validate(), o.Verify.Validate(), o.Input.verifiable(o.Verify))
}

// Run answers the question.
func (o *WhoCanOptions) Run(ctx context.Context) error {
	app, err := o.App(ctx, &o.Input, needs{catalog: true})
	if err != nil {
		return err
	}
	at, _, err := app.Attributes(o.request)
	if err != nil {
		return err
	}
	scope := access.ScopeFor(at, o.AllNamespaces)
	if o.Verify.On() {
		// The subjects bound in any namespace are candidates the
		// verification asks about: a webhook may grant them here.
		scope.AllNamespaces = true
	}
	if o.Transitive {
		// Who may create pods or tokens where a service account holds
		// the request: every namespace's RBAC, the accounts and the pods.
		scope.AllNamespaces, scope.ServiceAccounts, scope.Workloads = true, true, true
	}
	sess, err := app.Open(ctx, scope)
	if err != nil {
		return err
	}
	ans, err := sess.WhoCan(ctx, o.request)
	if err != nil {
		return err
	}
	for i := range ans.Subjects {
		if g := &ans.Subjects[i]; g.Kind == rbac.GroupKind {
			g.DisplayName = app.Names.DisplayName(g.Name)
		}
	}
	if o.Transitive {
		sess.Transitive(ans)
	}
	// The answer stands whatever the verification finds; a failure to
	// verify is said after it (exit 2), a disagreement with it (exit 5).
	var verr error
	if o.Verify.On() {
		verr = sess.VerifyWhoCan(ctx, ans, o.Verify.Options())
	}
	if err := o.print(app, ans); err != nil {
		return err
	}
	if verr != nil {
		return fmt.Errorf("the answer above is not verified: %w", verr)
	}
	return verdict(ans.Verification)
}

func (o *WhoCanOptions) print(app *access.App, ans *access.WhoCanAnswer) error {
	if o.Output.Document() {
		doc := *ans
		doc.Subjects = firstOf(ans.Subjects)
		return writeDoc(o.Out, o.Output.Value, &doc, listOf("subjects", ans.Subjects))
	}
	printWarnings(o.ErrOut, ans.Incomplete, ans.Warnings)
	verified := ans.Verification != nil
	switch f := o.Output.Value; f {
	case FormatCSV, FormatMarkdown:
		// Flat: every row whole, the subject on each.
		header := []string{"SUBJECT", "DISPLAY NAME", "BINDING", "ROLE", "RULE"}
		if verified {
			header = append(header, "VERIFIED")
		}
		t := newRows(o.Out, f, header...)
		for _, s := range ans.Subjects {
			sub := s.Subject()
			display := ""
			if sub.Kind == rbac.GroupKind {
				display = app.Names[sub.Name]
			}
			for _, p := range s.Via {
				row := []string{sub.String(), display, bindingOf(p), p.Role.String(), rbac.RuleString(p.Rule)}
				if verified {
					row = append(row, s.Verified)
				}
				t.add(row...)
			}
		}
		return t.flush()
	}
	wide := o.Output.Value == FormatWide
	header := []string{"SUBJECT", "VIA"}
	if wide {
		header = append(header, "RULE")
	}
	if verified {
		header = append(header, "VERIFIED")
	}
	t := newRows(o.Out, o.Output.Value, header...)
	for _, s := range ans.Subjects {
		name := app.Names.Subject(s.Subject())
		if s.Broad != "" {
			name += " (" + s.Broad + ")"
		}
		mark := s.Verified
		for i, p := range s.Via {
			if i > 0 {
				name, mark = "", ""
			}
			row := []string{name, via(p)}
			if wide {
				row = append(row, rbac.RuleString(p.Rule))
			}
			if verified {
				row = append(row, mark)
			}
			t.add(row...)
		}
	}
	if err := t.flush(); err != nil {
		return err
	}
	printVerification(o.Out, ans.Verification)
	if o.Transitive {
		printTransitive(o.Out, app, ans)
		return nil
	}
	// The table is the authorizer's direct answer; say so where service
	// accounts hold the request, since whoever can act as them holds it too.
	sas := 0
	for _, g := range ans.Subjects {
		if g.Kind == rbac.ServiceAccountKind || g.Kind == rbac.GroupKind && (g.Name == rbac.GroupServiceAccounts || strings.HasPrefix(g.Name, rbac.GroupServiceAccountsPrefix)) {
			sas++
		}
	}
	if sas > 0 {
		fmt.Fprintf(o.ErrOut, "Note: the direct answer: %d of these subjects are service accounts (or their groups); --transitive adds who can act as them\n", sas)
	}
	return nil
}

// printTransitive lists who reaches the request through a service
// account, each with the chain.
func printTransitive(w io.Writer, app *access.App, ans *access.WhoCanAnswer) {
	fmt.Fprintln(w)
	if len(ans.Transitive) == 0 {
		if ans.Incomplete {
			fmt.Fprintln(w, "Through a service account (--transitive): none found, but the view is incomplete: more may reach it.")
			return
		}
		fmt.Fprintln(w, "Through a service account (--transitive): nobody else.")
		return
	}
	fmt.Fprintf(w, "Through a service account (--transitive): %d more chains\n", len(ans.Transitive))
	t := newTable(w)
	fmt.Fprintln(t, "SUBJECT\tCAN\tAND SO ACT AS\tWHICH HOLDS IT VIA")
	for _, g := range ans.Transitive {
		step, held := "", ""
		if len(g.StepVia) > 0 {
			step = " (" + via(g.StepVia[0]) + ")"
		}
		if len(g.Via) > 0 {
			held = via(g.Via[0])
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", cell(app.Names.Subject(g.Subject())), cell(g.Step+" in "+g.ServiceAccount.Namespace+step), cell(g.ServiceAccount.String()), cell(held))
	}
	_ = t.Flush()
}
