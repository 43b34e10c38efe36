package localcluster

import "syscall"

// sysProcAttr makes an attached child die with its parent, even when the
// parent is killed with SIGKILL (Pdeathsig), and a detached one leave the
// caller's session so `make` returning or a terminal closing does not stop it.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
