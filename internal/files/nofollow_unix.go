//go:build unix

package files

import "syscall"

// noFollow makes an open fail on a link: O_EXCL alone refuses one too,
// this says so twice.
const noFollow = syscall.O_NOFOLLOW
