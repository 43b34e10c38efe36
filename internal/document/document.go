// Package document writes the tool's documents (who-can, what-can, can,
// audit, snapshot, ...) as JSON or YAML: byte for byte what encoding them
// whole writes (Print), while the big lists, the top-level slice fields
// tagged `document:"stream"`, are encoded in parallel batches and written
// as they are ready (Write), so that an answer of tens of thousands of
// items is neither encoded on one core nor held twice in memory (the
// document, then its encoding). The tag is the only thing a document's
// type says about it; the commands call Write with the document itself.
package document

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"sync"

	"github.com/kubectl-access/kubectl-access/internal/jsontext"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

var appenderType = reflect.TypeFor[jsontext.Appender]()

// The formats.
const (
	JSON = "json"
	YAML = "yaml"
)

// Print writes doc whole: indented JSON (a newline after it) or YAML,
// each escaped as internal/safe escapes documents.
func Print(w io.Writer, format string, doc any) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if format == YAML {
		if b, err = safe.JSONToYAML(b); err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	_, err = fmt.Fprintln(w, string(safe.JSON(b)))
	return err
}

// Write writes doc as Print does, streaming each top-level slice field
// tagged `document:"stream"` (fields of embedded structs count as top
// level, as encoding/json inlines them). A doc that is not a struct, or
// a pointer to one, is printed whole.
func Write(w io.Writer, format string, doc any) error {
	head, lists := split(doc)
	return splice(w, format, head, lists...)
}

// split returns a copy of doc whose streamed lists hold their first item
// at most (which marks where each list goes), and the lists.
func split(doc any) (any, []streamed) {
	v := reflect.ValueOf(doc)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return doc, nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return doc, nil
	}
	cp := reflect.New(v.Type()).Elem()
	cp.Set(v)
	var lists []streamed
	fields(cp, func(f reflect.Value, key string) {
		full := f.Slice(0, f.Len())
		batch := func(dst []byte, lo, hi int) ([]byte, error) {
			return json.Marshal(full.Slice(lo, hi).Interface())
		}
		if reflect.PointerTo(full.Type().Elem()).Implements(appenderType) {
			// Items that write their own JSON (jsontext.Appender): appended
			// one after another, without encoding/json, which compacts
			// (so scans again) what every MarshalJSON gives.
			batch = func(dst []byte, lo, hi int) ([]byte, error) {
				b := append(dst, '[')
				for i := lo; i < hi; i++ {
					if i > lo {
						b = append(b, ',')
					}
					var err error
					if b, err = full.Index(i).Addr().Interface().(jsontext.Appender).AppendJSON(b); err != nil {
						return nil, err
					}
				}
				return append(b, ']'), nil
			}
		}
		lists = append(lists, streamed{key: key, n: full.Len(), batch: batch})
		f.Set(full.Slice(0, min(1, full.Len())))
	})
	return cp.Addr().Interface(), lists
}

// fields calls fn with each streamed field of the struct v (settable) and
// its JSON key, looking into embedded structs as encoding/json does.
func fields(v reflect.Value, fn func(f reflect.Value, key string)) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			fields(v.Field(i), fn)
			continue
		}
		if !sf.IsExported() || sf.Tag.Get("document") != "stream" || sf.Type.Kind() != reflect.Slice {
			continue
		}
		fn(v.Field(i), cmpOr(name, sf.Name))
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// A streamed list is a top-level list of a document whose items are
// encoded in parallel batches and written as they are ready.
type streamed struct {
	key string
	n   int
	// batch encodes items [lo, hi) as a compact JSON array, appended to
	// dst where it can be (dst's memory is reused for later batches).
	batch func(dst []byte, lo, hi int) ([]byte, error)
}

// splice writes doc as JSON or YAML byte for byte as Print would, where
// each streamed list's field in doc holds only its first item (split) and
// the list itself is given in lists.
//
// The splice is exact because of how both encoders lay out a document:
// in json.MarshalIndent(doc, "", "  ") a top-level key is the only thing
// that can follow a newline and two spaces with a quote (strings escape
// newlines), and its list ends at the first "\n  ]"; in sigs.k8s.io/yaml a
// top-level key is a line at column 0 and its list's items are the lines
// after it that begin with "- " or a space (a block sequence under a key is
// not indented, so a list encoded alone has the same columns, and folds
// long strings at the same places).
func splice(w io.Writer, format string, doc any, lists ...streamed) error {
	head, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if format == YAML {
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
	if format != YAML {
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// locate finds the bytes of the top-level list key's items in the head:
// for JSON, from after the opening bracket's newline to the closing
// bracket's newline; for YAML, the item lines after "key:\n".
func locate(head []byte, format, key string) (from, to int, ok bool) {
	if format == YAML {
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
		buf *[]byte // b's memory, to reuse once b is written
		err error
	}
	// The batches' buffers are reused: a report of tens of thousands of
	// items made about three times its size of garbage in them, which let
	// the heap double over what the document holds while it was written.
	encode := func(lo, hi int) result {
		ap := buffers.Get().(*[]byte)
		arr, err := l.batch((*ap)[:0], lo, hi)
		defer func() { *ap = arr[:0]; buffers.Put(ap) }()
		if err != nil {
			return result{err: err}
		}
		if format == YAML {
			b, err := safe.JSONToYAML(arr)
			return result{b: b, err: err}
		}
		esc := safe.JSON(arr)
		// "[\n" + items + "\n  ]": keep the items.
		bp := buffers.Get().(*[]byte)
		full := indent((*bp)[:0], esc, "  ", "  ")
		*bp = full[:0]
		b := bytes.TrimSuffix(bytes.TrimPrefix(full, []byte("[\n")), []byte("\n  ]"))
		if hi < l.n {
			b = append(b, ",\n"...) // where the "\n  ]" was
		}
		return result{b: b, buf: bp}
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
				slot <- encode(lo, hi)
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
		if r.buf != nil {
			buffers.Put(r.buf)
		}
	}
	return first
}

// buffers are the batches' reusable buffers.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

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

// Indenter writes what it is given with prefix after every newline, and
// drops a final newline (the caller closes the line).
type Indenter struct {
	W       io.Writer
	Prefix  string
	pending bool // a newline not yet written
}

func (in *Indenter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if in.pending {
			if _, err := io.WriteString(in.W, "\n"+in.Prefix); err != nil {
				return 0, err
			}
			in.pending = false
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if _, err := in.W.Write(b); err != nil {
				return 0, err
			}
			break
		}
		if _, err := in.W.Write(b[:i]); err != nil {
			return 0, err
		}
		in.pending = true
		b = b[i+1:]
	}
	return n, nil
}
