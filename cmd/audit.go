package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/document"
	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/internal/version"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// AuditOptions check the cluster against the rule catalogue.
type AuditOptions struct {
	*RootOptions
	Input           InputOptions
	Output          *OutputFlag
	FailOn          string
	AllowIncomplete bool
	Only            []string
	Skip            []string
	Baseline        string
	Width           *WidthFlag
	All             bool
	Fleet           *FleetFlags
	GroupBy         string

	failOn        audit.Severity
	groupBy       audit.GroupBy // rule, subject or binding; "" for none
	baseline      *audit.Report
	fleetBaseline *audit.FleetReport
}

// NewCmdAudit returns `kubectl access audit`.
func NewCmdAudit(r *RootOptions) *cobra.Command {
	o := &AuditOptions{RootOptions: r}
	c := &cobra.Command{
		Use:   "audit",
		Short: "Find risky access: who holds admin, secrets, exec, escalation paths; sorted by severity",
		Long: `audit checks the cluster (or manifests) against the rule catalogue and lists the
findings by severity, each with the binding -> role -> rule path behind it and,
where one exists, a fix (kubectl access fix ID). With -n the whole cluster is
read and the report narrowed to that namespace: the findings whose objects,
bindings or service accounts are there, and those that reach it from the
whole cluster (marked cluster-wide).

Several clusters (--context given more than once, --contexts GLOB,
--all-contexts, or -f on a directory snapshot --all-contexts wrote) are one
fleet report: a summary row per cluster (its findings by severity, and
whether it was read whole, in part or not at all), then each cluster's
findings, or with --group-by finding each finding once with the clusters it
is on. Sign-ins run first, one at a time; then --parallel clusters are read
at once.

Exit codes: 0, or 3 when a finding reaches --fail-on, or 4 when --fail-on is
given and the view is incomplete (a forbidden LIST, a role the input lacks):
a gate never passes on what it could not read. --allow-incomplete lets an
incomplete view pass on what it could read. In a fleet, a cluster that
could not be read at all exits 4 even without --fail-on (unless
--allow-incomplete).`,
		Example: `  # Audit the current cluster
  kubectl access audit

  # Gate a pipeline on manifests: exit 3 on any high or critical finding
  kubectl access audit -f testdata/demo/cluster.yaml --fail-on high

  # SARIF for GitHub code scanning, with file and line of each object
  kubectl access audit -f testdata/demo/cluster.yaml -o sarif > access.sarif

  # Only what is new since a saved report
  kubectl access audit -o json > baseline.json
  kubectl access audit --baseline baseline.json

  # One namespace: its own findings and the cluster-wide grants that reach it
  kubectl access audit -n payments

  # One rule, or all but one
  kubectl access audit --only secrets-read
  kubectl access audit --skip unused-role

  # A fleet: every production context, one report and one gate
  kubectl access audit --contexts 'prod-*' --fail-on high
  kubectl access audit --all-contexts --group-by finding
  kubectl access audit -f testdata/fleet --fail-on critical`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatTable, FormatWide, FormatJSON, FormatYAML, FormatSARIF, FormatCSV, FormatMarkdown)
	c.Flags().StringVar(&o.FailOn, "fail-on", "", "Exit 3 when a finding reaches this severity (critical, high, medium, low or info), 4 when the view is incomplete")
	c.Flags().BoolVar(&o.AllowIncomplete, "allow-incomplete", false, "With --fail-on: judge an incomplete view on what could be read instead of exiting 4")
	c.Flags().StringSliceVar(&o.Only, "only", nil, "Run only these rules (comma-separated names from the catalogue)")
	c.Flags().StringSliceVar(&o.Skip, "skip", nil, "Skip these rules")
	o.Width = AddWidthFlag(c)
	c.Flags().BoolVar(&o.All, "all", false, "In tables, also list the findings on Kubernetes' default policy exactly as the API server creates it, which are counted, not listed (a label alone hides nothing: AKS's and add-ons' objects are always listed, at their severity)")
	c.Flags().StringVar(&o.Baseline, "baseline", "", "Report only findings absent from this earlier `audit -o json` (or yaml) report; a fleet's report (FleetAuditReport) compares each cluster with its own")
	o.Fleet = addFleetFlags(c, r)
	c.Flags().StringVar(&o.GroupBy, "group-by", "", "Summarise the findings: rule, subject (ranked by reach) or binding (ranked by the findings its fix removes), on one cluster as on each of several; with several clusters also cluster (each cluster's findings, the default) or finding (each finding once, with the clusters it is on). Without it a table lists the findings one per line up to 200 and summarises more (--all lists them)")
	return c
}

