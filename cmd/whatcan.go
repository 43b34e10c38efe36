package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/document"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// WhatCanOptions list what a subject may do.
type WhatCanOptions struct {
	*RootOptions
	Input         InputOptions
	Output        *OutputFlag
	Width         *WidthFlag
	Verify        *VerifyFlag
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
binding -> role path that grants it. SUBJECT is user:NAME, group:NAME,
sa:NAMESPACE:NAME or serviceprincipal:OID (managedidentity:OID). A user is also in system:authenticated; a service account
also in system:serviceaccounts and system:serviceaccounts:NAMESPACE.
Without -n every namespace is shown; with -n, cluster-wide rules and that
namespace's.`,
		Example: `  # An Entra ID user with two group memberships
  kubectl access what-can user:alice@contoso.com --group 6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e03

  # A service account, in its namespace only
  kubectl access what-can sa:ci:deployer -n ci

  # What every authenticated user holds
  kubectl access what-can group:system:authenticated -o json

  # Each rule checked against the cluster's own authorizer (exit 5 on a disagreement)
  kubectl access what-can sa:ci:deployer --verify=all`,
		Args: cobra.ExactArgs(1),
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatTable, FormatWide, FormatJSON, FormatYAML, FormatCSV, FormatMarkdown)
	o.Width = AddWidthFlag(c)
	o.Verify = AddVerifyFlag(c)
	c.Flags().StringArrayVar(&o.Groups, "group", nil, "Group the user is also in (repeatable), like kubectl --as-group")
	c.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Every namespace (the default without -n)")
	return c
}

// Complete reads the subject and the names file.
func (o *WhatCanOptions) Complete(c *cobra.Command, args []string) error {
	if err := o.Input.Complete(c.Context()); err != nil {
		return err
	}
	s, err := parseSubject(args[0], o.Groups, o.Input.names)
	if err != nil {
		return err
	}
	o.subject = s
	if ns, set := o.namespace(); set && !o.AllNamespaces {
		o.ns = ns
	}
	return nil
}

// Validate checks the flags.
func (o *WhatCanOptions) Validate() error {
	return errors.Join(o.Output.Validate(), o.Verify.Validate(), o.Input.verifiable(o.Verify))
}

// Run answers the question.
func (o *WhatCanOptions) Run(ctx context.Context) error {
	app, err := o.App(ctx, &o.Input, needs{})
	if err != nil {
		return err
	}
	// With -n only that namespace's Roles and RoleBindings count.
	// With Azure, a service account's annotation says which identity it
	// acts as: read the accounts too.
	sas := app.Azure != nil && o.subject.Kind == rbac.ServiceAccountKind
	sess, err := app.Open(ctx, loading.Scope{ClusterRBAC: true, Namespace: o.ns, AllNamespaces: o.ns == "", ServiceAccounts: sas})
	if err != nil {
		return err
	}
	ans := sess.WhatCan(ctx, o.subject, o.ns)
	nameSubject(&ans.Subject, app.Names)
	var verr error
	if o.Verify.On() {
		verr = sess.VerifyWhatCan(ctx, ans, o.Verify.Options())
	}
	if err := o.print(ans, app.Catalog.Served()); err != nil {
		return err
	}
	if verr != nil {
		return fmt.Errorf("the answer above is not verified: %w", verr)
	}
	return verdict(ans.Verification)
}

