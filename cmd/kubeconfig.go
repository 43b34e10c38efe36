package cmd

import (
	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/internal/files"
)

// checkKubeconfig makes every command that reads a kubeconfig check its
// files first, with the opener every side file is read with: client-go
// opens them itself, and a FIFO there hangs its open(2) deaf to Ctrl-C,
// /dev/zero is read until memory runs out. Each file of --kubeconfig, or
// of $KUBECONFIG's list, or ~/.kube/config, must be a regular file within
// files.MaxKubeconfig; one that does not exist is client-go's to judge.
func (r *RootOptions) checkKubeconfig(root *cobra.Command) {
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		// The commands that read a cluster (or files, and the kubeconfig's
		// namespace beside them) are those with -f.
		if c.Flags().Lookup("filename") != nil {
			for _, path := range r.Flags.ToRawKubeConfigLoader().ConfigAccess().GetLoadingPrecedence() {
				if err := files.Check(files.Input{What: "kubeconfig", Path: path, Max: files.MaxKubeconfig}); err != nil {
					return kubeconfigError(err)
				}
			}
		}
		if pre != nil {
			return pre(c, args)
		}
		return nil
	}
}
