package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

func init() { subcommands = append(subcommands, NewCmdCan) }

// CanDoc is the `Can` JSON document.
type CanDoc struct {
	APIVersion     string          `json:"apiVersion"`
	Kind           string          `json:"kind"`
	Subject        rbac.Subject    `json:"subject"`
	Query          rbac.Attributes `json:"query"`
	rbac.CanResult `json:",inline"`
}

// CanOptions decides one request for one subject.
type CanOptions struct {
	queryOptions
	Groups               []string
	subject              rbac.Subject
	verb, resource, name string
}

// NewCmdCan returns `kubectl access can`.
func NewCmdCan(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &CanOptions{queryOptions: queryOptions{flags: flags, IOStreams: streams}}
	c := &cobra.Command{
		Use:   "can SUBJECT VERB RESOURCE [NAME]",
		Short: "Decide one request for one subject: yes with its paths, or no with the nearest grants",
		Long: `Decide whether SUBJECT may make the request, exactly as the RBAC authorizer
would. Exit code 0 means allowed, 1 denied, 2 that no answer could be given
(including a denial seen through an incomplete view).`,
		Example: `  kubectl access can user:alice@contoso.com get secrets -n web
  kubectl access can sa:ci:deployer create pods/exec -n payments
  kubectl access can user:bob@contoso.com --group 6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e03 delete deployments.apps frontend -n web -o json
  kubectl access can user:alice@contoso.com get /healthz`,
		Args: cobra.RangeArgs(3, 4),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := parseSubject(args[0], o.Groups)
			if err != nil {
				return err
			}
			o.subject, o.verb, o.resource = s, args[1], args[2]
			if len(args) == 4 {
				o.name = args[3]
			}
			if o.AllNamespaces {
				return fmt.Errorf("can decides one request in one namespace: use -n, or what-can for every namespace")
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
	c.Flags().StringArrayVar(&o.Groups, "group", nil, "Group the user is also in (repeatable), like kubectl --as-group")
	return c
}

// Run decides the request.
func (o *CanOptions) Run(c *cobra.Command) error {
	ctx := c.Context()
	a, err := o.attributes(o.verb, o.resource, o.name)
	if err != nil {
		return err
	}
	// The nearest grants may lie in other namespaces, so read them all.
	ix, err := o.load(ctx, source.Scope{ClusterRBAC: true, AllNamespaces: true})
	if err != nil {
		return err
	}
	o.checkSubject(ctx, ix, o.subject)
	o.checkNamespace(ctx, ix, a.Namespace)
	res := ix.Can(o.subject.Identity(), a)
	res.Warnings = append(o.warnings, res.Warnings...)
	doc := CanDoc{APIVersion: rbac.APIVersion, Kind: "Can", Subject: o.subject, Query: a, CanResult: res}
	if o.Output == "json" || o.Output == "yaml" {
		if err := printDoc(o.Out, o.Output, doc); err != nil {
			return err
		}
	} else {
		printWarnings(o.ErrOut, res.Incomplete, res.Warnings)
		where := ""
		if a.Namespace != "" {
			where = " in namespace " + a.Namespace
		}
		switch {
		case res.Allowed:
			fmt.Fprintf(o.Out, "yes: %s may %s%s\n", o.label(o.subject), a.String(), where)
			for _, p := range res.Via {
				fmt.Fprintf(o.Out, "  via %s\n", p)
			}
		case res.Incomplete:
			fmt.Fprintf(o.Out, "unknown: no grant found for %s to %s%s, but the view is incomplete\n", o.label(o.subject), a.String(), where)
		default:
			fmt.Fprintf(o.Out, "no: %s may not %s%s\n", o.label(o.subject), a.String(), where)
		}
		if !res.Allowed && len(res.Nearest) > 0 {
			fmt.Fprintln(o.Out, "nearest grants:")
			for _, p := range res.Nearest {
				fmt.Fprintf(o.Out, "  %s\n", p)
			}
		}
	}
	switch {
	case res.Allowed:
		return nil
	case res.Incomplete:
		return &ExitCodeError{Code: ExitError}
	}
	return &ExitCodeError{Code: ExitDenied}
}
