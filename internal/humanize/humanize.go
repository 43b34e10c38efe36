// Package humanize writes numbers for people, the same in the CLI and the
// explorer.
package humanize

import "strconv"

// Int writes n with thousands separators: 26694 -> "26,694".
func Int(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
