package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/internal/version"
	"github.com/kubectl-access/kubectl-access/source"
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
	Width           int

	failOn   audit.Severity
	baseline *audit.Report
}

// NewCmdAudit returns `kubectl access audit`.
func NewCmdAudit(r *RootOptions) *cobra.Command {
	o := &AuditOptions{RootOptions: r}
	c := &cobra.Command{
		Use:   "audit",
		Short: "Find risky access: who holds admin, secrets, exec, escalation paths; sorted by severity",
		Long: `audit checks the cluster (or manifests) against the rule catalogue and lists the
findings by severity, each with the binding -> role -> rule path behind it and,
where one exists, a fix (kubectl access fix ID).

Exit codes: 0, or 3 when a finding reaches --fail-on, or 4 when --fail-on is
given and the view is incomplete (a forbidden LIST, a role the input lacks):
a gate never passes on what it could not read. --allow-incomplete lets an
incomplete view pass on what it could read.`,
		Example: `  # Audit the current cluster
  kubectl access audit

  # Gate a pipeline on manifests: exit 3 on any high or critical finding
  kubectl access audit -f testdata/demo/cluster.yaml --fail-on high

  # SARIF for GitHub code scanning, with file and line of each object
  kubectl access audit -f testdata/demo/cluster.yaml -o sarif > access.sarif

  # Only what is new since a saved report
  kubectl access audit -o json > baseline.json
  kubectl access audit --baseline baseline.json

  # One rule, or all but one
  kubectl access audit --only secrets-read
  kubectl access audit --skip unused-role`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatTable, FormatWide, FormatJSON, FormatYAML, FormatSARIF)
	c.Flags().StringVar(&o.FailOn, "fail-on", "", "Exit 3 when a finding reaches this severity (critical, high, medium, low or info), 4 when the view is incomplete")
	c.Flags().BoolVar(&o.AllowIncomplete, "allow-incomplete", false, "With --fail-on: judge an incomplete view on what could be read instead of exiting 4")
	c.Flags().StringSliceVar(&o.Only, "only", nil, "Run only these rules (comma-separated names from the catalogue)")
	c.Flags().StringSliceVar(&o.Skip, "skip", nil, "Skip these rules")
	c.Flags().IntVar(&o.Width, "width", -1, "Wrap the table at this many columns (0: never); default: the terminal's width, no wrapping into a pipe")
	c.Flags().StringVar(&o.Baseline, "baseline", "", "Report only findings absent from this earlier `audit -o json` (or yaml) report")
	return c
}

// Complete reads the names file and the baseline report.
func (o *AuditOptions) Complete(_ *cobra.Command, _ []string) error {
	if err := o.Input.Complete(); err != nil {
		return err
	}
	if o.Baseline != "" {
		b, err := os.ReadFile(o.Baseline)
		if err != nil {
			return fmt.Errorf("--baseline: %w", err)
		}
		var rep audit.Report
		if err := yaml.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("--baseline %s: not an audit report: %v", o.Baseline, err)
		}
		if rep.Kind != audit.Kind {
			return fmt.Errorf("--baseline %s: kind %q, want %s (write one with `kubectl access audit -o json`)", o.Baseline, rep.Kind, audit.Kind)
		}
		o.baseline = &rep
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
	if o.AllowIncomplete && o.FailOn == "" {
		return fmt.Errorf("--allow-incomplete only changes what --fail-on does")
	}
	return (audit.Options{Only: o.Only, Skip: o.Skip}).Validate()
}

// Run audits and prints the report.
func (o *AuditOptions) Run(ctx context.Context) error {
	app, err := o.App(ctx, &o.Input, needs{credential: true, version: true})
	if err != nil {
		return err
	}
	sess, err := app.Open(ctx, source.Full)
	if err != nil {
		return err
	}
	rep := sess.Audit(access.AuditOptions{Only: o.Only, Skip: o.Skip})
	if o.baseline != nil {
		rep.Filter(o.baseline)
	}
	switch o.Output.Value {
	case FormatJSON, FormatYAML:
		doc := *rep
		doc.Findings = firstOf(rep.Findings)
		err = writeDoc(o.Out, o.Output.Value, &doc, listOf("findings", rep.Findings))
	case FormatSARIF:
		var b []byte
		if b, err = rep.SARIF(version.Version, sess.Locate); err == nil {
			_, err = fmt.Fprintln(o.Out, string(b))
		}
	default:
		printWarnings(o.ErrOut, rep.Incomplete, rep.Warnings)
		printAudit(o.Out, rep, o.Output.Value == FormatWide, o.width(), app.Names.Annotate)
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

// width is --width, else the terminal's width when stdout is one.
func (o *AuditOptions) width() int {
	if o.Width >= 0 {
		return o.Width
	}
	if f, ok := o.Out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
		return 80
	}
	return 0
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

func printAudit(w io.Writer, rep *audit.Report, wide bool, width int, annotate func(string) string) {
	hidden := 0
	current := audit.Severity(-1)
	for _, f := range rep.Findings {
		if f.Managed && !wide {
			hidden++
			continue
		}
		if f.Severity != current {
			current = f.Severity
			fmt.Fprintf(w, "%s\n", strings.ToUpper(current.String()))
		}
		wrap(w, width, 2, 2, f.Rule+": "+annotate(f.Message))
		shown := f.Evidence
		if !wide && len(shown) > 1 {
			shown = shown[:1]
		}
		for _, p := range shown {
			wrap(w, width, 6, 4, "via "+p.String())
		}
		if more := len(f.Evidence) - len(shown); more > 0 {
			fmt.Fprintf(w, "      (+%d more paths: -o wide)\n", more)
		}
		if wide {
			fmt.Fprintf(w, "      id %s\n", f.ID)
		}
	}
	s := rep.Summary
	if len(rep.Findings) == hidden {
		fmt.Fprintln(w, "No findings.")
	}
	summary := fmt.Sprintf("%d critical, %d high, %d medium, %d low, %d info", s.Critical, s.High, s.Medium, s.Low, s.Info)
	if hidden > 0 {
		summary += fmt.Sprintf(" (%d on platform-managed objects not shown: -o wide)", hidden)
	}
	if b := rep.Baseline; b != nil {
		summary += fmt.Sprintf("; against the baseline: %d new or more severe, %d unchanged (not shown), %d resolved", b.New, b.Suppressed, b.Resolved)
	}
	fmt.Fprintln(w)
	wrap(w, width, 0, 2, summary)
}
