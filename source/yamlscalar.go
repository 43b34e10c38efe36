package source

import "unicode/utf8"

// The scalars of yamlJSON: quoted, plain and literal, read as
// go.yaml.in/yaml/v2's scanner reads them (scannerc.go, named in each);
// plain ones are resolved in yamlresolve.go.

// quoted reads the single- or double-quoted scalar at q into *into
// (yaml_parser_scan_flow_scalar) and gives the position after its closing
// quote. Lines after the first must start at column minCol or more (the
// scanner does not ask it; what is refused is only converted as before).
// With oneLine, a line break gives closed false (a key is on one line).
func (c *yamlJSON) quoted(q, minCol int, single, oneLine bool, into *[]byte) (end int, closed bool) {
	src := c.src
	s := (*into)[:0]
	defer func() { *into = s }()
	var (
		i         = q + 1
		lineStart = 0
		leading   bool // a first line break was read (not an escaped one)
		trailing  int  // the line breaks after it
	)
	for {
		if i >= len(src) {
			refuse() // the stream ends inside the quotes
		}
		blanks := false // leading_blanks
		for src[i] != ' ' && src[i] != '\n' {
			b := src[i]
			switch {
			case single && b == '\'' && src[i+1] == '\'':
				s = append(s, '\'')
				i += 2
				continue
			case single && b == '\'', !single && b == '"':
			case !single && b == '\\' && src[i+1] == '\n':
				if oneLine {
					return 0, false
				}
				i += 2
				lineStart = i
				blanks = true
			case !single && b == '\\':
				i, s = escape(src, i, s)
				continue
			default:
				s = append(s, b)
				i++
				continue
			}
			break
		}
		if i >= len(src) {
			refuse() // an escaped line break ends the stream
		}
		if (single && src[i] == '\'') || (!single && src[i] == '"') {
			return i + 1, true
		}
		spaces, broke := 0, blanks
		for i < len(src) && (src[i] == ' ' || src[i] == '\n') {
			if src[i] == ' ' {
				if !blanks {
					spaces++
				}
				i++
				continue
			}
			if oneLine {
				return 0, false
			}
			if !blanks {
				spaces, leading, blanks = 0, true, true
			} else {
				trailing++
			}
			i++
			lineStart, broke = i, true
		}
		if broke && i-lineStart < minCol {
			refuse()
		}
		if blanks {
			if leading && trailing == 0 {
				s = append(s, ' ')
			}
			s = appendN(s, '\n', trailing)
			leading, trailing = false, 0
		} else {
			s = appendN(s, ' ', spaces)
		}
	}
}

