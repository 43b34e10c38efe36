package cmd

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// WidthFlag is --width for the commands that print tables.
type WidthFlag struct{ Value int }

// AddWidthFlag adds --width to c.
func AddWidthFlag(c *cobra.Command) *WidthFlag {
	w := &WidthFlag{Value: -1}
	c.Flags().IntVar(&w.Value, "width", -1, "Fit the table to this many columns (0: never cut or wrap); default: the terminal's width, and nothing cut or wrapped into a pipe")
	return w
}

// Of is the width to fit a table written to out into: --width when given,
// else the terminal's width when out is one, else 0 (never cut: a pipe,
// grep or a file gets every character).
func (w *WidthFlag) Of(out io.Writer) int {
	if w != nil && w.Value >= 0 {
		return w.Value
	}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
			return n
		}
		return 80
	}
	return 0
}

// rows writes one table in the format asked for: aligned text (table,
// wide), CSV or a Markdown table. Every cell is escaped for its sink: the
// terminal's (nothing it acts on, one line), CSV's (quoted, and a leading
// = + - @ that a spreadsheet would run as a formula neutralised with '),
// Markdown's (pipes, backslashes, HTML and line breaks escaped).
type rows struct {
	format string
	tw     *tabwriter.Writer
	cw     *csv.Writer
	w      io.Writer
	cols   int
	// incomplete, for CSV, is the INCOMPLETE column's value on every row.
	incomplete string
}

// newAnswerRows is newRows for an answer that may be incomplete: so that
// the file alone says so, Markdown starts with a line saying it, and CSV
// has an INCOMPLETE column (true or false on every row, which every CSV
// reader keeps).
func newAnswerRows(w io.Writer, format string, incomplete bool, header ...string) *rows {
	if format == FormatCSV {
		header = append(header, "INCOMPLETE")
	}
	if format == FormatMarkdown && incomplete {
		fmt.Fprintln(w, "**Incomplete:** parts of the cluster that could change this answer were not read (see the warnings); what is missing here is unknown, not denied.")
		fmt.Fprintln(w)
	}
	r := newRows(w, format, header...)
	r.incomplete = strconv.FormatBool(incomplete)
	return r
}

func newRows(w io.Writer, format string, header ...string) *rows {
	r := &rows{format: format, w: w, cols: len(header)}
	switch format {
	case FormatCSV:
		r.cw = csv.NewWriter(w)
	case FormatMarkdown:
	default:
		r.tw = newTable(w)
	}
	r.header(header...)
	return r
}

func (r *rows) header(cells ...string) {
	switch r.format {
	case FormatCSV:
		_ = r.cw.Write(cells)
	case FormatMarkdown:
		fmt.Fprintln(r.w, "| "+strings.Join(cells, " | ")+" |")
		fmt.Fprintln(r.w, "|"+strings.Repeat(" --- |", len(cells)))
	default:
		fmt.Fprintln(r.tw, strings.Join(cells, "\t"))
	}
}

// add writes one row.
func (r *rows) add(cells ...string) {
	out := make([]string, len(cells))
	for i, c := range cells {
		switch r.format {
		case FormatCSV:
			out[i] = csvCell(c)
		case FormatMarkdown:
			out[i] = markdownCell(c)
		default:
			out[i] = cell(c)
		}
	}
	// A short row (a cluster not read) is padded: every CSV record and
	// every Markdown row has the header's columns.
	width := r.cols
	if r.format == FormatCSV && r.incomplete != "" {
		width--
	}
	for r.tw == nil && len(out) < width {
		out = append(out, "")
	}
	switch r.format {
	case FormatCSV:
		if len(out) < r.cols && r.incomplete != "" {
			out = append(out, r.incomplete)
		}
		_ = r.cw.Write(out)
	case FormatMarkdown:
		fmt.Fprintln(r.w, "| "+strings.Join(out, " | ")+" |")
	default:
		fmt.Fprintln(r.tw, strings.Join(out, "\t"))
	}
}

func (r *rows) flush() error {
	switch r.format {
	case FormatCSV:
		r.cw.Flush()
		return r.cw.Error()
	case FormatMarkdown:
		return nil
	}
	return r.tw.Flush()
}

// csvCell keeps a cell from running as a spreadsheet formula (OWASP's
// CSV injection advice): a leading = + - @ tab or CR gets a ' before it.
// Control characters are shown escaped, as on a terminal.
func csvCell(s string) string {
	s = safe.Terminal(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// markdownCell escapes a cell for a Markdown table: control characters
// shown escaped (no line break ends the row), backslashes, pipes, HTML and
// backticks quoted so the text renders as itself.
func markdownCell(s string) string {
	s = safe.Terminal(s)
	return markdownEscaper.Replace(s)
}

var markdownEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`)

// fitCell cuts s to n characters with an ellipsis when n > 0.
func fitCell(s string, n int) string {
	if n <= 0 || len([]rune(s)) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
