package cmd

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// addProfilingFlags adds kubectl's --profile and --profile-output (hidden,
// as they are for people measuring the tool, not using it).
func addProfilingFlags(root *cobra.Command) {
	var kind, output string
	var cpuFile *os.File
	fs := root.PersistentFlags()
	fs.StringVar(&kind, "profile", "none", "Profile to capture: none, cpu or heap")
	fs.StringVar(&output, "profile-output", "profile.pprof", "File the profile is written to (mode 0600)")
	_ = fs.MarkHidden("profile")
	_ = fs.MarkHidden("profile-output")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		switch kind {
		case "none", "heap":
			return nil
		case "cpu":
			f, err := os.OpenFile(output, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			cpuFile = f
			return pprof.StartCPUProfile(f)
		}
		return fmt.Errorf("--profile %q: want none, cpu or heap", kind)
	}
	root.PersistentPostRunE = func(*cobra.Command, []string) error {
		switch kind {
		case "cpu":
			pprof.StopCPUProfile()
			return cpuFile.Close()
		case "heap":
			f, err := os.OpenFile(output, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			runtime.GC()
			if err := pprof.WriteHeapProfile(f); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}
		return nil
	}
}
