package cmd

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/kubectl-access/kubectl-access/internal/files"
)

// checkKubeconfig makes every command that reads a kubeconfig check its
// files first (checkKubeconfigFiles).
func (r *RootOptions) checkKubeconfig(root *cobra.Command) {
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		// The commands that read a cluster (or files, and the kubeconfig's
		// namespace beside them) are those with -f.
		if c.Flags().Lookup("filename") != nil {
			if err := checkKubeconfigFiles(r.Flags); err != nil {
				return kubeconfigError(err)
			}
		}
		if pre != nil {
			return pre(c, args)
		}
		return nil
	}
}

// checkKubeconfigFiles checks, with the opener every side file is read
// with, the kubeconfig files client-go is about to read: it opens them
// itself, and a FIFO there hangs its open(2) deaf to Ctrl-C (and a shell
// waiting on tab), /dev/zero is read until memory runs out. Each file of
// --kubeconfig, or of $KUBECONFIG's list, or ~/.kube/config, must be a
// regular file within files.MaxKubeconfig; one that does not exist is
// client-go's to judge. The commands check before they run; completion,
// which runs no command's hooks, before each kubeconfig it reads.
func checkKubeconfigFiles(flags *genericclioptions.ConfigFlags) error {
	for _, path := range flags.ToRawKubeConfigLoader().ConfigAccess().GetLoadingPrecedence() {
		if err := files.Check(files.Input{What: "kubeconfig", Path: path, Max: files.MaxKubeconfig}); err != nil {
			return err
		}
	}
	return nil
}
