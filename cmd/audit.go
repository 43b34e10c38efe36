package cmd

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/version"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

func init() { subcommands = append(subcommands, NewCmdAudit) }

// AuditOptions checks the cluster against the rule catalogue.
type AuditOptions struct {
	queryOptions
	FailOn   string
	Only     []string
	Skip     []string
	Baseline string
	Width    int

	failOn   audit.Severity
	baseline *audit.Report
}

// NewCmdAudit returns `kubectl access audit`.
func NewCmdAudit(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &AuditOptions{queryOptions: queryOptions{flags: flags, IOStreams: streams}}
	c := &cobra.Command{
		Use:   "audit",
		Short: "Find risky access: who holds admin, secrets, exec, escalation paths; sorted by severity",
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
		RunE: func(c *cobra.Command, _ []string) error {
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
	c.Flags().Lookup("output").Usage = "Output format: one of table, wide, json, yaml, sarif"
	c.Flags().StringVar(&o.FailOn, "fail-on", "", "Exit 3 when a finding reaches this severity: critical, high, medium, low or info")
	c.Flags().StringSliceVar(&o.Only, "only", nil, "Run only these rules (comma-separated names from the catalogue)")
	c.Flags().StringSliceVar(&o.Skip, "skip", nil, "Skip these rules")
	c.Flags().IntVar(&o.Width, "width", -1, "Wrap the table at this many columns (0: never); default: the terminal's width, no wrapping into a pipe")
	c.Flags().StringVar(&o.Baseline, "baseline", "", "Report only findings absent from this earlier `audit -o json` (or yaml) report")
	return c
}

func (o *AuditOptions) validate() error {
	if o.Output != "sarif" {
		if err := o.queryOptions.validate(); err != nil {
			return fmt.Errorf("%w, sarif", err)
		}
	}
	if o.FailOn != "" {
		s, err := audit.ParseSeverity(o.FailOn)
		if err != nil {
			return fmt.Errorf("--fail-on: %w", err)
		}
		o.failOn = s
	}
	if err := (audit.Options{Only: o.Only, Skip: o.Skip}).Validate(); err != nil {
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

// Run audits and prints the report.
func (o *AuditOptions) Run(c *cobra.Command) error {
	ix, err := o.load(c.Context(), source.Full)
	if err != nil {
		return err
	}
	rep := o.audit(ix, audit.Options{Only: o.Only, Skip: o.Skip})
	if o.baseline != nil {
		rep.Filter(o.baseline)
	}
	switch o.Output {
	case "json":
		doc := *rep
		doc.Findings = []audit.Finding{}
		err = writeListJSON(o.Out, &doc, "findings", rep.Findings)
	case "yaml":
		err = printDoc(o.Out, o.Output, rep)
	case "sarif":
		var b []byte
		if b, err = rep.SARIF(version.Version, o.locate); err == nil {
			_, err = fmt.Fprintln(o.Out, string(b))
		}
	default:
		printWarnings(o.ErrOut, rep.Incomplete, rep.Warnings)
		printAudit(o.Out, rep, o.Output == "wide", o.width(), o.annotate)
	}
	if err != nil {
		return err
	}
	if o.FailOn != "" && rep.Reaches(o.failOn) {
		return &ExitCodeError{Code: ExitFailOn}
	}
	return nil
}

// audit runs the catalogue over ix, the kubeconfig's credential included
// when live, and says where the report comes from.
func (o *queryOptions) audit(ix *rbac.Index, opts audit.Options) *audit.Report {
	if !o.offline {
		cred, err := o.credential()
		if err != nil {
			o.warnings = append(o.warnings, "the credentials rules were not checked: "+err.Error())
		}
		opts.Credential = cred
	}
	rep := audit.Run(ix, opts)
	rep.Warnings = append(slices.Clone(o.warnings), rep.Warnings...)
	if o.offline {
		rep.Source = strings.Join(o.Filenames, ", ")
	} else {
		rep.Cluster = o.clusterInfo()
	}
	return rep
}

func (o *queryOptions) clusterInfo() *audit.Cluster {
	info := &audit.Cluster{}
	if raw, err := o.flags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		info.Context = raw.CurrentContext
		if o.flags.Context != nil && *o.flags.Context != "" {
			info.Context = *o.flags.Context
		}
	}
	if cfg, err := o.flags.ToRESTConfig(); err == nil {
		info.Server = cfg.Host
	}
	if v, err := o.client.Discovery().ServerVersion(); err == nil {
		info.Version = v.GitVersion
	}
	return info
}

// locate finds an object of a finding in the files it was read from.
func (o *AuditOptions) locate(r audit.ObjectRef) (string, int, bool) {
	l, ok := o.locations[r.Kind+"/"+r.Namespace+"/"+r.Name]
	return l.File, l.Line, ok
}

// printAudit writes findings grouped by severity, each with its first
// path; platform-managed ones only with wide.
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
	fmt.Fprintln(w)
	wrap(w, width, 0, 2, summary)
}
