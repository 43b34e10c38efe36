package source

import (
	"bytes"
	"hash/maphash"
	"unicode"
	"unicode/utf8"
)

// yamlJSON converts a YAML document, one entry or list item of a large
// snapshot or List as yamlstream.go meets them, to JSON without the
// generic tree sigs.k8s.io/yaml builds of it (map[interface{}]interface{}
// of every mapping, an interface of every scalar: about twenty times the
// text, all garbage). It writes the JSON as it reads the text, one line
// at a time, and keeps only its buffers between documents.
//
// It reads block mappings and sequences (compact or not), plain, quoted
// and literal scalars, empty flow collections, comments and blank lines,
// which is everything sigs.k8s.io/yaml's JSONToYAML writes but for keys
// over 128 characters ("? key"). Its JSON means what YAMLToJSONStrict's
// means (keys are in the text's order, not sorted); whatever it is not
// certain of, it refuses, and the caller converts the document as before:
// anchors, aliases, tags, flow collections that are not empty, folded
// scalars, explicit keys, keys that are not plainly strings, a key given
// twice (or twice in different cases, which encoding/json reading into a
// struct would take in order), tabs, carriage returns, document markers,
// the characters YAML reads as line breaks or refuses, text indented in
// any way a parser might read otherwise. Plain scalars that YAML 1.1 reads
// as something other than a string it resolves itself (null, booleans,
// decimal integers) or through sigs.k8s.io/yaml, one scalar alone.
//
// The scanning is ported from go.yaml.in/yaml/v2's scannerc.go (itself
// libyaml's), which sigs.k8s.io/yaml uses: scan_flow_scalar,
// scan_plain_scalar, scan_block_scalar and its breaks, and resolve.go.
type yamlJSON struct {
	src   []byte
	out   []byte
	text  []byte // a value's text, when it is not a slice of src
	key   []byte // a quoted key's text
	fold  []byte
	maps  []keySet // the keys of each open collection's mapping
	depth int
}

// keySet is a mapping's keys, folded as encoding/json matches a field
// and hashed: a collision only refuses a document that is right.
type keySet struct {
	hashes []uint64
	big    map[uint64]struct{}
}

// yamlMaxDepth is how deeply collections may nest before the document is
// converted as before (where go-yaml has its own limit).
const yamlMaxDepth = 64

// yamlMaxKey is the longest plain or quoted key read: YAML's simple keys
// end at 1024 characters.
const yamlMaxKey = 512

var keySeed = maphash.MakeSeed()

// refusal is what a refused document panics with, recovered by convert.
type refusal struct{}

func refuse() { panic(refusal{}) }

// convert appends the JSON of src, one YAML document, to dst. ok is false
// when it refuses src; then dst is as it was.
func (c *yamlJSON) convert(dst, src []byte) (out []byte, ok bool) {
	if !yamlTextOK(src) {
		return dst, false
	}
	c.src, c.out, c.depth = src, dst, 0
	defer func() {
		c.src = nil
		if r := recover(); r != nil {
			if _, is := r.(refusal); !is {
				panic(r)
			}
			out, ok = c.out[:len(dst)], false
		}
	}()
	p, col := c.next(0)
	if p == len(src) {
		refuse() // no node: null, or an error
	}
	p = c.node(p, col, -1)
	if p, _ = c.next(p); p != len(src) {
		refuse()
	}
	return c.out, true
}

