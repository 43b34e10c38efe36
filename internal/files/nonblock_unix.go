//go:build unix

package files

import "syscall"

// nonBlock opens a FIFO without waiting for a writer: the open returns,
// and the file's type refuses it.
const nonBlock = syscall.O_NONBLOCK
