package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// WhoCanOptions list who may make a request.
type WhoCanOptions struct {
	*RootOptions
	Input         InputOptions
	Output        *OutputFlag
	AllNamespaces bool

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

  # Offline, on manifests
  kubectl access who-can delete nodes -f testdata/demo/cluster.yaml`,
		Args: cobra.RangeArgs(2, 3),
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatTable, FormatWide, FormatJSON, FormatYAML)
	c.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "In any namespace: RoleBindings of every namespace count (each path says which)")
	return c
}

// Complete reads the arguments and the names file.
func (o *WhoCanOptions) Complete(_ *cobra.Command, args []string) error {
	o.request = o.requestOf(args, o.AllNamespaces)
	return o.Input.Complete()
}

// Validate checks the flags.
func (o *WhoCanOptions) Validate() error { return o.Output.Validate() }

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
	sess, err := app.Open(ctx, access.ScopeFor(at, o.AllNamespaces))
	if err != nil {
		return err
	}
	ans, err := sess.WhoCan(ctx, o.request)
	if err != nil {
		return err
	}
	if o.Output.Document() {
		doc := *ans
		doc.Subjects = firstOf(ans.Subjects)
		return writeDoc(o.Out, o.Output.Value, &doc, listOf("subjects", ans.Subjects))
	}
	printWarnings(o.ErrOut, ans.Incomplete, ans.Warnings)
	wide := o.Output.Value == FormatWide
	t := newTable(o.Out)
	if wide {
		fmt.Fprintln(t, "SUBJECT\tVIA\tRULE")
	} else {
		fmt.Fprintln(t, "SUBJECT\tVIA")
	}
	for _, s := range ans.Subjects {
		name := app.Names.Subject(s.Subject())
		if s.Broad != "" {
			name += " (" + s.Broad + ")"
		}
		for i, p := range s.Via {
			if i > 0 {
				name = ""
			}
			if wide {
				fmt.Fprintf(t, "%s\t%s\t%s\n", cell(name), cell(via(p)), cell(rbac.RuleString(p.Rule)))
			} else {
				fmt.Fprintf(t, "%s\t%s\n", cell(name), cell(via(p)))
			}
		}
	}
	return t.Flush()
}
