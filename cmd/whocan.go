package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/document"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/loading"
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
	Fleet         *FleetFlags
	// ExpandGroups, MemberLimit and Eligible list the people behind the
	// Entra groups.
	ExpandGroups bool
	MemberLimit  int
	Eligible     bool

	request access.Request
	// actAs is who-can act-as's identity.
	actAs string
}

// NewCmdWhoCan returns `kubectl access who-can`.
func NewCmdWhoCan(r *RootOptions) *cobra.Command {
	o := &WhoCanOptions{RootOptions: r}
	c := &cobra.Command{
		Use:   "who-can VERB RESOURCE [NAME] | who-can act-as IDENTITY",
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
  kubectl access who-can delete nodes -f testdata/demo/cluster.yaml

  # Who can act as an Azure managed identity (workload identity), and how
  kubectl access who-can act-as id-batch -f testdata/aks-identity

  # In every production cluster, each answered under its own heading
  kubectl access who-can get secrets -n payments --contexts 'prod-*'`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 && args[0] == "act-as" && len(args) != 2 {
				return errors.New("who-can act-as takes one Azure managed identity: its client id, principal id, resource id or name")
			}
			return cobra.RangeArgs(2, 3)(c, args)
		},
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatTable, FormatWide, FormatJSON, FormatYAML, FormatCSV, FormatMarkdown)
	o.Verify = AddVerifyFlag(c)
	c.Flags().BoolVar(&o.Transitive, "transitive", false, "Also list who reaches the request through a service account that holds it (creating pods in its namespace, exec into its pods, minting its token), each with the chain; the default is the authorizer's direct answer")
	c.Flags().BoolVar(&o.ExpandGroups, "expand-groups", false, "Also list who is in each Entra group of the answer, transitively (users, guests marked, service principals, nested groups with their chain), from Microsoft Graph or --directory")
	c.Flags().IntVar(&o.MemberLimit, "member-limit", access.DefaultMemberLimit, "With --expand-groups: the most members listed per group (the count says how many there are)")
	c.Flags().BoolVar(&o.Eligible, "eligible", false, "Also list who may activate membership of those groups through Privileged Identity Management (PIM for Groups), and the eligible Azure role assignments that would allow it (PIM for Azure resources): eligible, never active access")
	o.Fleet = addFleetFlags(c, r)
	c.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "In any namespace: RoleBindings of every namespace count (each path says which)")
	return c
}

// Complete reads the arguments and the names file.
func (o *WhoCanOptions) Complete(c *cobra.Command, args []string) error {
	if len(args) > 0 && args[0] == "act-as" {
		if len(args) != 2 {
			return errors.New("who-can act-as takes one Azure managed identity: its client id, principal id, resource id or name")
		}
		o.actAs = args[1]
		return o.Input.Complete(c.Context())
	}
	o.request = o.requestOf(args, o.AllNamespaces)
	return o.Input.Complete(c.Context())
}

// Validate checks the flags.
func (o *WhoCanOptions) Validate() error {
	if o.actAs != "" && (o.Transitive || o.ExpandGroups || o.Eligible || o.Verify.On() || o.Fleet.On(&o.Input) || o.AllNamespaces) {
		return errors.New("who-can act-as answers for the whole cluster, with the chains: --transitive, --expand-groups, --eligible, --verify, -A and several clusters do not apply")
	}
	return errors.Join(o.Output.Validate(), o.Verify.Validate(), o.Input.verifiable(o.Verify), o.Fleet.Validate(&o.Input))
}

// Run answers the question.
func (o *WhoCanOptions) Run(ctx context.Context) error {
	if o.actAs != "" {
		return o.runActAs(ctx)
	}
	if o.Fleet.On(&o.Input) {
		return o.runFleet(ctx)
	}
	app, err := o.App(ctx, &o.Input, needs{catalog: true})
	if err != nil {
		return err
	}
	scope, err := o.scope(app)
	if err != nil {
		return err
	}
	sess, err := app.Open(ctx, scope)
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
	if verr != nil {
		return fmt.Errorf("the answer above is not verified: %w", verr)
	}
	return verdict(ans.Verification)
}

// scope is what the request needs read of app's cluster.
func (o *WhoCanOptions) scope(app *access.App) (loading.Scope, error) {
	at, _, err := app.Attributes(o.request)
	if err != nil {
		return loading.Scope{}, err
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
	return scope, nil
}

// answer asks the session; verr is a failure to verify (the answer
// stands whatever the verification finds).
func (o *WhoCanOptions) answer(ctx context.Context, sess *access.Session) (ans *access.WhoCanAnswer, verr, err error) {
	ans, err = sess.WhoCan(ctx, o.request)
	if err != nil {
		return nil, nil, err
	}
	for i := range ans.Subjects {
		if g := &ans.Subjects[i]; g.Kind == rbac.GroupKind {
			// The names file first; else the name Azure's assignments give.
			g.DisplayName = cmp.Or(sess.App.Names.DisplayName(g.Name), g.DisplayName)
		}
	}
	if o.Transitive {
		sess.Transitive(ans)
	}
	if o.ExpandGroups {
		sess.ExpandGroups(ctx, ans, o.MemberLimit)
	}
	if o.Eligible {
		sess.Eligible(ctx, ans)
	}
	if o.Verify.On() {
		verr = sess.VerifyWhoCan(ctx, ans, o.Verify.Options())
	}
	return ans, verr, nil
}

// runFleet answers on each cluster, in the fleet's order: a table each
// under the cluster's heading, or a document each naming its cluster.
func (o *WhoCanOptions) runFleet(ctx context.Context) error {
	results, answers, verrs, err := askFleet(ctx, o.Fleet, &o.Input, o.scope, o.answer)
	if err != nil {
		return err
	}
	// CSV and Markdown are one table, the cluster in its first column: a
	// heading line would make the file no CSV (and its "== " a formula).
	var flat *rows
	if f := o.Output.Value; f == FormatCSV || f == FormatMarkdown {
		incomplete := false
		for i, r := range results {
			incomplete = incomplete || r.Err != nil || answers[i].Incomplete
		}
		flat = newAnswerRows(o.Out, f, incomplete, append([]string{"CLUSTER"}, flatWhoCanHeader(o.Verify.On())...)...)
	}
	disagree := false
	for i, r := range results {
		ans := answers[i]
		ref := &access.ClusterRef{Context: r.Context, Server: r.Server}
		if r.Err != nil {
			ref.Error = r.Err.Error()
			ans = &access.WhoCanAnswer{APIVersion: rbac.APIVersion, Kind: access.KindWhoCan}
			ans.Subjects, ans.Warnings, ans.Incomplete = []rbac.SubjectGrant{}, []rbac.Warning{}, true
		}
		ans.Cluster = ref
		errOut := clusterErrOut(o.ErrOut, r.Context)
		if flat != nil {
			flat.incomplete = strconv.FormatBool(r.Err != nil || ans.Incomplete)
			if r.Err != nil {
				fmt.Fprintf(errOut, "not read: %s\n", safe.Error(r.Err))
				flat.add(r.Context, "(not read: the answer is unknown; see the error)")
				continue
			}
			printWarnings(errOut, ans.Incomplete, ans.Warnings)
			addFlatWhoCan(flat, []string{r.Context}, r.App, ans, o.Verify.On())
		} else {
			docStart(o.Out, o.Output.Value, r)
			if r.Err != nil {
				fmt.Fprintf(errOut, "not read: %s\n", safe.Error(r.Err))
				if !o.Output.Document() {
					fmt.Fprintln(o.Out, "  not read (see the error): the answer is unknown")
					continue
				}
			}
			if err := o.print(o.Out, errOut, r.App, ans); err != nil {
				return err
			}
		}
		if verrs[i] != nil {
			fmt.Fprintf(errOut, "the answer above is not verified: %s\n", safe.Error(verrs[i]))
		}
		disagree = disagree || !ans.Verification.Agrees()
	}
	if flat != nil {
		if err := flat.flush(); err != nil {
			return err
		}
	}
	switch {
	case slices.ContainsFunc(verrs, func(e error) bool { return e != nil }):
		return &ExitCodeError{Code: ExitError}
	case disagree:
		return &ExitCodeError{Code: ExitDisagree}
	case fleetNotRead(o.ErrOut, results):
		return &ExitCodeError{Code: ExitIncomplete}
	}
	return nil
}

func (o *WhoCanOptions) print(out, errOut io.Writer, app *access.App, ans *access.WhoCanAnswer) error {
	if o.Output.Document() {
		return document.Write(out, o.Output.Value, ans)
	}
	printWarnings(errOut, ans.Incomplete, ans.Warnings)
	verified := ans.Verification != nil
	switch f := o.Output.Value; f {
	case FormatCSV, FormatMarkdown:
		t := newAnswerRows(out, f, ans.Incomplete, flatWhoCanHeader(verified)...)
		addFlatWhoCan(t, nil, app, ans, verified)
		return t.flush()
	}
	wide := o.Output.Value == FormatWide
	// The question's scope heads the table: without -n the answer is for
	// the context's namespace, which the reader may not have in mind.
	fmt.Fprintf(out, "Who can %s %s:\n", safe.Terminal(ans.Query.Attributes.String()), safe.Terminal(ans.Query.Scope()))
	header := []string{"SUBJECT", "WHERE", "VIA"}
	if wide {
		header = append(header, "RULE")
	}
	if verified {
		header = append(header, "VERIFIED")
	}
	t := newRows(out, o.Output.Value, header...)
	for _, s := range ans.Subjects {
		name := app.Names.Subject(s.Subject())
		if s.DisplayName != "" && !strings.Contains(name, s.DisplayName) {
			name += " (" + s.DisplayName + ")"
		}
		if s.Broad != "" {
			name += " (" + s.Broad + ")"
		}
		mark := s.Verified
		for i, p := range s.Via {
			if i > 0 {
				name, mark = "", ""
			}
			row := []string{name, access.PathWhere(&p), via(p)}
			if wide {
				row = append(row, ruleOf(p))
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
	printVerification(out, ans.Verification)
	printDoors(out, app.Names, ans.AzureDoors)
	printMembers(out, app.Names, ans.Members)
	printEligible(out, app.Names, ans.Eligible, "Eligible through PIM (--eligible): not active; each may activate it until the date")
	if o.Transitive {
		printTransitive(out, app, ans)
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
		fmt.Fprintf(errOut, "Note: the direct answer: %d of these subjects are service accounts (or their groups); --transitive adds who can act as them\n", sas)
	}
	return nil
}

// flatWhoCanHeader heads who-can's flat table (CSV, Markdown): every row
// whole, the subject on each.
func flatWhoCanHeader(verified bool) []string {
	header := []string{"SUBJECT", "DISPLAY NAME", "WHERE", "BINDING", "ROLE", "RULE"}
	if verified {
		header = append(header, "VERIFIED")
	}
	return header
}

// addFlatWhoCan adds an answer's rows to a flat table, each after lead
// (the cluster's column, over several clusters).
func addFlatWhoCan(t *rows, lead []string, app *access.App, ans *access.WhoCanAnswer, verified bool) {
	for _, s := range ans.Subjects {
		sub := s.Subject()
		display := s.DisplayName
		if sub.Kind == rbac.GroupKind && app.Names[sub.Name] != "" {
			display = app.Names[sub.Name]
		}
		for _, p := range s.Via {
			row := append(slices.Clone(lead), sub.String(), display, access.PathWhere(&p), bindingOf(p), roleOf(p), ruleOf(p))
			if verified {
				row = append(row, s.Verified)
			}
			t.add(row...)
		}
	}
	// The people behind the groups (--expand-groups, --eligible).
	for _, row := range memberRows(ans, app.Names) {
		row = append(slices.Clone(lead), row...)
		if verified {
			row = append(row, "")
		}
		t.add(row...)
	}
	// The ways in through Azure's control plane, as rows of their own.
	for _, row := range doorRows(ans.AzureDoors) {
		row = append(slices.Clone(lead), row...)
		if verified {
			row = append(row, "")
		}
		t.add(row...)
	}
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
		as := g.ServiceAccount.String()
		if g.Identity != nil {
			as += " -> " + access.IdentityWords(g.Identity)
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", cell(app.Names.Subject(g.Subject())), cell(g.Step+" in "+g.ServiceAccount.Namespace+step), cell(as), cell(held))
	}
	_ = t.Flush()
}

// runActAs answers who can act as an Azure managed identity: the service
// accounts whose tokens its federated credentials accept, and whoever can
// run a pod as one, mint its token, or create the account a credential
// names.
func (o *WhoCanOptions) runActAs(ctx context.Context) error {
	app, err := o.App(ctx, &o.Input, needs{catalog: true})
	if err != nil {
		return err
	}
	sess, err := app.Open(ctx, loading.Full)
	if err != nil {
		return err
	}
	ans, err := sess.ActAs(o.actAs)
	if err != nil {
		return err
	}
	if o.Output.Document() {
		return document.Write(o.Out, o.Output.Value, ans)
	}
	printWarnings(o.ErrOut, ans.Incomplete, ans.Warnings)
	header := []string{"SUBJECT", "DISPLAY NAME", "WHERE", "BINDING", "ROLE", "RULE"}
	switch f := o.Output.Value; f {
	case FormatCSV, FormatMarkdown:
		t := newAnswerRows(o.Out, f, ans.Incomplete, append([]string{"STEP", "AS SERVICE ACCOUNT"}, header...)...)
		for _, r := range ans.Subjects {
			for _, p := range r.Evidence {
				t.add(r.StepText, r.Workload.ServiceAccount, r.Subject.String(), app.Names.DisplayName(r.Subject.Name), access.PathWhere(&p), bindingOf(p), roleOf(p), ruleOf(p))
			}
		}
		return t.flush()
	}
	id := ans.Identity
	switch {
	case ans.Kubelet && id.ClientID == "":
		fmt.Fprintf(o.Out, "Who can act as the kubelet identity (object id %s):\n", cell(id.PrincipalID))
	case ans.Addon != "" && id.ClientID == "":
		fmt.Fprintf(o.Out, "Who can act as the %s add-on's identity (object id %s):\n", cell(ans.Addon), cell(id.PrincipalID))
	default:
		fmt.Fprintf(o.Out, "Who can act as managed identity %s (client id %s):\n", cell(id.Name), cell(id.ClientID))
	}
	if len(ans.RoleAssignments) > 0 {
		var roles []string
		for _, a := range ans.RoleAssignments {
			r := a.RoleName + " at " + a.Scope
			if a.Conditional {
				r += " (conditional)"
			}
			roles = append(roles, r)
		}
		fmt.Fprintf(o.Out, "  in Azure it holds: %s\n", cell(strings.Join(roles, "; ")))
	}
	for _, w := range ans.ServiceAccounts {
		how := "annotated, and federated credential " + w.FederatedCredential.Name + " accepts its tokens"
		switch {
		case w.ServiceAccountMissing:
			how = "does not exist; federated credential " + w.FederatedCredential.Name + " accepts its tokens: whoever creates it gets the identity"
		case w.Annotation == "":
			how = "not annotated, yet federated credential " + w.FederatedCredential.Name + " accepts its tokens"
		}
		fmt.Fprintf(o.Out, "  through %s: %s\n", cell(w.ServiceAccount), cell(how))
	}
	for _, w := range ans.NotActing {
		fmt.Fprintf(o.Out, "  not through %s: %s\n", cell(w.ServiceAccount), cell(w.Why))
	}
	if ans.Addon != "" {
		fmt.Fprintf(o.Out, "  the %s add-on's identity, assigned to the nodes: the Secrets Store CSI driver uses it for a SecretProviderClass naming it, in any namespace\n", cell(ans.Addon))
	} else if ans.Kubelet {
		fmt.Fprintln(o.Out, "  the kubelet identity, the nodes': any pod that reaches the instance metadata service (169.254.169.254) gets its tokens")
	} else if len(ans.ServiceAccounts) == 0 {
		fmt.Fprintln(o.Out, "  no service account of the cluster acts as it.")
		return nil
	}
	fmt.Fprintln(o.Out)
	t := newRows(o.Out, o.Output.Value, "SUBJECT", "CAN", "AS", "VIA")
	for _, r := range ans.Subjects {
		via := ""
		if len(r.Evidence) > 0 {
			via = access.PathVia(r.Evidence[0])
			if len(r.Evidence) > 1 {
				via += fmt.Sprintf(" (+%d)", len(r.Evidence)-1)
			}
		}
		as := r.Workload.ServiceAccount
		switch r.Step {
		case audit.StepSecretProviderClass:
			as = "(the Secrets Store CSI driver)"
		case audit.StepIMDS:
			as = "(the instance metadata service)"
		}
		t.add(app.Names.Subject(r.Subject), access.ReachStep(&r), as, via)
	}
	if len(ans.Subjects) == 0 {
		if ans.Incomplete {
			fmt.Fprintln(o.Out, "Nobody found, but the view is incomplete: more may.")
		} else {
			fmt.Fprintln(o.Out, "Nobody in the view (system:masters and the nodes aside) can run a pod as them or mint their tokens.")
		}
		return nil
	}
	return t.flush()
}
