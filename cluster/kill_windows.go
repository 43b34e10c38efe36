//go:build windows

package cluster

import "os/exec"

// killGroup kills the plugin when its context ends (Windows has no
// process groups to signal; exec.CommandContext kills the process).
func killGroup(*exec.Cmd) {}
