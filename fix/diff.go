package fix

import (
	"fmt"
	"strings"

	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// Diff renders before and after as YAML and marks the lines that differ.
func Diff(before, after map[string]any) string {
	for _, m := range []map[string]any{before, after} {
		if meta, ok := m["metadata"].(map[string]any); ok {
			delete(meta, "managedFields")
		}
	}
	lines := func(m map[string]any) []string {
		if m == nil {
			return nil
		}
		b, _ := safe.YAML(m)
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	return unifiedDiff(lines(before), lines(after))
}

// unifiedDiff marks each line of a and b as kept, removed or added, from
// their longest common subsequence; unchanged runs are shortened.
func unifiedDiff(a, b []string) string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		mark byte
		text string
	}
	var out []line
	i, j := 0, 0
	// Where several alignments are equally long, remove and add first and
	// match late, so that a removed list item shows as whole lines rather
	// than as its neighbour's lines shifted.
	for i < n || j < m {
		switch {
		case i < n && lcs[i+1][j] == lcs[i][j]:
			out = append(out, line{'-', a[i]})
			i++
		case j < m && lcs[i][j+1] == lcs[i][j]:
			out = append(out, line{'+', b[j]})
			j++
		default:
			out = append(out, line{' ', a[i]})
			i, j = i+1, j+1
		}
	}
	var sb strings.Builder
	const context = 2
	near := func(k int) bool {
		for d := -context; d <= context; d++ {
			if k+d >= 0 && k+d < len(out) && out[k+d].mark != ' ' {
				return true
			}
		}
		return false
	}
	skipped := false
	for k, l := range out {
		if !near(k) {
			if !skipped {
				sb.WriteString("  ...\n")
			}
			skipped = true
			continue
		}
		skipped = false
		fmt.Fprintf(&sb, "%c %s\n", l.mark, l.text)
	}
	return sb.String()
}
