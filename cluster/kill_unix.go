//go:build !windows

package cluster

import (
	"os/exec"
	"syscall"
)

// killGroup makes the plugin the leader of its own process group and
// kills the whole group when its context ends: a plugin that started a
// browser or another CLI (kubelogin runs az) leaves nothing behind.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
