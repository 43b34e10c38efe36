package cmd

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/document"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Output formats, one registry for every command: each command says which
// it takes and its default; the flag's help, validation and error say the
// same.
const (
	FormatTable    = "table"
	FormatWide     = "wide"
	FormatJSON     = "json"
	FormatYAML     = "yaml"
	FormatSARIF    = "sarif"
	FormatKubectl  = "kubectl"
	FormatText     = "text"
	FormatCSV      = "csv"
	FormatMarkdown = "markdown"
)

var formatHelp = map[string]string{
	FormatTable:    "a table",
	FormatWide:     "a table with every path and rule",
	FormatJSON:     "the JSON document",
	FormatYAML:     "the same document as YAML",
	FormatSARIF:    "SARIF 2.1.0 for code scanning",
	FormatKubectl:  "kubectl commands, ready to run",
	FormatText:     "one line of text",
	FormatCSV:      "CSV, one row per path, for spreadsheets",
	FormatMarkdown: "a Markdown table, for reports and pull requests",
}

// OutputFlag is -o for one command.
type OutputFlag struct {
	Value   string
	allowed []string
}

// AddOutputFlag adds -o taking the formats allowed, the first the default.
func AddOutputFlag(c *cobra.Command, allowed ...string) *OutputFlag {
	o := &OutputFlag{Value: allowed[0], allowed: allowed}
	var parts []string
	for _, f := range allowed {
		parts = append(parts, f+" ("+formatHelp[f]+")")
	}
	c.Flags().StringVarP(&o.Value, "output", "o", allowed[0], "Output format: "+strings.Join(parts, ", "))
	_ = c.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return allowed, cobra.ShellCompDirectiveNoFileComp
	})
	return o
}

// Validate checks the value against the command's formats.
func (o *OutputFlag) Validate() error {
	if slices.Contains(o.allowed, o.Value) {
		return nil
	}
	return fmt.Errorf("unknown output format %q: use one of %s", o.Value, strings.Join(o.allowed, ", "))
}

// Document says whether the format is a document (json, yaml).
func (o *OutputFlag) Document() bool { return o.Value == FormatJSON || o.Value == FormatYAML }

// printDoc writes a document as JSON or YAML, printable whatever its
// names hold (safe.JSON, safe.JSONToYAML).
func printDoc(w io.Writer, format string, doc any) error { return document.Print(w, format, doc) }

// printWarnings writes warnings and the incomplete mark to stderr, so a
// table on stdout stays clean for grep. Every warning is one line: what
// it quotes from the cluster is escaped.
func printWarnings(w io.Writer, incomplete bool, warnings []rbac.Warning) {
	for _, s := range warnings {
		fmt.Fprintf(w, "Warning: %s\n", safe.Terminal(s.Message))
	}
	if incomplete {
		fmt.Fprintf(w, "INCOMPLETE: %s (see the warnings); an absent grant is unknown, not denied\n", rbac.IncompleteCause(warnings))
	}
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// cell escapes a table cell: one line, nothing a terminal acts on, and no
// tab to shift the columns.
func cell(s string) string { return safe.Terminal(s) }

// The words of a path, from access (one text layer for both front ends).
var (
	via       = access.PathVia
	bindingOf = access.PathBinding
	roleOf    = access.PathRole
	ruleOf    = access.PathRule
)

// resources renders a rule's resources with their groups, and its
// resource names and URLs.
func resources(r rbac.GrantedRule, served func(group, resource string) bool) string {
	if len(r.DataActions) > 0 {
		s := "Azure dataActions " + strings.Join(r.DataActions, ",")
		if len(r.NotDataActions) > 0 {
			s += " except " + strings.Join(r.NotDataActions, ",")
		}
		return s
	}
	s := strings.Join(access.RuleResources(r.APIGroups, r.Resources, r.NonResourceURLs, served), ",")
	if len(r.ResourceNames) > 0 {
		s += " [" + strings.Join(r.ResourceNames, ",") + "]"
	}
	return s
}