// Complete reads the names file and the baseline report.
func (o *AuditOptions) Complete(c *cobra.Command, _ []string) error {
	if err := o.Input.Complete(c.Context()); err != nil {
		return err
	}
	if o.Baseline != "" {
		b, err := files.Read(c.Context(), files.Input{What: "--baseline", Path: o.Baseline, Max: files.MaxBaseline})
		if err != nil {
			return err
		}
		var kind struct{ Kind string }
		if err := yaml.Unmarshal(b, &kind); err != nil {
			return fmt.Errorf("--baseline %s: not an audit report: %v", o.Baseline, err)
		}
		switch kind.Kind {
		case audit.Kind:
			var rep audit.Report
			if err := yaml.Unmarshal(b, &rep); err != nil {
				return fmt.Errorf("--baseline %s: not an audit report: %v", o.Baseline, err)
			}
			o.baseline = &rep
		case audit.FleetKind:
			var rep audit.FleetReport
			if err := yaml.Unmarshal(b, &rep); err != nil {
				return fmt.Errorf("--baseline %s: not a fleet audit report: %v", o.Baseline, err)
			}
			o.fleetBaseline = &rep
		default:
			return fmt.Errorf("--baseline %s: kind %q, want %s or %s (write one with `kubectl access audit -o json`)", o.Baseline, kind.Kind, audit.Kind, audit.FleetKind)
		}
	}
	return nil
}

// Validate checks the flags.
func (o *AuditOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if o.FailOn != "" {
		s, err := audit.ParseSeverity(o.FailOn)
		if err != nil {
			return fmt.Errorf("--fail-on: %w", err)
		}
		o.failOn = s
	}
	fleet := o.Fleet.On(&o.Input)
	if err := o.Fleet.Validate(&o.Input); err != nil {
		return err
	}
	if o.AllowIncomplete && o.FailOn == "" && !fleet {
		return fmt.Errorf("--allow-incomplete only changes what --fail-on does (and, with several clusters, what a cluster not read does)")
	}
	switch o.GroupBy {
	case "", "cluster", "finding":
	default:
		g, err := audit.ParseGroupBy(o.GroupBy)
		if err != nil {
			return fmt.Errorf("--group-by %q: use rule, subject or binding (and with several clusters cluster or finding)", o.GroupBy)
		}
		o.groupBy = g
	}
	switch {
	case o.GroupBy == "finding" && !fleet:
		return fmt.Errorf("--group-by finding joins several clusters' findings: give --contexts, --all-contexts, --context more than once, or -f on a fleet directory")
	case o.baseline != nil && fleet:
		return fmt.Errorf("--baseline %s is one cluster's report: a fleet compares with a fleet's (write one with the same context flags and -o json)", o.Baseline)
	}
	return (audit.Options{Only: o.Only, Skip: o.Skip}).Validate()
}

// Run audits and prints the report.
func (o *AuditOptions) Run(ctx context.Context) error {
	if o.Fleet.On(&o.Input) {
		return o.runFleet(ctx)
	}
	app, err := o.App(ctx, &o.Input, needs{credential: true, version: true})
	if err != nil {
		return err
	}
	if o.fleetBaseline != nil {
		// One cluster compared with its own report in a fleet's.
		c := o.fleetBaseline.Cluster(app.Origin.Context, app.Origin.Server)
		if c == nil || c.Report == nil {
			return fmt.Errorf("--baseline %s: a fleet report without a report of cluster %q: give that cluster's report, or audit the fleet", o.Baseline, app.Origin.Context)
		}
		o.baseline = c.Report
	}
	sess, err := app.Open(ctx, loading.Full)
	if err != nil {
		return err
	}
	rep := sess.Audit(access.AuditOptions{Only: o.Only, Skip: o.Skip, People: true, Context: ctx})
	if ns, set := o.namespace(); set {
		// The whole cluster is read (a namespace's risks include the
		// cluster-wide grants that reach it), then narrowed.
		rep.InNamespace(ns)
	}
	if o.baseline != nil {
		rep.Filter(o.baseline)
	}
	nameFindings(rep, app.Names)
	if o.groupBy != "" {
		rep.Groups = audit.Groups(rep.Findings, o.groupBy, o.All)
	}
	switch o.Output.Value {
	case FormatJSON, FormatYAML:
		// Each distinct path once, the findings referring to it.
		rep.SharePaths()
		err = document.Write(o.Out, o.Output.Value, rep)
	case FormatSARIF:
		var b []byte
		// SARIF's messages are read by people in code scanning: groups
		// named there too.
		named := *rep
		named.Findings = slices.Clone(rep.Findings)
		for i := range named.Findings {
			named.Findings[i].Message = app.Names.Annotate(named.Findings[i].Message)
		}
		if b, err = named.SARIF(version.Version, sess.Locate); err == nil {
			// Written as it is, not copied into a string: a SARIF log
			// of a dense cluster is tens of MB.
			if _, err = o.Out.Write(safe.JSON(b)); err == nil {
				_, err = io.WriteString(o.Out, "\n")
			}
		}
	case FormatCSV, FormatMarkdown:
		printWarnings(o.ErrOut, rep.Incomplete, rep.Warnings)
		err = printAuditRows(o.Out, o.Output.Value, rep, o.All, o.groupBy, app.Names)
	default:
		printWarnings(o.ErrOut, rep.Incomplete, rep.Warnings)
		printAudit(o.Out, rep, o.table(app.Names))
	}
	if err != nil {
		return err
	}
	if o.FailOn == "" {
		return nil
	}
	switch {
	case rep.Reaches(o.failOn):
		return &ExitCodeError{Code: ExitFailOn}
	case rep.Incomplete && !o.AllowIncomplete:
		fmt.Fprintln(o.ErrOut, "--fail-on: the view is incomplete, so the gate fails (exit 4); --allow-incomplete judges what could be read")
		return &ExitCodeError{Code: ExitIncomplete}
	}
	return nil
}

