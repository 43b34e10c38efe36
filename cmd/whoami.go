package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// WhoAmIOptions asks the API server who the caller is.
type WhoAmIOptions struct {
	*RootOptions
	Input         InputOptions
	Output        *OutputFlag
	ResolveGroups bool
	GraphURL      string
}

// NewCmdWhoAmI returns `kubectl access whoami`.
func NewCmdWhoAmI(r *RootOptions) *cobra.Command {
	o := &WhoAmIOptions{RootOptions: r}
	c := &cobra.Command{
		Use:   "whoami",
		Short: "Who the API server sees you as (username, groups with names, extra), and how you signed in",
		Long: `whoami asks the API server who the caller is (SelfSubjectReview) and says how the
kubeconfig signed in: kubelogin and its login mode, another exec plugin, a client
certificate (a local account outside Entra ID), a token, or AKS hybrid's Active
Directory single sign-on (kubectl-adsso). Entra group object ids and AD SIDs are
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
		RunE: runE(o),
	}
	o.Output = AddOutputFlag(c, FormatTable, FormatJSON, FormatYAML)
	c.Flags().DurationVar(&o.Input.Timeout, "timeout", defaultTimeout, "How long the sign-in and the review may take")
	c.Flags().StringVar(&o.Input.GroupNames, "group-names", "", "File of group object id -> display name (JSON or CSV)")
	c.Flags().BoolVar(&o.ResolveGroups, "resolve-groups", false, "Ask Microsoft Graph for group names (directoryObjects/getByIds) with a Graph token from the same kubelogin sign-in; needs Directory.Read.All or GroupMember.Read.All")
	c.Flags().StringVar(&o.GraphURL, "graph-url", "https://graph.microsoft.com", "With --resolve-groups: Microsoft Graph's endpoint (sovereign clouds have their own)")
	return c
}

// Complete reads the names file.
func (o *WhoAmIOptions) Complete(c *cobra.Command, _ []string) error {
	return o.Input.Complete(c.Context())
}

// Validate checks the flags.
func (o *WhoAmIOptions) Validate() error { return o.Output.Validate() }

// Run reviews and prints.
func (o *WhoAmIOptions) Run(ctx context.Context) error {
	doc := &auth.WhoAmI{APIVersion: rbac.APIVersion, Kind: auth.WhoAmIKind, Warnings: []string{}}
	cred, err := o.credential()
	if err != nil {
		doc.Warnings = append(doc.Warnings, "could not inspect the kubeconfig: "+err.Error())
	} else if err := unusable(cred); err != nil && o.login() == nil {
		return err
	}
	doc.Credential = cred
	names := o.Input.names
	raw, err := o.Flags.ToRESTConfig()
	if err != nil {
		return kubeconfigError(err)
	}
	cfg, _, err := o.restConfig(ctx, o.Input.Timeout)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Input.Timeout)
	defer cancel()
	user, token, err := auth.Review(ctx, cfg)
	if err != nil {
		return cluster.Explain(err)
	}
	if o.ResolveGroups {
		if err := o.resolve(ctx, raw, user, names); err != nil {
			doc.Warnings = append(doc.Warnings, "group names from Microsoft Graph: "+err.Error())
		}
	}
	for i := range user.Groups {
		user.Groups[i].Name = names[user.Groups[i].ID]
	}
	doc.User, doc.Token = *user, token
	if oids := user.Extra["oid"]; len(oids) > 0 {
		doc.ObjectID = oids[0]
	}
	doc.ActiveDirectory = auth.ActiveDirectoryOf(user, cred)
	if cs, err := kubernetes.NewForConfig(cfg); err == nil && doc.ActiveDirectory == nil {
		doc.AzureRBAC, doc.AzureDecides = cluster.WhoAmIAzure(ctx, cs, user.Username, doc.ObjectID)
	}
	doc.Warnings = append(doc.Warnings, auth.Warn(user, token, time.Now())...)
	if o.Output.Document() {
		return printDoc(o.Out, o.Output.Value, doc)
	}
	for _, w := range doc.Warnings {
		fmt.Fprintf(o.ErrOut, "Warning: %s\n", safe.Terminal(w))
	}
	printWhoAmI(o.Out, doc, names)
	return nil
}

func printWhoAmI(w io.Writer, d *auth.WhoAmI, names identity.Names) {
	tw := newTable(w)
	fmt.Fprintf(tw, "USERNAME\t%s\n", cell(d.User.Username))
	if d.User.UID != "" {
		fmt.Fprintf(tw, "UID\t%s\n", cell(d.User.UID))
	}
	for i, g := range d.User.Groups {
		label := "GROUPS"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(tw, "%s\t%s\n", label, cell(names.Label(g.ID)))
	}
	keys := make([]string, 0, len(d.User.Extra))
	for k := range d.User.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "EXTRA %s\t%s\n", cell(k), cell(strings.Join(d.User.Extra[k], ", ")))
	}
	if d.ObjectID != "" {
		fmt.Fprintf(tw, "OBJECT ID\t%s\n", cell(d.ObjectID))
	}
	if ad := d.ActiveDirectory; ad != nil {
		switch {
		case ad.Account != "":
			fmt.Fprintf(tw, "AD ACCOUNT\t%s\n", cell(ad.Domain+`\`+ad.Account))
		case ad.SID != "":
			fmt.Fprintf(tw, "AD ACCOUNT\t%s\n", cell(names.Label(ad.SID)))
		}
		if ad.SIDGroups > 0 {
			fmt.Fprintf(tw, "AD GROUPS\t%d SIDs (--group-names FILE names them: a CSV of name,sid)\n", ad.SIDGroups)
		}
	}
	if d.AzureDecides != "" {
		fmt.Fprintf(tw, "AZURE RBAC\t%s\n", cell(d.AzureDecides))
	}
	if c := d.Credential; c != nil {
		how := string(c.Method)
		switch c.Method {
		case identity.Kubelogin:
			how = "kubelogin, login " + c.Login
			if c.PoP {
				how += " (PoP)"
			}
		case identity.ADSSO:
			how = auth.ADSSONote + ", " + c.Command
		case identity.ExecPlugin:
			how = "exec plugin " + c.Command
		case identity.ClientCertificate:
			how = "client certificate " + c.CertificateCN
			if c.BreakGlass {
				how += " (system:masters: break-glass admin)"
			}
		}
		fmt.Fprintf(tw, "SIGNED IN WITH\t%s (context %s)\n", cell(how), cell(c.Context))
		if !c.CertificateNotAfter.IsZero() {
			fmt.Fprintf(tw, "EXPIRES\t%s\n", c.CertificateNotAfter.Format(time.RFC3339))
		}
	}
	if t := d.Token; t != nil && !t.Expiry.IsZero() {
		fmt.Fprintf(tw, "TOKEN EXPIRES\t%s\n", t.Expiry.Local().Format(time.RFC3339))
	}
	_ = tw.Flush() // the command's output: a failed write has nowhere to go
}

// resolve adds the names Graph knows of the user's groups to names.
func (o *WhoAmIOptions) resolve(ctx context.Context, cfg *rest.Config, u *auth.User, names identity.Names) error {
	var token func(context.Context) (string, error)
	if l := o.login(); l != nil && l.InProcess() {
		token = l.GraphToken(o.GraphURL)
	} else {
		var err error
		if token, err = auth.GraphTokenFromExec(cfg.ExecProvider, o.GraphURL); err != nil {
			return err
		}
	}
	var ids []string
	for _, g := range u.Groups {
		if !strings.HasPrefix(g.ID, "system:") {
			ids = append(ids, g.ID)
		}
	}
	g := &auth.Graph{BaseURL: strings.TrimSuffix(o.GraphURL, "/"), Token: token, Client: o.httpClient()}
	found, err := g.Resolve(ctx, ids)
	for id, n := range found {
		names[id] = n
	}
	return err
}
