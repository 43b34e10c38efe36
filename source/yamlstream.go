package source

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

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

// span is a part of a document: its bytes [start, end) in the source.
type span struct{ start, end int64 }

// yamlEntry is one top-level entry of a document: its key, where its
// lines are, and, for a block sequence, where each item is.
type yamlEntry struct {
	key  string
	text span
	// list: the entry's value is a block sequence, whose items are
	// converted one at a time; else the entry is converted whole.
	list  bool
	items []span // each with its "- " still in place
}

// yamlDoc is a split YAML document: its entries, read from src (the
// document's bytes, or the file it fills) as they are converted, so that
// only one entry or item is in memory at a time.
type yamlDoc struct {
	src     io.ReaderAt
	entries []yamlEntry
}

// read gives the bytes of s, in buf's memory where it is large enough.
func (d *yamlDoc) read(s span, buf []byte) ([]byte, error) {
	n := int(s.end - s.start)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if got, err := d.src.ReadAt(buf, s.start); got < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF // the file changed since it was split
		}
		return nil, err
	}
	return buf, nil
}

// text is the entry's whole text (small entries: kind, apiVersion).
func (d *yamlDoc) text(e *yamlEntry) []byte {
	b, err := d.read(e.text, nil)
	if err != nil {
		return nil
	}
	return b
}

// splitYAMLSnapshot splits doc, one YAML document, into its top-level
// entries and its lists' items (scanYAMLSnapshot).
func splitYAMLSnapshot(doc []byte) (*yamlDoc, bool) {
	entries, ok := scanYAMLSnapshot(bytes.NewReader(doc))
	if !ok {
		return nil, false
	}
	return &yamlDoc{src: bytes.NewReader(doc), entries: entries}, true
}

// scanYAMLSnapshot reads a document from r once, a line at a time, and
// says where its top-level entries and its lists' items are, when it is
// laid out as snapshot (and sigs.k8s.io/yaml) write a snapshot: a block
// mapping at the first column whose every line is a plain key, an
// indented line, a comment or a blank, whose lists are block sequences,
// with no anchor or alias (an item could refer to another), no key given
// twice, and no document separator. Anything else answers false, and the
// document is converted whole as before: the split is only ever a faster
// way to the same JSON. It holds one line at a time, so a file need not
// be read whole to be split.
func scanYAMLSnapshot(r io.Reader) ([]yamlEntry, bool) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		entries []yamlEntry
		seen    = map[string]bool{}
		off     int64
		line    []byte
		long    []byte // a line longer than the reader's buffer, gathered
		indent  = -1   // the current list's items' indentation
		item    = int64(-1)
	)
	closeEntry := func(at int64) {
		if len(entries) == 0 {
			return
		}
		e := &entries[len(entries)-1]
		e.text.end = at
		if item >= 0 {
			e.items = append(e.items, span{item, at})
		}
		item = -1
	}
	for {
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], b...)
			for err == bufio.ErrBufferFull {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		if len(b) == 0 {
			break
		}
		line = b
		at := off
		off += int64(len(line))
		if anchorOrAlias(line) || bytes.HasPrefix(line, []byte("---")) ||
			!bytes.HasSuffix(line, []byte("\n")) || bytes.HasSuffix(line, []byte("\r\n")) || !utf8.Valid(line) {
			// A document separator, a last line without its newline,
			// lines ending "\r\n" (which the document reader changes,
			// yamlDocuments) or bytes that are not UTF-8 (which reading
			// decodes): read whole.
			return nil, false
		}
		switch c := line[0]; c {
		case ' ', '\n', '\r', '#', '-':
			// Inside an entry: its value's lines, or a list's items.
			if len(entries) == 0 {
				if c != '#' && len(bytes.TrimSpace(line)) > 0 {
					return nil, false // something before the first key
				}
				continue
			}
			e := &entries[len(entries)-1]
			if !e.list {
				continue
			}
			t := bytes.TrimLeft(line, " ")
			if len(bytes.TrimSpace(t)) == 0 || t[0] == '#' {
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
				if item >= 0 {
					e.items = append(e.items, span{item, at})
				}
				item = at
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
		closeEntry(at)
		e := yamlEntry{key: key, text: span{at, at}}
		if _, ok := snapshotLists[key]; ok || key == "items" {
			// A block sequence when nothing but a comment follows the
			// key on its line ("key: value" is converted whole).
			if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
				v := bytes.TrimSpace(line[len(key)+1 : nl])
				e.list = len(v) == 0 || v[0] == '#'
			}
		}
		entries = append(entries, e)
		indent = -1
		if err != nil {
			break
		}
	}
	if len(entries) == 0 {
		return nil, false
	}
	closeEntry(off)
	for i := range entries {
		// A list with no item is converted whole, as before.
		if entries[i].list && len(entries[i].items) == 0 {
			entries[i].list = false
		}
	}
	return entries, true
}

// anchorOrAlias says whether a line may hold an anchor or an alias: a &
// or * where a node may start. Inside a quoted string it answers true
// too, which only costs the faster path.
func anchorOrAlias(line []byte) bool {
	for i, c := range line {
		if c != '&' && c != '*' {
			continue
		}
		if i == 0 {
			return true
		}
		switch line[i-1] {
		case ' ', '\t', '\n', '[', '{', ',', ':', '-', '?':
			return true
		}
	}
	return false
}

