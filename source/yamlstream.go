package source

import (
	"bytes"
	"io"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// yamlStreamMin is the size from which a YAML document that may be a
// saved snapshot is read a top-level entry and a list item at a time:
// sigs.k8s.io/yaml builds a generic tree of a whole document, tens of
// times its size, so a snapshot of a large cluster in one YAML document
// peaked at over 1 GB.
var yamlStreamMin = 1 << 20

// topKey is a top-level key as snapshot writes them: a plain word at the
// start of a line.
var topKey = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*):(?:[ \r\n]|$)`)

// yamlEntry is one top-level entry of a document: its key, its lines,
// and, for a block sequence, where each item starts.
type yamlEntry struct {
	key   string
	text  []byte
	items [][]byte // a list's items, each with its "- " still in place
}

// yamlCounts is how many items each of a split snapshot's lists holds,
// as countLists gives them for JSON.
func yamlCounts(entries []yamlEntry) map[string]int {
	counts := map[string]int{}
	for _, e := range entries {
		counts[e.key] += len(e.items)
	}
	return counts
}

// splitYAMLSnapshot splits doc, one YAML document, into its top-level
// entries and its lists' items, when it is laid out as snapshot (and
// sigs.k8s.io/yaml) write a snapshot: a block mapping at the first
// column whose every line is a plain key, an indented line, a comment or
// a blank, whose lists are block sequences, with no anchor or alias (an
// item could refer to another) and no key given twice. Anything else
// answers false, and the document is converted whole as before: the
// split is only ever a faster way to the same JSON.
func splitYAMLSnapshot(doc []byte) ([]yamlEntry, bool) {
	if anchorOrAlias(doc) {
		return nil, false
	}
	var entries []yamlEntry
	seen := map[string]bool{}
	start := -1
	for off := 0; off < len(doc); {
		end := bytes.IndexByte(doc[off:], '\n') + off + 1
		if end == off {
			end = len(doc)
		}
		line := doc[off:end]
		off = end
		switch c := line[0]; c {
		case ' ', '\n', '\r', '#', '-':
			// Inside an entry: its value's lines, or a list's items.
			if start < 0 && c != '#' && len(bytes.TrimSpace(line)) > 0 {
				return nil, false // something before the first key
			}
			continue
		}
		m := topKey.FindSubmatch(line)
		if m == nil {
			return nil, false
		}
		key := string(m[1])
		if seen[key] {
			return nil, false
		}
		seen[key] = true
		if start >= 0 {
			entries[len(entries)-1].text = doc[start : off-len(line)]
		}
		entries = append(entries, yamlEntry{key: key})
		start = off - len(line)
	}
	if start < 0 {
		return nil, false
	}
	entries[len(entries)-1].text = doc[start:]
	for i := range entries {
		e := &entries[i]
		if _, ok := snapshotLists[e.key]; !ok && e.key != "items" {
			continue
		}
		items, ok := blockItems(e.text, len(e.key))
		if !ok {
			return nil, false
		}
		e.items = items
	}
	return entries, true
}

// blockItems splits an entry "key:\n- a\n- b" (its sequence at the first
// column, or indented) into its items; an entry whose value is on its
// key's line (a flow list, null) has none, and is converted whole.
func blockItems(text []byte, keyLen int) ([][]byte, bool) {
	nl := bytes.IndexByte(text, '\n')
	if nl < 0 {
		return nil, true
	}
	if v := bytes.TrimSpace(text[keyLen+1 : nl]); len(v) > 0 && v[0] != '#' {
		return nil, true // "key: value" on its line
	}
	var items [][]byte
	indent, start := -1, -1
	for off := nl + 1; off < len(text); {
		end := bytes.IndexByte(text[off:], '\n') + off + 1
		if end == off {
			end = len(text)
		}
		line := text[off:end]
		t := bytes.TrimLeft(line, " ")
		if len(bytes.TrimSpace(t)) == 0 || t[0] == '#' {
			off = end
			continue
		}
		n := len(line) - len(t)
		if indent < 0 {
			indent = n
		}
		switch {
		case n < indent:
			return nil, false
		case n == indent:
			if t[0] != '-' || len(t) > 1 && t[1] != ' ' && t[1] != '\n' && t[1] != '\r' {
				return nil, false // not a block sequence's item
			}
			if start >= 0 {
				items = append(items, text[start:off])
			}
			start = off
		}
		off = end
	}
	if start >= 0 {
		items = append(items, text[start:])
	}
	return items, true
}

// anchorOrAlias says whether doc may hold an anchor or an alias: a & or *
// where a node may start. Inside a quoted string it answers true too,
// which only costs the faster path.
func anchorOrAlias(doc []byte) bool {
	for i, c := range doc {
		if c != '&' && c != '*' {
			continue
		}
		if i == 0 {
			return true
		}
		switch doc[i-1] {
		case ' ', '\t', '\n', '[', '{', ',', ':', '-', '?':
			return true
		}
	}
	return false
}

// yamlSnapshotReader gives the JSON of a split YAML snapshot, converting
// an entry or an item at a time as it is read, so the whole document's
// generic tree never exists.
type yamlSnapshotReader struct {
	entries []yamlEntry
	entry   int // the entry being written
	item    int // the item of it, -1 for its head
	buf     bytes.Buffer
	item0   []byte // a reused copy of an item to unindent
	done    bool
	err     error
}

func newYAMLSnapshotReader(entries []yamlEntry) *yamlSnapshotReader {
	r := &yamlSnapshotReader{entries: entries, item: -1}
	r.buf.WriteByte('{')
	return r
}

func (r *yamlSnapshotReader) Read(p []byte) (int, error) {
	for r.buf.Len() == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		r.err = r.next()
	}
	return r.buf.Read(p)
}

// next writes the JSON of the next entry, or item, or the closing brace.
func (r *yamlSnapshotReader) next() error {
	if r.entry == len(r.entries) {
		r.buf.WriteByte('}')
		r.done = true
		return nil
	}
	e := &r.entries[r.entry]
	sep := func() {
		if r.entry > 0 {
			r.buf.WriteByte(',')
		}
	}
	if e.items == nil {
		// {"key":value} without its braces.
		j, err := yaml.YAMLToJSONStrict(e.text)
		if err != nil {
			return err
		}
		j = bytes.TrimSpace(j)
		if len(j) < 2 || j[0] != '{' || j[len(j)-1] != '}' {
			return io.ErrUnexpectedEOF
		}
		sep()
		r.buf.Write(j[1 : len(j)-1])
		r.entry++
		return nil
	}
	if r.item < 0 {
		sep()
		r.buf.WriteString(`"` + e.key + `":[`) // a plain word: its own JSON
		r.item = 0
		return nil
	}
	if r.item == len(e.items) {
		r.buf.WriteByte(']')
		r.entry++
		r.item = -1
		return nil
	}
	// The item, its "- " made two spaces: a document of its own.
	it := e.items[r.item]
	r.item0 = append(r.item0[:0], it...)
	dash := bytes.IndexByte(r.item0, '-')
	r.item0[dash] = ' '
	j, err := yaml.YAMLToJSONStrict(r.item0)
	if err != nil {
		return err
	}
	if r.item > 0 {
		r.buf.WriteByte(',')
	}
	r.buf.Write(j)
	r.item++
	return nil
}

// isSnapshot says whether the split document is a saved snapshot, by its
// kind and apiVersion entries as snapshot writes them.
func isSnapshot(entries []yamlEntry) bool {
	var kind, version bool
	for _, e := range entries {
		switch t := string(bytes.TrimSpace(e.text)); e.key {
		case "kind":
			kind = t == "kind: Snapshot"
		case "apiVersion":
			version = t == "apiVersion: access.kubectl.io/v1alpha1"
		}
	}
	return kind && version
}

// isList says whether the split document is a v1 List (kubectl get -o
// yaml) with its items in a block sequence.
func isList(entries []yamlEntry) bool {
	var kind, version, items bool
	for _, e := range entries {
		switch t := string(bytes.TrimSpace(e.text)); e.key {
		case "kind":
			kind = t == "kind: List"
		case "apiVersion":
			version = t == "apiVersion: v1"
		case "items":
			items = e.items != nil
		default:
			if strings.EqualFold(e.key, "items") {
				return false // which one counts is the decoder's to say
			}
		}
	}
	return kind && version && items
}

// listItems reads a split List's items as documents, each converted as
// the whole List's conversion would have given it.
func (l *loader) listItems(entries []yamlEntry, at Location) error {
	var item []byte
	for _, e := range entries {
		if e.key != "items" {
			// Not read, but converted: the whole List's conversion
			// would refuse it if it could not be.
			if _, err := yaml.YAMLToJSON(e.text); err != nil {
				return err
			}
			continue
		}
		for _, it := range e.items {
			item = append(item[:0], it...)
			item[bytes.IndexByte(item, '-')] = ' '
			j, err := yaml.YAMLToJSON(item)
			if err != nil {
				return err
			}
			if err := l.document(j, nil, at); err != nil {
				return err
			}
		}
	}
	return nil
}
