package cmd

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/internal/version"
)

// VersionOptions prints the build's version.
type VersionOptions struct {
	*RootOptions
	Output *OutputFlag
}

// NewCmdVersion returns `kubectl access version`.
func NewCmdVersion(r *RootOptions) *cobra.Command {
	o := &VersionOptions{RootOptions: r}
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version of kubectl access",
		Example: `  kubectl access version
  kubectl access version -o json`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.Output = AddOutputFlag(c, FormatText, FormatJSON, FormatYAML)
	return c
}

// Complete has nothing to read.
func (o *VersionOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate checks the output format.
func (o *VersionOptions) Validate() error { return o.Output.Validate() }

// Run prints the version.
func (o *VersionOptions) Run(context.Context) error {
	v := version.Get()
	switch o.Output.Value {
	case "json":
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.Out, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = o.Out.Write(b)
		return err
	}
	_, err := fmt.Fprintf(o.Out, "kubectl-access %s (commit %s, %s, %s)\n", v.Version, orUnknown(v.Commit), v.GoVersion, v.Platform)
	return err
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
