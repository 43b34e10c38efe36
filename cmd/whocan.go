package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

func init() { subcommands = append(subcommands, NewCmdWhoCan) }

// WhoCanDoc is the `WhoCan` JSON document.
type WhoCanDoc struct {
	APIVersion        string      `json:"apiVersion"`
	Kind              string      `json:"kind"`
	Query             WhoCanQuery `json:"query"`
	rbac.WhoCanResult `json:",inline"`
}

// WhoCanQuery is the request asked about; AllNamespaces is -A.
type WhoCanQuery struct {
	rbac.Attributes `json:",inline"`
	AllNamespaces   bool `json:"allNamespaces,omitempty"`
}

// WhoCanOptions lists who may make a request.
type WhoCanOptions struct {
	queryOptions
	verb, resource, name string
}

// NewCmdWhoCan returns `kubectl access who-can`.
func NewCmdWhoCan(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &WhoCanOptions{queryOptions: queryOptions{flags: flags, IOStreams: streams}}
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
		RunE: func(c *cobra.Command, args []string) error {
			o.verb, o.resource = args[0], args[1]
			if len(args) == 3 {
				o.name = args[2]
			}
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
	return c
}

// Run answers the query.
func (o *WhoCanOptions) Run(c *cobra.Command) error {
	ctx := c.Context()
	a, err := o.attributes(o.verb, o.resource, o.name)
	if err != nil {
		return err
	}
	if o.AllNamespaces && a.Namespace == "" {
		// Only ClusterRoleBindings grant it: reading every namespace's
		// RoleBindings would change nothing.
		o.warnings = append(o.warnings, fmt.Sprintf("%s is not namespaced: only ClusterRoleBindings grant it, so -A changes nothing", a.String()))
	}
	scope := source.Scope{ClusterRBAC: true, Namespace: a.Namespace, AllNamespaces: o.AllNamespaces && a.Namespace != ""}
	ix, err := o.load(ctx, scope)
	if err != nil {
		return err
	}
	if !o.AllNamespaces {
		o.checkNamespace(ctx, ix, a.Namespace)
	}
	res := ix.WhoCan(a, o.AllNamespaces)
	res.Warnings = append(o.warnings, res.Warnings...)
	doc := WhoCanDoc{APIVersion: rbac.APIVersion, Kind: "WhoCan", Query: WhoCanQuery{Attributes: a, AllNamespaces: o.AllNamespaces}, WhoCanResult: res}
	if o.Output == "json" || o.Output == "yaml" {
		return printDoc(o.Out, o.Output, doc)
	}
	printWarnings(o.ErrOut, res.Incomplete, res.Warnings)
	t := newTable(o.Out)
	if o.Output == "wide" {
		fmt.Fprintln(t, "SUBJECT\tVIA\tRULE")
	} else {
		fmt.Fprintln(t, "SUBJECT\tVIA")
	}
	for _, s := range res.Subjects {
		name := o.label(s.Subject())
		if s.Broad != "" {
			name += " (" + s.Broad + ")"
		}
		for i, p := range s.Via {
			if i > 0 {
				name = ""
			}
			if o.Output == "wide" {
				fmt.Fprintf(t, "%s\t%s\t%s\n", name, via(p), rbac.RuleString(p.Rule))
			} else {
				fmt.Fprintf(t, "%s\t%s\n", name, via(p))
			}
		}
	}
	return t.Flush()
}