// yamlSnapshotReader gives the JSON of a split YAML snapshot, converting
// an entry or an item at a time as it is read, so the whole document's
// generic tree never exists, nor, when yamlJSON accepts an item (as it
// does what snapshot writes), the item's.
type yamlSnapshotReader struct {
	doc   *yamlDoc
	entry int // the entry being written
	item  int // the item of it, -1 for its head
	buf   bytes.Buffer
	item0 []byte // a reused copy of an item to unindent
	conv  yamlJSON
	j     []byte // a reused item's JSON
	done  bool
	err   error
}

func newYAMLSnapshotReader(doc *yamlDoc) *yamlSnapshotReader {
	r := &yamlSnapshotReader{doc: doc, item: -1}
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
	entries := r.doc.entries
	if r.entry == len(entries) {
		r.buf.WriteByte('}')
		r.done = true
		return nil
	}
	e := &entries[r.entry]
	sep := func() {
		if r.entry > 0 {
			r.buf.WriteByte(',')
		}
	}
	if !e.list {
		// {"key":value} without its braces.
		text, err := r.doc.read(e.text, nil)
		if err != nil {
			return err
		}
		j, err := r.conv.toJSON(nil, text, true)
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
	it, err := r.doc.read(e.items[r.item], r.item0)
	if err != nil {
		return err
	}
	r.item0 = it
	it[bytes.IndexByte(it, '-')] = ' '
	j, err := r.conv.toJSON(r.j, it, true)
	if err != nil {
		return err
	}
	r.j = j
	if r.item > 0 {
		r.buf.WriteByte(',')
	}
	r.buf.Write(j)
	r.item++
	return nil
}

// toJSON converts an entry or an item of a split document: without a
// generic tree when the converter accepts it, else through
// sigs.k8s.io/yaml (strictly, or not, as the whole document would have
// been converted), which gives the same JSON or says what is wrong. dst's
// memory is reused.
func (c *yamlJSON) toJSON(dst, text []byte, strict bool) ([]byte, error) {
	if j, ok := c.convert(dst[:0], text); ok {
		return j, nil
	}
	if strict {
		return yaml.YAMLToJSONStrict(text)
	}
	return yaml.YAMLToJSON(text)
}

// isSnapshot says whether the split document is a saved snapshot, by its
// kind and apiVersion entries as snapshot writes them.
func isSnapshot(doc *yamlDoc) bool {
	var kind, version bool
	for i := range doc.entries {
		e := &doc.entries[i]
		if e.key != "kind" && e.key != "apiVersion" {
			continue
		}
		switch t := string(bytes.TrimSpace(doc.text(e))); e.key {
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
func isList(doc *yamlDoc) bool {
	var kind, version, items bool
	for i := range doc.entries {
		e := &doc.entries[i]
		var t string
		if e.key == "kind" || e.key == "apiVersion" {
			t = string(bytes.TrimSpace(doc.text(e)))
		}
		switch e.key {
		case "kind":
			kind = t == "kind: List"
		case "apiVersion":
			version = t == "apiVersion: v1"
		case "items":
			items = e.list
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
func (l *loader) listItems(doc *yamlDoc, at Location) error {
	var (
		item, j []byte
		conv    yamlJSON
	)
	for i := range doc.entries {
		e := &doc.entries[i]
		if e.key != "items" {
			// Not read, but converted: the whole List's conversion
			// would refuse it if it could not be.
			text, err := doc.read(e.text, nil)
			if err != nil {
				return err
			}
			if _, err := conv.toJSON(nil, text, false); err != nil {
				return err
			}
			continue
		}
		for _, sp := range e.items {
			it, err := doc.read(sp, item)
			if err != nil {
				return err
			}
			item = it
			item[bytes.IndexByte(item, '-')] = ' '
			if j, err = conv.toJSON(j, item, false); err != nil {
				return err
			}
			if err := l.document(j, nil, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// yamlCounts is how many items each of a split snapshot's lists holds,
// as countLists gives them for JSON.
func yamlCounts(doc *yamlDoc) map[string]int {
	counts := map[string]int{}
	for _, e := range doc.entries {
		counts[e.key] += len(e.items)
	}
	return counts
}

// streamYAMLFile reads a file that is one YAML document, a saved snapshot
// or a List laid out as snapshot and kubectl write them, an entry and an
// item at a time from the file: it is split in a first pass that holds a
// line at a time, then each item is read and converted in turn, so the
// file's bytes are never held whole (at 31 MB of YAML they were a third
// of what its objects take). It says whether it read the file; anything
// else, or a file that fails part way, is left to be read whole, which
// says what is wrong as it always has.
func (l *loader) streamYAMLFile(f *os.File, path string) bool {
	entries, ok := scanYAMLSnapshot(io.NewSectionReader(f, 0, 1<<62))
	if !ok {
		return false
	}
	doc := &yamlDoc{src: f, entries: entries}
	snapshot := isSnapshot(doc)
	if !snapshot && !isList(doc) {
		return false
	}
	// The document starts at its first key, after comments and blanks.
	head := &lineCounter{r: io.NewSectionReader(f, 0, entries[0].text.start)}
	if _, err := io.Copy(io.Discard, head); err != nil {
		return false
	}
	at := Location{File: path, Line: 1 + head.lines}
	var err error
	if snapshot {
		_, _, err = l.streamSnapshot(newYAMLSnapshotReader(doc), at, yamlCounts(doc))
	} else {
		err = l.listItems(doc, at)
	}
	if err != nil {
		*l = *newLoader(l.o)
		return false
	}
	return true
}