// escape reads the escape sequence at src[i] ('\\') into s.
func escape(src []byte, i int, s []byte) (int, []byte) {
	n := 0
	switch src[i+1] {
	case '0':
		s = append(s, 0)
	case 'a':
		s = append(s, '\a')
	case 'b':
		s = append(s, '\b')
	case 't':
		s = append(s, '\t')
	case 'n':
		s = append(s, '\n')
	case 'v':
		s = append(s, '\v')
	case 'f':
		s = append(s, '\f')
	case 'r':
		s = append(s, '\r')
	case 'e':
		s = append(s, 0x1b)
	case ' ', '"', '\'', '\\':
		s = append(s, src[i+1])
	case 'N':
		s = utf8.AppendRune(s, 0x85)
	case '_':
		s = utf8.AppendRune(s, 0xa0)
	case 'L':
		s = utf8.AppendRune(s, 0x2028)
	case 'P':
		s = utf8.AppendRune(s, 0x2029)
	case 'x':
		n = 2
	case 'u':
		n = 4
	case 'U':
		n = 8
	default:
		refuse() // an error
	}
	i += 2
	if n == 0 {
		return i, s
	}
	v := 0
	for k := range n {
		if i+k >= len(src) {
			refuse()
		}
		d := unhex(src[i+k])
		if d < 0 {
			refuse()
		}
		v = v<<4 + d
	}
	if (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff {
		refuse()
	}
	return i + n, utf8.AppendRune(s, rune(v))
}

func unhex(b byte) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	case 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

func appendN(s []byte, b byte, n int) []byte {
	for range n {
		s = append(s, b)
	}
	return s
}

// plain converts the plain scalar at q, in a collection at column pc
// (yaml_parser_scan_plain_scalar, block context), and gives the start of
// the line after it. A line of it that could end it otherwise than by its
// indentation or a comment (": ", a trailing ':', " #" after the first
// line) is refused.
func (c *yamlJSON) plain(q, pc int) int {
	src := c.src
	end, i := q, q
	comment := false
scan:
	for ; src[i] != '\n'; i++ {
		switch src[i] {
		case ' ':
			continue
		case '#':
			if src[i-1] == ' ' {
				comment = true
				break scan
			}
		case ':':
			if src[i+1] == ' ' || src[i+1] == '\n' {
				refuse()
			}
		}
		end = i + 1
	}
	next := lineEnd(src, i) + 1
	if comment {
		c.resolve(src[q:end])
		return next
	}
	multi, breaks := false, 0
	for t := next; t < len(src); {
		j := t
		for src[j] == ' ' {
			j++
		}
		if src[j] == '\n' {
			breaks++
			t = j + 1
			continue
		}
		if src[j] == '#' || j-t < pc+1 {
			break // a comment or a line of the enclosing node ends it
		}
		e := j
		for i = j; src[i] != '\n'; i++ {
			switch src[i] {
			case ' ':
				continue
			case '#':
				if src[i-1] == ' ' {
					refuse()
				}
			case ':':
				if src[i+1] == ' ' || src[i+1] == '\n' {
					refuse()
				}
			}
			e = i + 1
		}
		if !multi {
			c.text = append(c.text[:0], src[q:end]...)
			multi = true
		}
		if breaks == 0 {
			c.text = append(c.text, ' ')
		}
		c.text = appendN(c.text, '\n', breaks)
		c.text = append(c.text, src[j:e]...)
		breaks = 0
		t = i + 1
		next = t
	}
	if multi {
		c.resolve(c.text)
	} else {
		c.resolve(src[q:end])
	}
	return next
}

// literal converts the literal block scalar whose header ('|') is at q,
// in a collection at column pc, into c.text
// (yaml_parser_scan_block_scalar and its breaks, literal), and gives the
// start of the line after it.
func (c *yamlJSON) literal(q, pc int) int {
	src := c.src
	i := q + 1
	chomp, increment := 0, 0
	sign := func() {
		if src[i] == '+' || src[i] == '-' {
			chomp = 1
			if src[i] == '-' {
				chomp = -1
			}
			i++
		}
	}
	digit := func() {
		if '0' <= src[i] && src[i] <= '9' {
			if src[i] == '0' {
				refuse()
			}
			increment = int(src[i] - '0')
			i++
		}
	}
	if src[i] == '+' || src[i] == '-' {
		sign()
		digit()
	} else {
		digit()
		sign()
	}
	for src[i] == ' ' {
		i++
	}
	if src[i] == '#' {
		i = lineEnd(src, i)
	}
	if src[i] != '\n' {
		refuse()
	}
	i++
	indent := 0
	if increment > 0 {
		indent = increment
		if pc >= 0 {
			indent = pc + increment
		}
	}
	s := c.text[:0]
	leading, trailing := false, 0
	lineStart := i
	i, lineStart, indent, trailing = blockBreaks(src, i, lineStart, indent, pc, trailing)
	for i < len(src) && i-lineStart == indent {
		if leading {
			s = append(s, '\n')
		}
		s = appendN(s, '\n', trailing)
		trailing = 0
		e := lineEnd(src, i)
		s = append(s, src[i:e]...)
		i = e + 1
		leading, lineStart = true, i
		i, lineStart, indent, trailing = blockBreaks(src, i, lineStart, indent, pc, trailing)
	}
	if chomp != -1 && leading {
		s = append(s, '\n')
	}
	if chomp == 1 {
		s = appendN(s, '\n', trailing)
	}
	c.text = s
	return lineStart
}

// blockBreaks eats a block scalar's indentation and empty lines from i
// (yaml_parser_scan_block_scalar_breaks), counting the empty lines into
// trailing, and sets the indentation from them when it is not yet known.
func blockBreaks(src []byte, i, lineStart, indent, pc, trailing int) (int, int, int, int) {
	most := 0
	for {
		for (indent == 0 || i-lineStart < indent) && i < len(src) && src[i] == ' ' {
			i++
		}
		most = max(most, i-lineStart)
		if i >= len(src) || src[i] != '\n' {
			break
		}
		trailing++
		i++
		lineStart = i
	}
	if indent == 0 {
		indent = max(most, pc+1, 1)
	}
	return i, lineStart, indent, trailing
}

// appendJSONString appends s, UTF-8, as a JSON string.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i, b := range s {
		if b >= 0x20 && b != '"' && b != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch b {
		case '"', '\\':
			dst = append(dst, '\\', b)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
