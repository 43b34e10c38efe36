//go:build !linux

package localcluster

import "syscall"

// sysProcAttr: outside Linux there is no parent-death signal; Stop and the
// callers' signal handlers are what end the children.
func sysProcAttr(bool) *syscall.SysProcAttr { return nil }