// wrap writes text at indent, breaking at spaces so no line passes width
// (0: never); continuation lines are indented by hang more. A word longer
// than the room (a long object name) is kept whole.
func wrap(w io.Writer, width, indent, hang int, text string) {
	text = safe.Terminal(text)
	pad := strings.Repeat(" ", indent)
	if width <= 0 {
		fmt.Fprintf(w, "%s%s\n", pad, text)
		return
	}
	line := pad
	room := width
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && len(line)+1+len(word) > room {
			fmt.Fprintln(w, line)
			line, empty = pad+strings.Repeat(" ", hang), true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	fmt.Fprintln(w, line)
}

// auditTable is how the audit table is printed.
type auditTable struct {
	wide  bool // every path of each finding
	all   bool // every finding, one per line, those on Kubernetes' default policy too
	width int  // wrap at this many columns; 0 never
	// groupBy shows one grouping whole; "" lists the findings, or
	// summarises them past audit.SummarizeAbove.
	groupBy audit.GroupBy
	names   identity.Names
	color   painter
}

// table is how the options print the audit table.
func (o *AuditOptions) table(names identity.Names) auditTable {
	return auditTable{wide: o.Output.Value == FormatWide, all: o.All, width: o.Width.Of(o.Out), groupBy: o.groupBy, names: names, color: o.paint(o.Out)}
}

// printAudit writes the findings by severity, each headed by its id (what
// `kubectl access fix` takes), with its first path (every path with -o
// wide); or, past audit.SummarizeAbove findings listed (or with
// --group-by), their summary (printSummary). Findings on Kubernetes'
// default policy are counted, not listed, unless --all.
func printAudit(w io.Writer, rep *audit.Report, o auditTable) {
	hidden, fixable, listed := 0, 0, 0
	for i := range rep.Findings {
		f := &rep.Findings[i]
		switch {
		case !audit.Listed(f, o.all):
			hidden++
		case f.Fixable:
			fixable++
			listed++
		default:
			listed++
		}
	}
	if o.groupBy != "" || !o.all && listed > audit.SummarizeAbove {
		printSummary(w, rep, o, listed)
	} else {
		printFindings(w, rep, o)
	}
	s := rep.Summary
	if len(rep.Findings) == hidden {
		fmt.Fprintln(w, "No findings.")
	}
	summary := fmt.Sprintf("%d critical, %d high, %d medium, %d low, %d info", s.Critical, s.High, s.Medium, s.Low, s.Info)
	if n := rep.Namespace; n != nil {
		summary = fmt.Sprintf("Namespace %s: %d findings there and %d cluster-wide that reach it (marked cluster-wide); %s", safe.Terminal(n.Name), n.InNamespace, n.ClusterWide, summary)
	}
	if hidden > 0 {
		summary += fmt.Sprintf(" (%d on Kubernetes' default policy, unchanged, not listed: --all lists them)", hidden)
	}
	if b := rep.Baseline; b != nil {
		summary += fmt.Sprintf("; against the baseline: %d new or more severe, %d unchanged (not shown), %d resolved", b.New, b.Suppressed, b.Resolved)
	}
	if o.all && len(rep.Checks) > 0 {
		// "Is it in force?" answered yes as well as no: a line per check.
		fmt.Fprintln(w, "CHECKS")
		for _, c := range rep.Checks {
			wrap(w, o.width, 2, 4, fmt.Sprintf("%s: %s: %s", c.Rule, c.Status, safe.Terminal(c.Detail)))
		}
	}
	fmt.Fprintln(w)
	wrap(w, o.width, 0, 2, summary)
	if !o.all && len(rep.Checks) > 0 {
		n := map[audit.CheckStatus]int{}
		for _, c := range rep.Checks {
			n[c.Status]++
		}
		wrap(w, o.width, 0, 2, fmt.Sprintf("Checks: %d passed, %d failed, %d unknown (--all lists them).", n[audit.CheckPassed], n[audit.CheckFailed], n[audit.CheckUnknown]))
	}
	if fixable > 0 {
		wrap(w, o.width, 0, 2, fmt.Sprintf("%d marked [fix] have a fix: kubectl access fix ID shows it (-o kubectl for commands, --apply to apply).", fixable))
	}
}

// printFindings lists the findings one per line, by severity.
func printFindings(w io.Writer, rep *audit.Report, o auditTable) {
	current := audit.Severity(-1)
	for _, f := range rep.Findings {
		if !audit.Listed(&f, o.all) {
			continue
		}
		if f.Severity != current {
			current = f.Severity
			fmt.Fprintf(w, "%s\n", o.color.severity(current, strings.ToUpper(current.String())))
		}
		head := f.ID + ": " + o.names.Annotate(f.Message)
		if f.Fixable {
			head += " [fix]"
		}
		switch {
		case f.Default:
			head += " (Kubernetes' default policy)"
		case f.Managed:
			head += " (platform-managed)"
		}
		if f.Scope == audit.ScopeClusterWide {
			head += " (cluster-wide)"
		}
		wrap(w, o.width, 2, 4, head)
		printEvidence(w, o, f.Evidence)
	}
}

// printEvidence writes a finding's first path (every path with -o wide),
// and how many more there are.
func printEvidence(w io.Writer, o auditTable, evidence []rbac.Path) {
	shown := evidence
	if !o.wide && len(shown) > 1 {
		shown = shown[:1]
	}
	for _, p := range shown {
		wrap(w, o.width, 6, 4, "via "+p.String())
	}
	if more := len(evidence) - len(shown); more > 0 {
		fmt.Fprintf(w, "      (+%d more paths: -o wide)\n", more)
	}
}

// printAuditRows writes the findings as CSV or a Markdown table, one row
// a finding with its first path, those on Kubernetes' default policy only
// with --all; with --group-by, a row a group (printGroupRows). A file is
// read by a program or searched: it is never summarised unasked.
func printAuditRows(w io.Writer, format string, rep *audit.Report, all bool, by audit.GroupBy, names identity.Names) error {
	if by != "" {
		return printGroupRows(w, format, rep, by, all, names)
	}
	header := []string{"ID", "SEVERITY", "RULE", "CATEGORY", "SUBJECTS", "MESSAGE", "PATH", "FIXABLE", "MANAGED", "DEFAULT"}
	if rep.Namespace != nil {
		header = append(header, "SCOPE")
	}
	t := newAnswerRows(w, format, rep.Incomplete, header...)
	for _, f := range rep.Findings {
		if !audit.Listed(&f, all) {
			continue
		}
		var subjects []string
		for _, s := range f.Subjects {
			subjects = append(subjects, names.Subject(s))
		}
		path := ""
		if len(f.Evidence) > 0 {
			path = f.Evidence[0].String()
		}
		row := []string{f.ID, f.Severity.String(), f.Rule, string(f.Category), strings.Join(subjects, " "), names.Annotate(f.Message), path,
			strconv.FormatBool(f.Fixable), strconv.FormatBool(f.Managed), strconv.FormatBool(f.Default)}
		if rep.Namespace != nil {
			row = append(row, f.Scope)
		}
		t.add(row...)
	}
	return t.flush()
}

// nameFindings puts each group's display name beside its object id in the
// findings' subjects (displayName in the documents).
func nameFindings(rep *audit.Report, names identity.Names) {
	if len(names) == 0 {
		return
	}
	for i := range rep.Findings {
		for j := range rep.Findings[i].Subjects {
			nameSubject(&rep.Findings[i].Subjects[j], names)
		}
	}
}

// nameSubject sets a group subject's display name.
func nameSubject(s *rbac.Subject, names identity.Names) {
	if s.Kind == rbac.GroupKind {
		if n := names.DisplayName(s.Name); n != "" {
			s.DisplayName = n // else the name Azure's assignments give, if any
		}
	}
}
