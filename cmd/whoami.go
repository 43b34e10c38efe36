package cmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/rbac"
)

func init() { subcommands = append(subcommands, NewCmdWhoAmI) }

// WhoAmIOptions asks the API server who the caller is.
type WhoAmIOptions struct {
	queryOptions
	ResolveGroups bool
	GraphURL      string
}

// graphHTTPClient is the client Graph is asked with (tests point it at a
// loopback Graph).
var graphHTTPClient = http.DefaultClient

// NewCmdWhoAmI returns `kubectl access whoami`.
func NewCmdWhoAmI(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &WhoAmIOptions{queryOptions: queryOptions{flags: flags, IOStreams: streams}}
	c := &cobra.Command{
		Use:   "whoami",
		Short: "Who the API server sees you as (username, groups with names, extra), and how you signed in",
		Long: `whoami asks the API server who the caller is (SelfSubjectReview) and says how the
kubeconfig signed in: kubelogin and its login mode, another exec plugin, a client
certificate (a local account outside Entra ID), a token. Entra group object ids are
shown with their names when --group-names gives them.`,
		Example: `  # Who am I on this cluster?
  kubectl access whoami

  # With the names of my Entra groups (a JSON map, a JSON list of {id, displayName}, or CSV id,name)
  az ad group list --query "[].{id:id, displayName:displayName}" -o json > groups.json
  kubectl access whoami --group-names testdata/demo/group-names.json

  # With names from Microsoft Graph, through the same Entra sign-in
  kubectl access whoami --resolve-groups

  # As JSON, for scripts
  kubectl access whoami -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Output == "wide" || !slices.Contains(outputFormats, o.Output) {
				return fmt.Errorf("unknown output format %q: use one of table, json, yaml", o.Output)
			}
			if len(o.Filenames) > 0 {
				return fmt.Errorf("whoami asks a live API server: it cannot read files (-f)")
			}
			if err := o.complete(false); err != nil {
				return err
			}
			return o.Run(c)
		},
	}
	c.Flags().StringVarP(&o.Output, "output", "o", "table", "Output format: one of table, json, yaml")
	c.Flags().DurationVar(&o.Timeout, "timeout", 2*time.Minute, "How long the sign-in and the review may take")
	c.Flags().StringVar(&o.GroupNames, "group-names", "", "File of group object id -> display name (JSON or CSV)")
	c.Flags().BoolVar(&o.ResolveGroups, "resolve-groups", false, "Ask Microsoft Graph for group names (directoryObjects/getByIds) with a Graph token from the same kubelogin sign-in; needs Directory.Read.All or GroupMember.Read.All")
	c.Flags().StringVar(&o.GraphURL, "graph-url", "https://graph.microsoft.com", "With --resolve-groups: Microsoft Graph's endpoint (sovereign clouds have their own)")
	return c
}

// Run reviews and prints.
func (o *WhoAmIOptions) Run(c *cobra.Command) error {
	doc := &auth.WhoAmI{APIVersion: rbac.APIVersion, Kind: auth.WhoAmIKind, Warnings: []string{}}
	cred, err := o.credential()
	if err != nil {
		doc.Warnings = append(doc.Warnings, "could not inspect the kubeconfig: "+err.Error())
	}
	doc.Credential = cred
	names := o.names
	if names == nil {
		names = auth.Names{}
	}
	ctx, cancel := contextWithTimeout(c, o.Timeout)
	defer cancel()
	user, token, err := auth.Review(ctx, o.config)
	if err != nil {
		return clusterError(err)
	}
	if o.ResolveGroups {
		if err := o.resolve(ctx, user, names); err != nil {
			doc.Warnings = append(doc.Warnings, "group names from Microsoft Graph: "+err.Error())
		}
	}
	for i := range user.Groups {
		user.Groups[i].Name = names[user.Groups[i].ID]
	}
	doc.User, doc.Token = *user, token
	doc.Warnings = append(doc.Warnings, auth.Warn(user, token, time.Now())...)
	switch o.Output {
	case "json", "yaml":
		return printDoc(o.Out, o.Output, doc)
	}
	printWarnings(o.ErrOut, false, doc.Warnings)
	printWhoAmI(o.Out, doc, names)
	return nil
}

func printWhoAmI(w io.Writer, d *auth.WhoAmI, names auth.Names) {
	tw := newTable(w)
	fmt.Fprintf(tw, "USERNAME\t%s\n", d.User.Username)
	if d.User.UID != "" {
		fmt.Fprintf(tw, "UID\t%s\n", d.User.UID)
	}
	for i, g := range d.User.Groups {
		label := "GROUPS"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(tw, "%s\t%s\n", label, names.Label(g.ID))
	}
	keys := make([]string, 0, len(d.User.Extra))
	for k := range d.User.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "EXTRA %s\t%s\n", k, strings.Join(d.User.Extra[k], ", "))
	}
	if c := d.Credential; c != nil {
		how := string(c.Method)
		switch c.Method {
		case auth.Kubelogin:
			how = "kubelogin, login " + c.Login
			if c.PoP {
				how += " (PoP)"
			}
		case auth.ExecPlugin:
			how = "exec plugin " + c.Command
		case auth.ClientCertificate:
			how = "client certificate " + c.CertificateCN
			if c.BreakGlass {
				how += " (system:masters: break-glass admin)"
			}
		}
		fmt.Fprintf(tw, "SIGNED IN WITH\t%s (context %s)\n", how, c.Context)
		if !c.CertificateNotAfter.IsZero() {
			fmt.Fprintf(tw, "EXPIRES\t%s\n", c.CertificateNotAfter.Format(time.RFC3339))
		}
	}
	if t := d.Token; t != nil && !t.Expiry.IsZero() {
		fmt.Fprintf(tw, "TOKEN EXPIRES\t%s\n", t.Expiry.Local().Format(time.RFC3339))
	}
	tw.Flush()
}

func contextWithTimeout(c *cobra.Command, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Context(), d)
}

// resolve adds the names Graph knows of the user's groups to names.
func (o *WhoAmIOptions) resolve(ctx context.Context, u *auth.User, names auth.Names) error {
	var token func(context.Context) (string, error)
	if l := loginOf(o.flags); l != nil && l.InProcess() {
		token = l.GraphToken(o.GraphURL)
	} else {
		var err error
		if token, err = auth.GraphTokenFromExec(o.config.ExecProvider, o.GraphURL); err != nil {
			return err
		}
	}
	var ids []string
	for _, g := range u.Groups {
		if !strings.HasPrefix(g.ID, "system:") {
			ids = append(ids, g.ID)
		}
	}
	g := &auth.Graph{BaseURL: strings.TrimSuffix(o.GraphURL, "/"), Token: token, Client: graphHTTPClient}
	found, err := g.Resolve(ctx, ids)
	for id, n := range found {
		names[id] = n
	}
	return err
}