func (o *WhatCanOptions) print(ans *access.WhatCanAnswer, served func(group, resource string) bool) error {
	if o.Output.Document() {
		return document.Write(o.Out, o.Output.Value, ans)
	}
	printWarnings(o.ErrOut, ans.Incomplete, ans.Warnings)
	verified := ans.Verification != nil
	switch f := o.Output.Value; f {
	case FormatCSV, FormatMarkdown:
		header := []string{"WHERE", "VERBS", "RESOURCES", "BINDING", "ROLE"}
		if verified {
			header = append(header, "VERIFIED")
		}
		t := newAnswerRows(o.Out, f, ans.Incomplete, header...)
		for _, r := range ans.Rules {
			for _, p := range r.Via {
				row := []string{cmp.Or(r.Namespace, access.ClusterWide), strings.Join(r.Verbs, ","), resources(r, served), bindingOf(p), roleOf(p)}
				if verified {
					row = append(row, r.Verified)
				}
				t.add(row...)
			}
		}
		for i := range ans.AzureDoors {
			d := &ans.AzureDoors[i]
			row := []string{access.ClusterWide, "", access.DoorStep(d), access.DoorAssignment(d), access.DoorRole(d)}
			if verified {
				row = append(row, "")
			}
			t.add(row...)
		}
		for _, row := range whatCanPeopleRows(ans, o.Input.names) {
			if verified {
				row = append(row, "")
			}
			t.add(row...)
		}
		for i := range ans.AzureReach {
			r := &ans.AzureReach[i]
			// WHERE, VERBS (none: a step), RESOURCES (the step and the
			// identity it reaches), BINDING, ROLE: a row per path.
			seen := map[string]bool{}
			for _, p := range r.Evidence {
				row := []string{access.PathWhere(&p), "", access.ReachWords(&r.IdentityReach) + " -> acts as " + access.ReachIdentity(r), bindingOf(p), roleOf(p)}
				if k := strings.Join(row, "\x00"); seen[k] {
					continue // another rule of the same binding and role
				} else {
					seen[k] = true
				}
				if verified {
					row = append(row, "")
				}
				t.add(row...)
			}
		}
		for _, r := range workloadRows(ans.WorkloadIdentities) {
			// WHERE (the Azure scope), VERBS (none: Azure's), RESOURCES
			// (the identity), BINDING (the path), ROLE.
			row := []string{r[0], "", r[1], r[2], r[3]}
			if verified {
				row = append(row, "")
			}
			t.add(row...)
		}
		return t.flush()
	}
	wide := o.Output.Value == FormatWide
	// Columns by meaning: on a terminal (or with --width) the verbs and
	// resources, which are the answer, stay whole, wrapped at their commas
	// onto as many lines as they need; VIA, which explains it, is what is
	// shortened (-o wide, a pipe or a file gets every line whole).
	width := 0
	if !wide {
		width = o.Width.Of(o.Out)
	}
	header := []string{"WHERE", "VERBS", "RESOURCES", "VIA"}
	if verified {
		header = append(header, "VERIFIED")
	}
	var lay ruleLayout
	if width > 0 {
		lay = layoutRules(ans.Rules, served, width, verified)
	}
	t := newRows(o.Out, o.Output.Value, header...)
	for _, r := range ans.Rules {
		where := cmp.Or(r.Namespace, access.ClusterWide)
		verbs, what := []string{strings.Join(r.Verbs, ",")}, []string{resources(r, served)}
		if width > 0 {
			verbs, what = wrapList(verbs[0], lay.verbs), wrapList(what[0], lay.resources)
		}
		lines := max(len(verbs), len(what), len(r.Via))
		for i := range lines {
			row := []string{"", at(verbs, i), at(what, i), ""}
			if i == 0 {
				row[0] = where
			}
			if i < len(r.Via) {
				row[3] = via(r.Via[i])
				if width > 0 {
					row[3] = fitCell(row[3], lay.via)
				}
			}
			if verified {
				mark := ""
				if i == 0 {
					mark = r.Verified
				}
				row = append(row, mark)
			}
			t.add(row...)
		}
	}
	if err := t.flush(); err != nil {
		return err
	}
	printVerification(o.Out, ans.Verification)
	printMemberships(o.Out, o.Input.names, ans.Subject, ans.Memberships, wide)
	printEligible(o.Out, o.Input.names, ans.Eligible, "Eligible through PIM: not active; activating membership of these groups (what-can group:ID), or these Azure role assignments, would add what they hold")
	printSubjectDoors(o.Out, ans.AzureDoors)
	printWorkloadIdentities(o.Out, ans.WorkloadIdentities)
	printAzureReach(o.Out, o.Input.names, ans.Subject, ans.AzureReach)
	return nil
}

