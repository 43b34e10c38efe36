//go:build !unix

package files

// noFollow: O_EXCL refuses an existing name, a link included.
const noFollow = 0
