package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-access/kubectl-access/source"
)

func init() { subcommands = append(subcommands, NewCmdSnapshot) }

// SnapshotOptions writes the normalized snapshot.
type SnapshotOptions struct{ queryOptions }

// NewCmdSnapshot returns `kubectl access snapshot`.
func NewCmdSnapshot(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &SnapshotOptions{queryOptions{flags: flags, IOStreams: streams}}
	c := &cobra.Command{
		Use:   "snapshot",
		Short: "Write the cluster's RBAC objects as one document, for offline use with -f",
		Example: `  kubectl access snapshot -o yaml > cluster.snapshot.yaml
  kubectl access who-can get secrets -n payments -f cluster.snapshot.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Output == "table" {
				o.Output = "yaml"
			}
			if o.Output != "json" && o.Output != "yaml" {
				return fmt.Errorf("snapshot is written as json or yaml, not %q", o.Output)
			}
			if err := o.complete(false); err != nil {
				return err
			}
			ix, err := o.load(c.Context(), source.Full)
			if err != nil {
				return err
			}
			s := ix.Snapshot()
			if !o.offline {
				if raw, err := o.flags.ToRawKubeConfigLoader().RawConfig(); err == nil {
					s.Source = "context " + raw.CurrentContext
					if o.flags.Context != nil && *o.flags.Context != "" {
						s.Source = "context " + *o.flags.Context
					}
				}
			}
			printWarnings(o.ErrOut, ix.Incomplete(), ix.Warnings())
			return printDoc(o.Out, o.Output, s)
		},
	}
	o.addFlags(c)
	c.Flags().Lookup("output").Usage = "Output format: yaml (default) or json"
	return c
}
