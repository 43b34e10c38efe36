package source

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// countLists counts the elements of each array a JSON object's top-level
// keys hold, reading r once with a few KiB of memory: a streamed
// snapshot's lists are then made at their size, where growing them as
// they are read left four times their size behind as garbage (append
// grows a large slice by a quarter) and the collector's headroom on top.
// A key given twice has its counts added. It is a hint: input it cannot
// follow gives what it counted so far, and the decoder says what is wrong.
func countLists(r io.Reader) map[string]int {
	counts := map[string]int{}
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		depth    int
		inString bool
		escaped  bool
		key      []byte // the last string read at depth 1
		keyDone  bool   // key holds a whole string
		current  string // the top-level key whose array is open
		inArray  bool   // current's value is an array (depth 2 is its elements)
		expect   bool   // an element may start here
	)
	for {
		c, err := br.ReadByte()
		if err != nil {
			return counts
		}
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				keyDone = depth == 1
				continue
			}
			if depth == 1 && len(key) < 256 { // a key as written, escapes and all
				key = append(key, c)
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		if inArray && depth == 2 && expect && c != ']' {
			counts[current]++
			expect = false
		}
		switch c {
		case '"':
			inString = true
			if depth == 1 {
				key, keyDone = key[:0], false
			}
		case ':':
			if depth == 1 && keyDone {
				current = string(key)
			}
		case '[':
			depth++
			if depth == 2 {
				inArray, expect = true, true
			}
		case '{':
			depth++
		case ']', '}':
			depth--
			if depth == 1 {
				inArray = false
			}
			if depth <= 0 {
				return counts
			}
		case ',':
			if inArray && depth == 2 {
				expect = true
			}
		}
	}
}

// yamlDocuments splits data into its YAML documents exactly as
// k8s.io/apimachinery's YAMLReader gives them (a line starting "---" ends
// a document and is in neither, unless it opens one; only spaces and a
// comment may follow it; lines end in "\n"), but as slices of data where
// they are the same bytes: a snapshot in YAML is one document of tens of
// MiB, which the reader copied a line at a time into a buffer grown a
// doubling at a time. A document with a "\r" or without its last
// newline is copied and its line ends made "\n", as the reader makes them.
//
// On a separator followed by anything else it gives the documents before
// it and the reader's error.
func yamlDocuments(data []byte) ([][]byte, error) {
	var docs [][]byte
	start, end := 0, 0 // the document being gathered: data[start:end]
	emit := func() {
		doc := data[start:end]
		if bytes.IndexByte(doc, '\r') >= 0 || doc[len(doc)-1] != '\n' {
			var b bytes.Buffer
			for ln := range bytes.Lines(doc) {
				if l, ok := bytes.CutSuffix(ln, []byte("\n")); ok {
					ln = bytes.TrimSuffix(l, []byte("\r"))
				}
				b.Write(ln)
				b.WriteByte('\n')
			}
			doc = b.Bytes()
		}
		docs = append(docs, doc)
	}
	for off := 0; off < len(data); {
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		if line := data[off:next]; bytes.HasPrefix(line, []byte("---")) {
			if rest := bytes.TrimSpace(line[3:]); len(rest) > 0 && rest[0] != '#' {
				return docs, fmt.Errorf("invalid Yaml document separator: %s", rest)
			}
			if end > start {
				emit()
				start = next
			}
		}
		end, off = next, next
	}
	if end > start {
		emit()
	}
	return docs, nil
}
