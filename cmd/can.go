package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// CanOptions decide one request for one subject.
type CanOptions struct {
	*RootOptions
	Input  InputOptions
	Output *OutputFlag
	Verify *VerifyFlag
	Groups []string
	OID    string
	Fleet  *FleetFlags

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

With several clusters (--context more than once, --contexts GLOB,
--all-contexts, or -f on a fleet directory) each is decided under its own
heading (-o json: a document each, naming its cluster), then a line says
where it is allowed; exit 0 means allowed on every cluster, 1 denied on at
least one, 2 unknown on at least one (not read, or read in part).

A cluster-scoped resource is decided cluster-wide; with -n it is decided in
that namespace, as kubectl auth can-i -n and a namespaced SubjectAccessReview
decide it (RoleBindings of the namespace count), with a warning.`,
		Example: `  kubectl access can user:alice@contoso.com get secrets -n web
  kubectl access can sa:ci:deployer create pods/exec -n payments
  kubectl access can user:bob@contoso.com --group 6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e03 delete deployments.apps frontend -n web -o json
  kubectl access can user:alice@contoso.com get /healthz

  # Azure RBAC (AKS) decides for the user's object id (here from az's JSON beside the RBAC)
  kubectl access can user:ann@contoso.com --oid a0000000-0000-4000-8000-000000000001 list pods -n web -f testdata/azure

  # On every production cluster: exit 0 only when allowed on all of them
  kubectl access can user:alice@contoso.com get secrets -n payments --contexts 'prod-*'`,
		Args: cobra.RangeArgs(3, 4),
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatTable, FormatJSON, FormatYAML)
	o.Verify = AddVerifyFlag(c)
	o.Fleet = addFleetFlags(c, r)
	c.Flags().StringArrayVar(&o.Groups, "group", nil, "Group the user is also in (repeatable), like kubectl --as-group")
	c.Flags().StringVar(&o.OID, "oid", "", "The user's Entra object id, which Azure RBAC decides with (extra.oid); default: the user name when it is one, else the id Azure role assignments give the name")
	return c
}

// Complete reads the arguments and the names file.
func (o *CanOptions) Complete(c *cobra.Command, args []string) error {
	if err := o.Input.Complete(c.Context()); err != nil {
		return err
	}
	s, err := parseSubject(args[0], o.Groups, o.Input.names)
	if err != nil {
		return err
	}
	if o.OID != "" {
		if s.Kind != rbac.UserKind {
			return fmt.Errorf("--oid %q: only a user has an object id of its own (a group is named by its object id)", safe.Terminal(o.OID))
		}
		if !access.IsObjectID(o.OID) {
			return fmt.Errorf("--oid %q: not an Entra object id (a GUID such as 6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e01)", safe.Terminal(o.OID))
		}
		s.ObjectID = strings.ToLower(o.OID)
	}
	o.subject, o.request = s, o.requestOf(args[1:], false)
	return nil
}

// Validate checks the flags.
func (o *CanOptions) Validate() error {
	return errors.Join(o.Output.Validate(), o.Verify.Validate(), o.Input.verifiable(o.Verify), o.Fleet.Validate(&o.Input))
}

// Run decides the request.
func (o *CanOptions) Run(ctx context.Context) error {
	if o.Fleet.On(&o.Input) {
		return o.runFleet(ctx)
	}
	app, err := o.App(ctx, &o.Input, needs{catalog: true})
	if err != nil {
		return err
	}
	sess, err := app.Open(ctx, canScope)
	if err != nil {
		return err
	}
	ans, verr, err := o.answer(ctx, sess)
	if err != nil {
		return err
	}
	if err := o.print(o.Out, o.ErrOut, app, ans); err != nil {
		return err
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

// canScope: the nearest grants may lie in other namespaces, so all are
// read.
var canScope = loading.Scope{ClusterRBAC: true, AllNamespaces: true}

// answer decides the request on the session; verr is a failure to
// verify (the answer stands whatever the verification finds).
func (o *CanOptions) answer(ctx context.Context, sess *access.Session) (ans *access.CanAnswer, verr, err error) {
	ans, err = sess.Can(ctx, o.subject, o.request)
	if err != nil {
		return nil, nil, err
	}
	nameSubject(&ans.Subject, sess.App.Names)
	if o.Verify.On() {
		verr = sess.VerifyCan(ctx, ans, o.Verify.Options())
	}
	return ans, verr, nil
}

func (o *CanOptions) print(out, errOut io.Writer, app *access.App, ans *access.CanAnswer) error {
	if o.Output.Document() {
		return printDoc(out, o.Output.Value, ans)
	}
	printWarnings(errOut, ans.Incomplete, ans.Warnings)
	printCan(out, o.paint(out), o.subject, app, ans)
	printVerification(out, ans.Verification)
	return nil
}

// runFleet decides the request on each cluster: each answer under its
// cluster's heading (or a document each naming its cluster), then where
// it is allowed. Exit 0 when allowed on every cluster, 1 when denied on
// one, 2 when one is unknown (not read, or read in part), 5 when --verify
// disagrees.
func (o *CanOptions) runFleet(ctx context.Context) error {
	results, answers, verrs, err := askFleet(ctx, o.Fleet, &o.Input, func(*access.App) (loading.Scope, error) { return canScope, nil }, o.answer)
	if err != nil {
		return err
	}
	var allowed, denied, unknown []string
	failedVerify, disagree := false, false
	for i, r := range results {
		ans := answers[i]
		ref := &access.ClusterRef{Context: r.Context, Server: r.Server}
		if r.Err != nil {
			ref.Error = r.Err.Error()
			ans = &access.CanAnswer{APIVersion: rbac.APIVersion, Kind: access.KindCan, Subject: o.subject}
			ans.Incomplete, ans.Warnings = true, []rbac.Warning{}
		}
		ans.Cluster = ref
		name := safe.Terminal(r.Context)
		switch {
		case ans.Allowed:
			allowed = append(allowed, name)
		case ans.Unknown():
			unknown = append(unknown, name)
		default:
			denied = append(denied, name)
		}
		docStart(o.Out, o.Output.Value, r)
		errOut := clusterErrOut(o.ErrOut, r.Context)
		if r.Err != nil {
			fmt.Fprintf(errOut, "not read: %s\n", safe.Error(r.Err))
			if !o.Output.Document() {
				fmt.Fprintln(o.Out, "unknown: the cluster was not read (see the error)")
				continue
			}
		}
		if err := o.print(o.Out, errOut, r.App, ans); err != nil {
			return err
		}
		if verrs[i] != nil {
			failedVerify = true
			fmt.Fprintf(errOut, "the answer above is not verified: %s\n", safe.Error(verrs[i]))
		}
		disagree = disagree || !ans.Verification.Agrees()
	}
	if !o.Output.Document() {
		fmt.Fprintln(o.Out)
		fmt.Fprintln(o.Out, fleetVerdict(len(results), allowed, denied, unknown))
	}
	switch {
	case failedVerify:
		return &ExitCodeError{Code: ExitError}
	case disagree:
		return &ExitCodeError{Code: ExitDisagree}
	case len(unknown) > 0:
		return &ExitCodeError{Code: ExitError}
	case len(denied) > 0:
		return &ExitCodeError{Code: ExitDenied}
	}
	return nil
}

// fleetVerdict says on which clusters the request is allowed.
func fleetVerdict(n int, allowed, denied, unknown []string) string {
	var parts []string
	for _, p := range []struct {
		what  string
		names []string
	}{{"allowed", allowed}, {"denied", denied}, {"unknown", unknown}} {
		if len(p.names) > 0 {
			parts = append(parts, fmt.Sprintf("%s on %d (%s)", p.what, len(p.names), strings.Join(p.names, ", ")))
		}
	}
	return fmt.Sprintf("Across %d clusters: %s", n, strings.Join(parts, "; "))
}

func printCan(out io.Writer, paint painter, subject rbac.Subject, app *access.App, ans *access.CanAnswer) {
	a := ans.Query
	where := ""
	if a.Namespace != "" {
		where = " in namespace " + a.Namespace
	}
	who, what := cell(app.Names.Subject(subject)), cell(a.String()+where)
	switch {
	case ans.Allowed:
		fmt.Fprintf(out, "%s: %s may %s\n", paint.verdict("yes"), who, what)
		for _, p := range ans.Via {
			fmt.Fprintf(out, "  via %s\n", cell(p.String()))
		}
	case ans.Unknown():
		fmt.Fprintf(out, "%s: no grant found for %s to %s, but the view is incomplete\n", paint.verdict("unknown"), who, what)
	default:
		fmt.Fprintf(out, "%s: %s may not %s\n", paint.verdict("no"), who, what)
	}
	if !ans.Allowed && len(ans.Nearest) > 0 {
		fmt.Fprintln(out, "nearest grants:")
		for _, p := range ans.Nearest {
			fmt.Fprintf(out, "  %s\n", cell(p.String()))
		}
	}
	if !ans.Allowed && len(ans.GroupsAllowed) > 0 {
		fmt.Fprintf(out, "but these groups may, and whether %s is in them is not known (--group OBJECT-ID adds a membership):\n", who)
		for _, g := range ans.GroupsAllowed {
			fmt.Fprintf(out, "  %s\n", cell(app.Names.Subject(g)))
		}
	}
	if ans.Memberships != nil && ans.Memberships.Found {
		named := 0
		for _, g := range ans.Memberships.Groups {
			if slices.Contains(ans.Memberships.Named, g.Group.ID) {
				named++
			}
		}
		fmt.Fprintf(out, "groups found (%s): %d, %d named by the cluster\n", cell(ans.Memberships.From), len(ans.Memberships.Groups), named)
		for _, g := range ans.Memberships.Groups {
			if slices.Contains(ans.Memberships.Named, g.Group.ID) {
				fmt.Fprintf(out, "  %s: %s\n", cell(groupName(app.Names, g.Group)), cell(access.MembershipLine(g, app.Names)))
			}
		}
	}
	for i := range ans.Eligible {
		e := &ans.Eligible[i]
		if e.Azure != nil {
			if len(e.Paths) == 0 { // a door that reconfigures the cluster
				fmt.Fprintf(out, "eligible (PIM for Azure resources), not active: %s may activate %s %s\n", cell(principalLabel(e.Principal)), cell(e.AzureLine()), cell(e.Until()))
				continue
			}
			fmt.Fprintf(out, "eligible (PIM for Azure resources), not active: %s may activate %s %s, which would allow it via %s\n", cell(principalLabel(e.Principal)), cell(e.AzureLine()), cell(e.Until()), cell(firstVia(e.Paths)))
			continue
		}
		fmt.Fprintf(out, "eligible (PIM), not active: %s may activate %s of %s %s, which would allow it via %s\n", who, cell(e.AccessID), cell(groupName(app.Names, e.Group)), cell(e.Until()), cell(firstVia(e.Paths)))
	}
	printSubjectDoors(out, ans.AzureDoors)
}

func firstVia(ps []rbac.Path) string {
	if len(ps) == 0 {
		return "?"
	}
	return via(ps[0])
}