// yamlTextOK says whether src holds only what the converter reads: UTF-8
// ending in a line break, no control character but the line feed (no tab,
// no carriage return), none of the characters YAML reads as line breaks
// (U+0085, U+2028, U+2029) or refuses, no byte order mark, and no line
// starting as a document marker does ("---", "...").
func yamlTextOK(src []byte) bool {
	if len(src) == 0 || src[len(src)-1] != '\n' {
		return false
	}
	for i := 0; i < len(src); {
		if i == 0 || src[i-1] == '\n' {
			if bytes.HasPrefix(src[i:], []byte("---")) || bytes.HasPrefix(src[i:], []byte("...")) {
				return false
			}
		}
		b := src[i]
		if b < utf8.RuneSelf {
			if (b < 0x20 && b != '\n') || b == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(src[i:])
		if (r == utf8.RuneError && n == 1) || r < 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff {
			return false
		}
		i += n
	}
	return true
}

// next skips blank and comment lines from p, a line's start: it gives the
// next line with content and the column of its first character, or
// len(src) and -1.
func (c *yamlJSON) next(p int) (int, int) {
	src := c.src
	for p < len(src) {
		j := p
		for src[j] == ' ' {
			j++
		}
		if src[j] != '\n' && src[j] != '#' {
			return p, j - p
		}
		p = lineEnd(src, j) + 1
	}
	return p, -1
}

// lineEnd is the index of the line feed ending the line that holds i.
func lineEnd(src []byte, i int) int {
	return i + bytes.IndexByte(src[i:], '\n')
}

// dash says whether a block sequence's entry starts at q.
func (c *yamlJSON) dash(q int) bool {
	return c.src[q] == '-' && (c.src[q+1] == ' ' || c.src[q+1] == '\n')
}

// node converts the node whose first line starts at p, its content at
// column col, in a collection at column pc (-1 at the root).
func (c *yamlJSON) node(p, col, pc int) int {
	q := p + col
	if c.dash(q) {
		return c.sequence(q, col, false)
	}
	if _, _, _, ok := c.keyAt(q); ok {
		return c.mapping(q, col)
	}
	return c.value(q, pc)
}

// enter opens a collection, with its key set emptied.
func (c *yamlJSON) enter() {
	c.depth++
	if c.depth > yamlMaxDepth {
		refuse()
	}
	for len(c.maps) <= c.depth {
		c.maps = append(c.maps, keySet{})
	}
	c.maps[c.depth] = keySet{hashes: c.maps[c.depth].hashes[:0]}
}

// mapping converts the block mapping whose first key is at q, column col.
func (c *yamlJSON) mapping(q, col int) int {
	src := c.src
	c.enter()
	c.out = append(c.out, '{')
	var p int
	for n := 0; ; n++ {
		k, after, plain, ok := c.keyAt(q)
		if !ok || (plain && !plainKeyString(k)) {
			refuse()
		}
		c.addKey(k)
		if n > 0 {
			c.out = append(c.out, ',')
		}
		c.out = appendJSONString(c.out, k)
		c.out = append(c.out, ':')
		r := after
		for src[r] == ' ' {
			r++
		}
		if src[r] == '\n' || src[r] == '#' {
			p = c.blockValue(lineEnd(src, r)+1, col, true)
		} else {
			p = c.value(r, col)
		}
		var k2 int
		if p, k2 = c.next(p); p == len(src) || k2 < col {
			break
		}
		if k2 > col {
			refuse()
		}
		q = p + k2
	}
	c.out = append(c.out, '}')
	c.depth--
	return p
}

// sequence converts the block sequence whose first entry is at q, column
// col; indentless when it is a mapping's value at the mapping's column.
func (c *yamlJSON) sequence(q, col int, indentless bool) int {
	src := c.src
	c.enter()
	c.out = append(c.out, '[')
	var p int
	for n := 0; ; n++ {
		if n > 0 {
			c.out = append(c.out, ',')
		}
		r := q + 1
		for src[r] == ' ' {
			r++
		}
		switch k := col + r - q; {
		case src[r] == '\n' || src[r] == '#':
			p = c.blockValue(lineEnd(src, r)+1, col, false)
		case c.dash(r):
			p = c.sequence(r, k, false)
		default:
			if _, _, _, ok := c.keyAt(r); ok {
				p = c.mapping(r, k)
			} else {
				p = c.value(r, col)
			}
		}
		var k2 int
		if p, k2 = c.next(p); p == len(src) || k2 < col {
			break
		}
		if k2 > col || !c.dash(p+k2) {
			if k2 == col && indentless {
				break // the mapping's next key
			}
			refuse()
		}
		q = p + k2
	}
	c.out = append(c.out, ']')
	c.depth--
	return p
}

// blockValue converts the value of a key or entry that has nothing after
// it on its line: the node on the lines from p, or null.
func (c *yamlJSON) blockValue(p, pc int, indentless bool) int {
	s, k := c.next(p)
	switch {
	case s < len(c.src) && k > pc:
		return c.node(s, k, pc)
	case s < len(c.src) && k == pc && indentless && c.dash(s+k):
		return c.sequence(s+k, k, true)
	}
	c.out = append(c.out, "null"...)
	return s
}

// keyAt reads the mapping key at q, if one starts there: a plain or
// quoted scalar on one line followed by ':' and a space or the line's
// end. It gives the key's text, where its value starts, and whether it
// is plain (its text still to resolve).
func (c *yamlJSON) keyAt(q int) (k []byte, after int, plain, ok bool) {
	src := c.src
	switch b := src[q]; b {
	case '"', '\'':
		e, closed := c.quoted(q, -1, b == '\'', true, &c.key)
		if !closed || src[e] != ':' || (src[e+1] != ' ' && src[e+1] != '\n') {
			return nil, 0, false, false
		}
		if e-q > yamlMaxKey {
			refuse()
		}
		return c.key, e + 1, false, true
	case '-', '?', ':':
		if src[q+1] == ' ' || src[q+1] == '\n' {
			return nil, 0, false, false // an indicator; else a plain scalar's start
		}
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`':
		return nil, 0, false, false
	}
	for i := q; src[i] != '\n'; i++ {
		switch src[i] {
		case '#':
			if src[i-1] == ' ' {
				return nil, 0, false, false // a comment before any ':'
			}
		case ':':
			if src[i+1] == ' ' || src[i+1] == '\n' {
				if src[i-1] == ' ' || i-q > yamlMaxKey {
					refuse()
				}
				return src[q:i], i + 1, true, true
			}
		}
	}
	return nil, 0, false, false
}

// addKey adds k to the open mapping's keys, refusing one given before.
func (c *yamlJSON) addKey(k []byte) {
	c.fold = appendFolded(c.fold[:0], k)
	h := maphash.Bytes(keySeed, c.fold)
	s := &c.maps[c.depth]
	if s.big != nil {
		if _, dup := s.big[h]; dup {
			refuse()
		}
		s.big[h] = struct{}{}
		return
	}
	for _, x := range s.hashes {
		if x == h {
			refuse()
		}
	}
	s.hashes = append(s.hashes, h)
	if len(s.hashes) > 32 {
		s.big = make(map[uint64]struct{}, 64)
		for _, x := range s.hashes {
			s.big[x] = struct{}{}
		}
	}
}

// appendFolded appends k folded as encoding/json folds a name to match a
// field (its appendFoldedName).
func appendFolded(dst, k []byte) []byte {
	for i := 0; i < len(k); {
		if b := k[i]; b < utf8.RuneSelf {
			if 'a' <= b && b <= 'z' {
				b -= 'a' - 'A'
			}
			dst = append(dst, b)
			i++
			continue
		}
		r, n := utf8.DecodeRune(k[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		dst = utf8.AppendRune(dst, r)
		i += n
	}
	return dst
}

// value converts the scalar or empty flow collection at q, on the line of
// its key or entry or alone, in a collection at column pc. It gives the
// start of the line after it.
func (c *yamlJSON) value(q, pc int) int {
	src := c.src
	switch b := src[q]; b {
	case '"', '\'':
		e, _ := c.quoted(q, pc+1, b == '\'', false, &c.text)
		c.out = appendJSONString(c.out, c.text)
		return c.tail(e)
	case '|':
		p := c.literal(q, pc)
		c.out = appendJSONString(c.out, c.text)
		return p
	case '[', '{':
		if src[q+1] != b+2 { // "[]" or "{}"
			refuse()
		}
		c.out = append(c.out, b, b+2)
		return c.tail(q + 2)
	case '-', '?', ':':
		if src[q+1] == ' ' || src[q+1] == '\n' {
			refuse() // an indicator; else a plain scalar's start
		}
	case '>', ',', ']', '}', '#', '&', '*', '!', '%', '@', '`':
		refuse()
	}
	return c.plain(q, pc)
}

// tail checks that nothing but spaces and a comment follows e on its
// line, and gives the next line's start.
func (c *yamlJSON) tail(e int) int {
	src := c.src
	i := e
	for src[i] == ' ' {
		i++
	}
	if src[i] == '#' && i > e {
		i = lineEnd(src, i)
	}
	if src[i] != '\n' {
		refuse()
	}
	return i + 1
}
