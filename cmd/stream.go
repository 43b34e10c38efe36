package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// A streamed list is a top-level list of a document whose items are
// encoded in parallel batches and written as they are ready, so that an
// answer of tens of thousands of items is neither encoded on one core nor
// held twice in memory (the document, then its encoding).
type streamed struct {
	key string
	n   int
	// batch encodes items [lo, hi) as a compact JSON array.
	batch func(lo, hi int) ([]byte, error)
}

// listOf streams items under the document's top-level key.
func listOf[T any](key string, items []T) streamed {
	return streamed{key: key, n: len(items), batch: func(lo, hi int) ([]byte, error) { return json.Marshal(items[lo:hi]) }}
}

// firstOf is what a streamed list holds in the document given to
// writeDoc: its first item at most (which marks where the list goes).
func firstOf[T any](items []T) []T { return items[:min(1, len(items))] }

// writeDoc writes doc as JSON or YAML byte for byte as printDoc would,
// where each streamed list's field in doc holds only its first item
// (firstOf) and the list itself is given in lists.
//
// The splice is exact because of how both encoders lay out a document:
// in json.MarshalIndent(doc, "", "  ") a top-level key is the only thing
// that can follow a newline and two spaces with a quote (strings escape
// newlines), and its list ends at the first "\n  ]"; in sigs.k8s.io/yaml a
// top-level key is a line at column 0 and its list's items are the lines
// after it that begin with "- " or a space (a block sequence under a key is
// not indented, so a list encoded alone has the same columns, and folds
// long strings at the same places).
func writeDoc(w io.Writer, format string, doc any, lists ...streamed) error {
	head, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if format == FormatYAML {
		if head, err = safe.JSONToYAML(head); err != nil {
			return err
		}
	} else {
		head = safe.JSON(head)
	}
	type cut struct {
		from, to int // the bytes of the head the list replaces
		l        streamed
	}
	var cuts []cut
	for _, l := range lists {
		if l.n <= 1 {
			continue // the head holds the whole list
		}
		from, to, ok := locate(head, format, l.key)
		if !ok {
			return fmt.Errorf("internal error: %q is not a top-level list of one item in the document", l.key)
		}
		cuts = append(cuts, cut{from, to, l})
	}
	// Splice in the order the keys appear.
	for i := 1; i < len(cuts); i++ {
		for j := i; j > 0 && cuts[j].from < cuts[j-1].from; j-- {
			cuts[j], cuts[j-1] = cuts[j-1], cuts[j]
		}
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	at := 0
	for _, c := range cuts {
		bw.Write(head[at:c.from])
		if err := writeItems(bw, format, c.l); err != nil {
			return err
		}
		at = c.to
	}
	bw.Write(head[at:])
	if format != FormatYAML {
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// locate finds the bytes of the top-level list key's items in the head:
// for JSON, from after the opening bracket's newline to the closing
// bracket's newline; for YAML, the item lines after "key:\n".
func locate(head []byte, format, key string) (from, to int, ok bool) {
	if format == FormatYAML {
		start := []byte(key + ":\n")
		at := -1
		if bytes.HasPrefix(head, start) {
			at = 0
		} else if i := bytes.Index(head, append([]byte("\n"), start...)); i >= 0 {
			at = i + 1
		}
		if at < 0 {
			return 0, 0, false
		}
		from = at + len(start)
		to = from
		for to < len(head) && (head[to] == ' ' || bytes.HasPrefix(head[to:], []byte("- "))) {
			nl := bytes.IndexByte(head[to:], '\n')
			if nl < 0 {
				return 0, 0, false
			}
			to += nl + 1
		}
		return from, to, to > from
	}
	open := []byte("\n  \"" + key + "\": [\n")
	i := bytes.Index(head, open)
	if i < 0 || bytes.Count(head, open) != 1 {
		return 0, 0, false
	}
	from = i + len(open)
	end := bytes.Index(head[from:], []byte("\n  ]"))
	if end < 0 {
		return 0, 0, false
	}
	return from, from + end, true
}

// writeItems writes a list's items as they appear inside the document:
// for JSON, each indented as the element of a top-level list and separated
// by ",\n"; for YAML, as "- " items at column 0. Batches are encoded
// concurrently and written in order.
func writeItems(w io.Writer, format string, l streamed) error {
	const batch = 256
	type result struct {
		b   []byte
		err error
	}
	encode := func(lo, hi int) ([]byte, error) {
		arr, err := l.batch(lo, hi)
		if err != nil {
			return nil, err
		}
		if format == FormatYAML {
			return safe.JSONToYAML(arr)
		}
		arr = safe.JSON(arr)
		// "[\n" + items + "\n  ]": keep the items.
		b := indent(make([]byte, 0, 3*len(arr)), arr, "  ", "  ")
		b = bytes.TrimSuffix(bytes.TrimPrefix(b, []byte("[\n")), []byte("\n  ]"))
		if hi < l.n {
			b = append(b, ",\n"...)
		}
		return b, nil
	}
	workers := runtime.GOMAXPROCS(0)
	// One slot per batch in flight, consumed in order; at most 2*workers
	// batches are encoded ahead of the writer.
	slots := make(chan chan result, 2*workers)
	go func() {
		defer close(slots)
		for lo := 0; lo < l.n; lo += batch {
			hi := min(lo+batch, l.n)
			slot := make(chan result, 1)
			slots <- slot
			go func() {
				b, err := encode(lo, hi)
				slot <- result{b, err}
			}()
		}
	}()
	var first error
	for slot := range slots {
		r := <-slot
		if first == nil {
			if first = r.err; first == nil {
				_, first = w.Write(r.b)
			}
		}
	}
	return first
}

// indent appends src, compact JSON as json.Marshal writes it, to dst
// indented exactly as json.Indent would (empty objects and lists stay
// "{}" and "[]"). It is json.Indent without the validating scanner, whose
// byte-by-byte state machine was most of the CPU of a large who-can -A.
func indent(dst, src []byte, prefix, step string) []byte {
	depth := 0
	open := false // a bracket was just opened: indent before its first element
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, step...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if open && c != '}' && c != ']' {
			open = false
			depth++
			newline()
		}
		switch c {
		case '"':
			// Copy the string whole: its end is the first quote after
			// an even number of backslashes.
			j := i + 1
			for {
				k := bytes.IndexByte(src[j:], '"')
				if k < 0 {
					j = len(src)
					break
				}
				j += k
				n := 0
				for p := j - 1; p > i && src[p] == '\\'; p-- {
					n++
				}
				if n%2 == 0 {
					break
				}
				j++
			}
			end := min(j+1, len(src))
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			open = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if open {
				open = false
			} else {
				depth--
				newline()
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// writeFleetDoc writes a FleetAuditReport: for JSON byte for byte as
// printDoc would, for YAML the same document; each cluster's report is
// streamed (writeDoc) rather than encoded whole, so a fleet of large
// clusters is never held twice in memory. Every write goes through one
// bufio.Writer, whose first error sticks: its Flush returns it.
func writeFleetDoc(w io.Writer, format string, rep *audit.FleetReport) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	write := writeFleetJSON
	if format == FormatYAML {
		write = writeFleetYAML
	}
	if err := write(bw, rep); err != nil {
		return err
	}
	return bw.Flush()
}

// writeReport streams one cluster's report into a fleet's document.
func writeReport(w io.Writer, format string, r *audit.Report) error {
	doc := *r
	doc.Findings = firstOf(r.Findings)
	return writeDoc(w, format, &doc, listOf("findings", r.Findings))
}

func writeFleetJSON(w *bufio.Writer, rep *audit.FleetReport) error {
	w.WriteString("{\n")
	for _, kv := range []struct {
		key string
		v   any
	}{{"apiVersion", rep.APIVersion}, {"kind", rep.Kind}, {"summary", rep.Summary}} {
		b, err := json.MarshalIndent(kv.v, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %q: %s,\n", kv.key, safe.JSON(b))
	}
	if len(rep.Clusters) == 0 {
		w.WriteString("  \"clusters\": []")
	} else {
		w.WriteString("  \"clusters\": [\n")
		for i, c := range rep.Clusters {
			report := c.Report
			c.Report = nil
			b, err := json.MarshalIndent(c, "    ", "  ")
			if err != nil {
				return err
			}
			b = safe.JSON(b)
			w.WriteString("    ")
			if report == nil {
				w.Write(b)
			} else {
				// The report is the object's last field: reopen it.
				w.Write(bytes.TrimSuffix(b, []byte("\n    }")))
				w.WriteString(",\n      \"report\": ")
				in := &indenter{w: w, prefix: "      "}
				if err := writeReport(in, FormatJSON, report); err != nil {
					return err
				}
				w.WriteString("\n    }")
			}
			if i < len(rep.Clusters)-1 {
				w.WriteString(",")
			}
			w.WriteString("\n")
		}
		w.WriteString("  ]")
	}
	if rep.Groups != nil {
		b, err := json.MarshalIndent(rep.Groups, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, ",\n  \"groups\": %s", safe.JSON(b))
	}
	_, err := w.WriteString("\n}\n")
	return err
}

func writeFleetYAML(w *bufio.Writer, rep *audit.FleetReport) error {
	top := func(key string, v any) error {
		b, err := safe.YAML(map[string]any{key: v})
		if err == nil {
			_, err = w.Write(b)
		}
		return err
	}
	if err := top("apiVersion", rep.APIVersion); err != nil {
		return err
	}
	if len(rep.Clusters) == 0 {
		w.WriteString("clusters: []\n")
	} else {
		w.WriteString("clusters:\n")
	}
	for _, c := range rep.Clusters {
		report := c.Report
		c.Report = nil
		b, err := safe.YAML(c)
		if err != nil {
			return err
		}
		in := &indenter{w: w, prefix: "  "}
		w.WriteString("- ")
		if _, err := in.Write(bytes.TrimSuffix(b, []byte("\n"))); err != nil {
			return err
		}
		w.WriteString("\n")
		if report != nil {
			w.WriteString("  report:\n    ")
			in := &indenter{w: w, prefix: "    "}
			if err := writeReport(in, FormatYAML, report); err != nil {
				return err
			}
			w.WriteString("\n")
		}
	}
	if rep.Groups != nil {
		if err := top("groups", rep.Groups); err != nil {
			return err
		}
	}
	if err := top("kind", rep.Kind); err != nil {
		return err
	}
	return top("summary", rep.Summary)
}

// indenter writes what it is given with prefix after every newline, and
// drops a final newline (the caller closes the line).
type indenter struct {
	w       io.Writer
	prefix  string
	pending bool // a newline not yet written
}

func (in *indenter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if in.pending {
			if _, err := io.WriteString(in.w, "\n"+in.prefix); err != nil {
				return 0, err
			}
			in.pending = false
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if _, err := in.w.Write(b); err != nil {
				return 0, err
			}
			break
		}
		if _, err := in.w.Write(b[:i]); err != nil {
			return 0, err
		}
		in.pending = true
		b = b[i+1:]
	}
	return n, nil
}