// parseSubject reads a SUBJECT argument and adds the --group memberships,
// which only a user or service account can have. A group written by its
// display name (group:"Web Developers", --group "Web Developers") is
// resolved to its object id through the names file; a name two groups
// share is an error listing both.
func parseSubject(arg string, groups []string, names identity.Names) (rbac.Subject, error) {
	s, err := rbac.ParseSubject(arg)
	if err != nil {
		return s, err
	}
	if s.Kind == rbac.GroupKind && len(groups) > 0 {
		return s, fmt.Errorf("--group adds memberships to a user or service account, not to group %s", s.Name)
	}
	if s.Kind == rbac.GroupKind {
		if s.Name, err = names.Resolve(s.Name); err != nil {
			return s, err
		}
	}
	for _, g := range groups {
		id, err := names.Resolve(g)
		if err != nil {
			return s, fmt.Errorf("--group: %w", err)
		}
		s.Groups = append(s.Groups, id)
	}
	return s, nil
}

// ruleLayout is how wide what-can's columns may be on a terminal.
type ruleLayout struct{ verbs, resources, via int }

// layoutRules gives the verbs and resources, the answer, the room they
// need first (beyond a share of the width each they wrap, never cut) and
// VIA, the explanation, what is left (-o wide has it whole).
func layoutRules(rules []rbac.GrantedRule, served func(group, resource string) bool, width int, verified bool) ruleLayout {
	const gap = 2
	whereW, verbsW, resW, viaW := len("WHERE"), len("VERBS"), len("RESOURCES"), len("VIA")
	verbItem, resItem := 0, 0 // the longest single verb and resource: never cut
	for _, r := range rules {
		whereW = max(whereW, len(cmp.Or(r.Namespace, access.ClusterWide)))
		verbsW = max(verbsW, len(strings.Join(r.Verbs, ",")))
		resW = max(resW, len(resources(r, served)))
		for _, v := range r.Verbs {
			verbItem = max(verbItem, len(v)+1)
		}
		for _, x := range strings.Split(resources(r, served), ",") {
			resItem = max(resItem, len(x)+1)
		}
		for _, p := range r.Via {
			viaW = max(viaW, len(via(p)))
		}
	}
	room := width - whereW - 3*gap
	if verified {
		room -= len("VERIFIED") + gap
	}
	lay := ruleLayout{verbs: verbsW, resources: resW, via: viaW}
	if verbsW+resW+viaW <= room {
		return lay
	}
	// The answer first: verbs up to a quarter of the room, resources up to
	// what is left after VIA's share; VIA takes the rest.
	// VIA gives way before a verb or a resource is cut: it keeps 16 to 40
	// columns while the lists can wrap into the rest, then less. --width
	// always wins: a resource name longer than what is left is cut last.
	minVia := max(16, min(viaW, 40))
	lay.verbs = min(verbsW, max(room/4, len("VERBS"), verbItem))
	lay.resources = min(resW, max(room-lay.verbs-minVia, len("RESOURCES"), resItem))
	lay.via = max(room-lay.verbs-lay.resources, len("VIA"))
	if over := lay.verbs + lay.resources + lay.via - room; over > 0 {
		lay.resources = max(lay.resources-over, len("RESOURCES"))
	}
	return lay
}

// wrapList breaks a comma-separated list into lines of at most n
// characters, only after a comma; an item longer than n alone (only when
// --width leaves less) is cut with an ellipsis.
func wrapList(s string, n int) []string {
	if n <= 0 || len(s) <= n {
		return []string{s}
	}
	var lines []string
	line := ""
	for _, item := range strings.SplitAfter(s, ",") {
		if line != "" && len(line)+len(item) > n {
			lines = append(lines, line)
			line = ""
		}
		line += item
	}
	lines = append(lines, line)
	for i := range lines {
		lines[i] = fitCell(lines[i], n)
	}
	return lines
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
