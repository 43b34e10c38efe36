package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// WhatCanOptions list what a subject may do.
type WhatCanOptions struct {
	*RootOptions
	Input         InputOptions
	Output        *OutputFlag
	Groups        []string
	AllNamespaces bool

	subject rbac.Subject
	ns      string // "" = every namespace
}

// NewCmdWhatCan returns `kubectl access what-can`.
func NewCmdWhatCan(r *RootOptions) *cobra.Command {
	o := &WhatCanOptions{RootOptions: r}
	c := &cobra.Command{
		Use:   "what-can SUBJECT",
		Short: "List every rule a user, group or service account holds, by namespace, with paths",
		Long: `List every rule SUBJECT holds, cluster-wide and in each namespace, with the
binding -> role path that grants it. SUBJECT is user:NAME, group:NAME or
sa:NAMESPACE:NAME. A user is also in system:authenticated; a service account
also in system:serviceaccounts and system:serviceaccounts:NAMESPACE.
Without -n every namespace is shown; with -n, cluster-wide rules and that
namespace's.`,
		Example: `  # An Entra ID user with two group memberships
  kubectl access what-can user:alice@contoso.com --group 6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e03

  # A service account, in its namespace only
  kubectl access what-can sa:ci:deployer -n ci

  # What every authenticated user holds
  kubectl access what-can group:system:authenticated -o json`,
		Args: cobra.ExactArgs(1),
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatTable, FormatWide, FormatJSON, FormatYAML)
	c.Flags().StringArrayVar(&o.Groups, "group", nil, "Group the user is also in (repeatable), like kubectl --as-group")
	c.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Every namespace (the default without -n)")
	return c
}

// Complete reads the subject and the names file.
func (o *WhatCanOptions) Complete(_ *cobra.Command, args []string) error {
	s, err := parseSubject(args[0], o.Groups)
	if err != nil {
		return err
	}
	o.subject = s
	if ns, set := o.namespace(); set && !o.AllNamespaces {
		o.ns = ns
	}
	return o.Input.Complete()
}

// Validate checks the flags.
func (o *WhatCanOptions) Validate() error { return o.Output.Validate() }

// Run answers the question.
func (o *WhatCanOptions) Run(ctx context.Context) error {
	app, err := o.App(ctx, &o.Input, needs{})
	if err != nil {
		return err
	}
	// With -n only that namespace's Roles and RoleBindings count.
	sess, err := app.Open(ctx, source.Scope{ClusterRBAC: true, Namespace: o.ns, AllNamespaces: o.ns == ""})
	if err != nil {
		return err
	}
	ans := sess.WhatCan(ctx, o.subject, o.ns)
	if o.Output.Document() {
		doc := *ans
		doc.Rules = firstOf(ans.Rules)
		return writeDoc(o.Out, o.Output.Value, &doc, listOf("rules", ans.Rules))
	}
	printWarnings(o.ErrOut, ans.Incomplete, ans.Warnings)
	t := newTable(o.Out)
	wide := o.Output.Value == FormatWide
	fmt.Fprintln(t, "NAMESPACE\tVERBS\tRESOURCES\tVIA")
	for _, r := range ans.Rules {
		where := r.Namespace
		if where == "" {
			where = "*"
		}
		verbs, what := strings.Join(r.Verbs, ","), resources(r)
		if !wide {
			verbs, what = truncate(verbs, 24), truncate(what, 32)
		}
		for i, p := range r.Via {
			if i > 0 {
				where, verbs, what = "", "", ""
			}
			fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", cell(where), cell(verbs), cell(what), cell(via(p)))
		}
	}
	return t.Flush()
}

// parseSubject reads a SUBJECT argument and adds the --group memberships,
// which only a user or service account can have.
func parseSubject(arg string, groups []string) (rbac.Subject, error) {
	s, err := rbac.ParseSubject(arg)
	if err != nil {
		return s, err
	}
	if s.Kind == rbac.GroupKind && len(groups) > 0 {
		return s, fmt.Errorf("--group adds memberships to a user or service account, not to group %s", s.Name)
	}
	s.Groups = groups
	return s, nil
}
