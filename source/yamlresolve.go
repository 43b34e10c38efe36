package source

import (
	"bytes"

	"sigs.k8s.io/yaml"
)

// How yamlJSON resolves a plain scalar: as go.yaml.in/yaml/v2's resolve.go
// would (a string, null, a boolean, a number), refusing or asking
// sigs.k8s.io/yaml where it does not answer itself.

// The kinds of a plain scalar's first character, as resolve.go's
// resolveTable has them: 0 when the scalar can only be a string.
func resolveHint(b byte) byte {
	switch {
	case b == '+' || b == '-':
		return 'S'
	case '0' <= b && b <= '9':
		return 'D'
	case b == '.':
		return '.'
	}
	switch b {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		return 'M'
	}
	return 0
}

// resolved are resolve.go's resolveMap: the plain scalars YAML 1.1 reads
// as booleans, null and the float specials, with their JSON ("" where
// there is none: NaN and the infinities, which JSON cannot hold).
var resolved = map[string]string{
	"y": "true", "Y": "true", "yes": "true", "Yes": "true", "YES": "true",
	"true": "true", "True": "true", "TRUE": "true",
	"on": "true", "On": "true", "ON": "true",
	"n": "false", "N": "false", "no": "false", "No": "false", "NO": "false",
	"false": "false", "False": "false", "FALSE": "false",
	"off": "false", "Off": "false", "OFF": "false",
	"": "null", "~": "null", "null": "null", "Null": "null", "NULL": "null",
	".nan": "", ".NaN": "", ".NAN": "",
	".inf": "", ".Inf": "", ".INF": "", "+.inf": "", "+.Inf": "", "+.INF": "",
	"-.inf": "", "-.Inf": "", "-.INF": "",
	"<<": "",
}

// resolve writes the JSON of the plain scalar s: a string unless resolve.go
// would read it otherwise, null, a boolean and a decimal integer by
// itself, anything else that may be a number through sigs.k8s.io/yaml.
func (c *yamlJSON) resolve(s []byte) {
	h := resolveHint(s[0])
	if h == 0 {
		c.out = appendJSONString(c.out, s)
		return
	}
	if v, ok := resolved[string(s)]; ok {
		if v == "" {
			refuse()
		}
		c.out = append(c.out, v...)
		return
	}
	switch {
	case h == 'M', h == '.' && !floatish(s), (h == 'D' || h == 'S') && !maybeNumber(s):
		c.out = appendJSONString(c.out, s)
	case decimalInt(s):
		c.out = append(c.out, s...)
	default:
		c.resolveByLibrary(s)
	}
}

// plainKeyString says whether the plain key k is read as the string it
// is; other keys (null, booleans and numbers, which sigs.k8s.io/yaml
// turns into strings its own way, and "<<", a merge) are refused.
func plainKeyString(k []byte) bool {
	if string(k) == "<<" {
		return false
	}
	h := resolveHint(k[0])
	if h == 0 {
		return true
	}
	if _, ok := resolved[string(k)]; ok {
		return false
	}
	switch h {
	case '.':
		return !floatish(k)
	case 'D', 'S':
		return !maybeNumber(k)
	}
	return true
}

// floatish says whether s, starting with '.', may be what ParseFloat
// reads (resolve.go's '.' hint): only digits, signs, exponents, points
// and underscores.
func floatish(s []byte) bool {
	for _, b := range s {
		if !('0' <= b && b <= '9') && b != '.' && b != 'e' && b != 'E' && b != '+' && b != '-' && b != '_' {
			return false
		}
	}
	return true
}

// maybeNumber says whether s, starting with a digit or a sign, may be
// read as an integer or a float (resolve.go's 'D' and 'S' hints, after it
// removes underscores): an integer's characters after a sign (decimal,
// 0x, 0o, 0b, a leading 0), or yamlStyleFloat. A timestamp is read as
// its own text, a string, into an interface (decode.go), so it needs no
// check of its own.
func maybeNumber(s []byte) bool {
	t := s
	if t[0] == '+' || t[0] == '-' {
		t = t[1:]
	}
	integer := true
	for _, b := range t {
		if b != '_' && unhex(b) < 0 && b != 'x' && b != 'X' && b != 'o' && b != 'O' {
			integer = false
			break
		}
	}
	return integer || yamlStyleFloat(s)
}

// yamlStyleFloat matches resolve.go's yamlStyleFloat,
// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$, on s without its
// underscores.
func yamlStyleFloat(s []byte) bool {
	i := 0
	at := func() byte {
		for i < len(s) && s[i] == '_' {
			i++
		}
		if i == len(s) {
			return 0
		}
		return s[i]
	}
	digits := func() int {
		n := 0
		for b := at(); '0' <= b && b <= '9'; b = at() {
			i++
			n++
		}
		return n
	}
	if b := at(); b == '+' || b == '-' {
		i++
	}
	if at() == '.' {
		i++
		if digits() == 0 {
			return false
		}
	} else {
		if digits() == 0 {
			return false
		}
		if at() == '.' {
			i++
			digits()
		}
	}
	if b := at(); b == 'e' || b == 'E' {
		i++
		if b := at(); b == '+' || b == '-' {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return at() == 0 && i == len(s)
}

// decimalInt says whether s is an integer as JSON writes it, one that
// fits in an int64: resolve.go reads it as that integer.
func decimalInt(s []byte) bool {
	t := s
	if t[0] == '-' {
		t = t[1:]
	}
	if len(t) == 0 || len(t) > 18 || (t[0] == '0' && len(s) > 1) {
		return false
	}
	for _, b := range t {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

// resolveByLibrary writes the JSON sigs.k8s.io/yaml gives the plain
// scalar s as a mapping's value on its key's line, as it was read.
func (c *yamlJSON) resolveByLibrary(s []byte) {
	if bytes.IndexByte(s, '\n') >= 0 {
		refuse()
	}
	doc := append(append([]byte("k: "), s...), '\n')
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil || !bytes.HasPrefix(j, []byte(`{"k":`)) || !bytes.HasSuffix(j, []byte("}")) {
		refuse()
	}
	c.out = append(c.out, j[len(`{"k":`):len(j)-1]...)
}
