package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

func init() { subcommands = append(subcommands, NewCmdWhatCan) }

// WhatCanDoc is the `WhatCan` JSON document.
type WhatCanDoc struct {
	APIVersion         string       `json:"apiVersion"`
	Kind               string       `json:"kind"`
	Subject            rbac.Subject `json:"subject"`
	rbac.WhatCanResult `json:",inline"`
}

// WhatCanOptions lists what a subject may do.
type WhatCanOptions struct {
	queryOptions
	Groups  []string
	subject rbac.Subject
}

// NewCmdWhatCan returns `kubectl access what-can`.
func NewCmdWhatCan(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &WhatCanOptions{queryOptions: queryOptions{flags: flags, IOStreams: streams}}
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
		RunE: func(c *cobra.Command, args []string) error {
			s, err := parseSubject(args[0], o.Groups)
			if err != nil {
				return err
			}
			o.subject = s
			if err := o.validate(); err != nil {
				return err
			}
			if err := o.complete(false); err != nil {
				return err
			}
			return o.Run(c)
		},
	}
	o.addFlags(c)
	c.Flags().StringArrayVar(&o.Groups, "group", nil, "Group the user is also in (repeatable), like kubectl --as-group")
	return c
}

// Run answers the query.
func (o *WhatCanOptions) Run(c *cobra.Command) error {
	ctx := c.Context()
	ns := ""
	if c.Flags().Changed("namespace") && !o.AllNamespaces {
		ns = o.namespace
	}
	// With -n only that namespace's Roles and RoleBindings count.
	scope := source.Scope{ClusterRBAC: true, Namespace: ns, AllNamespaces: ns == ""}
	ix, err := o.load(ctx, scope)
	if err != nil {
		return err
	}
	o.checkSubject(ctx, ix, o.subject)
	o.checkNamespace(ctx, ix, ns)
	res := ix.WhatCan(o.subject.Identity(), ns)
	res.Warnings = append(o.warnings, res.Warnings...)
	doc := WhatCanDoc{APIVersion: rbac.APIVersion, Kind: "WhatCan", Subject: o.subject, WhatCanResult: res}
	if o.Output == "json" || o.Output == "yaml" {
		return printDoc(o.Out, o.Output, doc)
	}
	printWarnings(o.ErrOut, res.Incomplete, res.Warnings)
	t := newTable(o.Out)
	wide := o.Output == "wide"
	fmt.Fprintln(t, "NAMESPACE\tVERBS\tRESOURCES\tVIA")
	for _, r := range res.Rules {
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
			fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", where, verbs, what, via(p))
		}
	}
	return t.Flush()
}
