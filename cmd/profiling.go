package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// addProfilingFlags adds kubectl's --profile and --profile-output (hidden,
// as they are for people measuring the tool, not using it).
func addProfilingFlags(root *cobra.Command) {
	var kind, output string
	var cpuFile *files.File
	fs := root.PersistentFlags()
	fs.StringVar(&kind, "profile", "none", "Profile to capture: none, cpu or heap")
	fs.StringVar(&output, "profile-output", "profile.pprof", "File the profile is written to (new, mode 0600)")
	_ = fs.MarkHidden("profile")
	_ = fs.MarkHidden("profile-output")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		switch kind {
		case "none", "heap":
			return nil
		case "cpu":
			f, err := files.Create(output, false)
			if err != nil {
				return profileError(err)
			}
			cpuFile = f
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Abort()
				return err
			}
			return nil
		}
		return fmt.Errorf("--profile %q: want none, cpu or heap", kind)
	}
	root.PersistentPostRunE = func(*cobra.Command, []string) error {
		switch kind {
		case "cpu":
			pprof.StopCPUProfile()
			return cpuFile.Commit()
		case "heap":
			runtime.GC()
			return profileError(files.Write(output, false, pprof.WriteHeapProfile))
		}
		return nil
	}
}

// profileError says what to do about a profile file there already.
func profileError(err error) error {
	if errors.Is(err, fs.ErrExist) {
		return safe.Hint(err, "move it away, or give another --profile-output")
	}
	return err
}
