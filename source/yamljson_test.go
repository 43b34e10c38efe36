package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// sameJSON says whether a and b decode to the same value (numbers kept
// as their text): what they mean, whatever the order of their keys.
func sameJSON(a, b []byte) bool {
	decode := func(j []byte) (any, bool) {
		d := json.NewDecoder(bytes.NewReader(j))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil || d.More() {
			return nil, false
		}
		return v, true
	}
	x, okx := decode(a)
	y, oky := decode(b)
	return okx && oky && reflect.DeepEqual(x, y)
}

// checkYAMLJSON converts text with the converter and with
// YAMLToJSONStrict, fails t if the converter accepts it and gives other
// JSON (or JSON where the library gives an error), and says whether it
// accepted it.
func checkYAMLJSON(t testing.TB, c *yamlJSON, text []byte) bool {
	t.Helper()
	got, ok := c.convert(nil, text)
	if !ok {
		if len(got) != 0 {
			t.Fatalf("refused, yet wrote %q", got)
		}
		return false
	}
	want, err := yaml.YAMLToJSONStrict(text)
	if err != nil {
		t.Fatalf("converted what sigs.k8s.io/yaml refuses (%v):\n%s\nto %s", err, text, got)
	}
	if !sameJSON(got, want) {
		t.Fatalf("converted\n%s\nto\n%s\nwhere sigs.k8s.io/yaml gives\n%s", text, got, want)
	}
	return true
}

func TestYAMLJSONCases(t *testing.T) {
	long := strings.Repeat("word ", 40)
	tests := []struct {
		name string
		text string
		ok   bool // whether the converter must accept it
	}{
		{"item as split", "  metadata:\n    name: crb-0000\n  roleRef:\n    kind: ClusterRole\n  subjects:\n  - kind: User\n    name: user0002@contoso.com\n", true},
		{"entry", "kind: Snapshot\n", true},
		{"nested entry", "metadata:\n  labels:\n    app: web\n    tier: \"1\"\n", true},
		{"numbers and booleans", "a: 1\nb: -12\nc: 0\nd: true\ne: no\nf: On\ng: ~\nh: null\ni:\nj: 1.5\nk: 0x1F\nl: 007\nm: 1_000\nexp: 1e3\no: -0\np: +5\nq: 08\n", true},
		{"strings that look like others", "a: \"1\"\nb: 'true'\nc: \"\"\nd: ''\ne: \"2024-01-01T00:00:00Z\"\nf: 2024-01-01\ng: 2001-12-14 21:59:43.10\nh: 12:30:00\ni: 00000000-0000-4000-9000-000000000000\nj: 1.2.3\nk: .git\nl: -x\nm: <<\n", true},
		{"big integers", "a: 9223372036854775807\nb: 18446744073709551615\nc: 18446744073709551616\nd: -9223372036854775808\n", true},
		{"quotes and escapes", "a: 'it''s'\nb: \"tab\\there \\\"q\\\" \\\\ \\x41\\u00e9\\U0001F600 \\0 \\e \\N \\_ \\L \\P \\/\"\n", false},
		{"escapes go-yaml reads", "b: \"tab\\there \\\"q\\\" \\\\ \\x41\\u00e9\\U0001F600 \\0 \\e \\N \\_ \\L \\P\"\n", true},
		{"comments and blanks", "# head\n\na: 1 # one\n  # indented\nb: # empty\n\n  c: x\n# tail\n", true},
		{"literal", "a: |\n  line one\n\n    indented\n  last\nb: |-\n  x\nc: |+\n  y\n\n\nd: |2\n   lead\ne: |\nf: 1\n", true},
		{"folded plain", "a: " + long[:70] + "\n  " + long[:70] + "\n\n  tail\nb: 1\n", true},
		{"folded quoted", "a: '" + long[:70] + "\n  " + long[:70] + "\n\n  tail'\nb: \"x\\\n  \\ y\n\n  z\"\n", true},
		{"empty flow", "a: {}\nb: []\nc:\n- {}\n- []\n", true},
		{"indentless and indented sequences", "a:\n- x\n- y\nb:\n    - x\n    -   k: v\n        j: w\n    - - 1\n      - 2\n    -\n      k: v\n    -\n", true},
		{"unicode", "ключ: значение\n日本: 語\nemoji: 😀 x\n\"quoted key\": v\n'single: key': v\n", true},
		{"plain lines in sequences", "- a\n  b\n- k: a\n   b\n  j:\n  - d\n- x: y\n  # c\n  z: w\n", true},
		{"indicators starting plain scalars", "a: ?x\nb: :y\nc: -z\n?k: 1\n-j: 2\n:i: 3\n", true},
		{"literal in sequences", "- |2\n   x\n- |-\n  y\n\n- |+\n\n  z\n-\n  |\n   w\n", true},
		{"root scalar", "  plain\n  text\n", true},
		{"root quoted", "  \"a\n  b\"\n", true},
		{"keys that are strings however they look", "\"<<\": 1\n'1': 2\n\"true\": 3\n2001-01-01: 4\n2001-12-14 21:59:43.10: 5\nuuid-00000000-0000: 6\n", true},
		{"key with a space before its colon", "a : 1\n", false},
		{"comment then more of a plain scalar", "a: b\n  # c\n  d\n", false},
		{"less indented comment in a literal", "a: |\n  x\n # c\n  y\n", false},
		{"quoted scalar's line at its key's column", "a: 'x\ny'\n", false},
		{"long key", strings.Repeat("k", 600) + ": 1\n", false},
		{"anchor", "a: &x 1\nb: *x\n", false},
		{"tag", "a: !!str 1\n", false},
		{"flow", "a: {b: 1}\n", false},
		{"folded scalar", "a: >\n  x\n", false},
		{"explicit key", "? a\n: 1\n", false},
		{"duplicate key", "a: 1\na: 2\n", false},
		{"duplicate key quoted", "a: 1\n\"a\": 2\n", false},
		{"keys differing in case", "name: a\nName: b\n", false},
		{"merge key", "<<: {}\n", false},
		{"boolean key", "yes: 1\n", false},
		{"number key", "1: a\n", false},
		{"null key", "~: a\n", false},
		{"tab", "a:\t1\n", false},
		{"carriage return", "a: 1\r\n", false},
		{"document marker", "---\na: 1\n", false},
		{"no final newline", "a: 1", false},
		{"bad indentation", "a:\n  b: 1\n c: 2\n", false},
		{"mapping value in plain", "a: b: c\n", false},
		{"infinity", "a: .inf\n", false},
		{"NEL", "a: x\u0085y\n", false},
		{"sequence in value", "a: - b\n", false},
	}
	var c yamlJSON
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkYAMLJSON(t, &c, []byte(tt.text)); got != tt.ok {
				t.Errorf("accepted %v, want %v", got, tt.ok)
			}
		})
	}
}

// genValue makes a random Kubernetes-like value: objects of known and
// odd keys, lists of objects, strings that look like numbers, booleans,
// nulls and timestamps, or hold quotes, colons, '#', unicode, spaces at
// their ends and line breaks; odd, when false, keeps to what a cluster's
// RBAC objects hold.
func genValue(r *rand.Rand, depth int, odd bool) any {
	switch n := r.IntN(10); {
	case depth > 0 && n < 3:
		m := map[string]any{}
		for range r.IntN(6) {
			m[genKey(r, odd)] = genValue(r, depth-1, odd)
		}
		return m
	case depth > 0 && n < 5:
		var l []any
		for range r.IntN(4) {
			if r.IntN(2) == 0 {
				l = append(l, genValue(r, depth-1, odd))
			} else {
				l = append(l, map[string]any{genKey(r, odd): genValue(r, depth-1, odd), genKey(r, odd): genString(r, odd)})
			}
		}
		if l == nil {
			return []any{}
		}
		return l
	case odd && n == 5:
		return []any{nil, true, false, 0, -7, 1 << 62, 1.5, 1e21, 2.5e-8, 9007199254740993}[r.IntN(10)]
	default:
		return genString(r, odd)
	}
}

var k8sKeys = []string{"apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations",
	"rules", "verbs", "apiGroups", "resources", "resourceNames", "subjects", "roleRef", "apiGroup",
	"app.kubernetes.io/name", "kubernetes.io/description", "rbac.authorization.k8s.io/aggregate-to-view"}

func genKey(r *rand.Rand, odd bool) string {
	if !odd || r.IntN(3) > 0 {
		return k8sKeys[r.IntN(len(k8sKeys))]
	}
	if r.IntN(20) == 0 {
		return strings.Repeat("k", 120+r.IntN(20)) // around the 128 of a simple key
	}
	return genString(r, odd)
}

var oddStrings = []string{"", " ", "true", "True", "yes", "no", "On", "off", "y", "N", "null", "Null", "~",
	"0", "1", "-1", "+1", "007", "08", "0x1F", "0o17", "0b101", "-0b11", "1_000", "1e3", "1.5", ".5", "-.5",
	"1.", ".inf", "-.Inf", ".nan", "2024-01-01", "2024-01-01T00:00:00Z", "2001-12-14 21:59:43.10",
	"12:30:00", "1:20", "<<", "=", "a: b", "a:b", "a:", ":a", "#c", "a #b", "a# b", "- x", "-x", "-",
	"? x", "?x", "[a]", "{a}", "[]", "{}", "&a", "*a", "!t", "|", ">", "%p", "@a", "`b`", "'q'", "\"d\"",
	"it's", `back\slash`, "tab\there", "new\nline", "end\n", "\nstart", "two\n\nbreaks", "  lead",
	"trail  ", "a  b", "ünïcödé", "日本語", "😀", "\u00a0", "\u200b", "\x7f", "\x1b[31m", "\u2028",
	"\u0085", "\r", "\ufeff", "---", "...", "--- x", "a\n---\nb", "x\n  y", "#", ",", "a,b", "0.0.0.0/0"}

const strChars = "abcXYZ019 :#-'\"\\\n.,{}[]&*!|>%@`?~_+é日😀\t"

func genString(r *rand.Rand, odd bool) string {
	if !odd {
		switch r.IntN(4) {
		case 0:
			return fmt.Sprintf("%08x-0000-4000-9000-%012x", r.Uint32(), r.Uint64()&0xffffffffffff)
		case 1:
			return fmt.Sprintf("user%04d@contoso.com", r.IntN(10000))
		case 2:
			return fmt.Sprintf("team-%03d", r.IntN(1000))
		}
		return k8sKeys[r.IntN(len(k8sKeys))]
	}
	if r.IntN(2) == 0 {
		return oddStrings[r.IntN(len(oddStrings))]
	}
	var b strings.Builder
	chars := []rune(strChars)
	for range r.IntN(8) + r.IntN(2)*r.IntN(200) { // some long enough to fold
		if r.IntN(3) == 0 {
			b.WriteString("word ")
		} else {
			b.WriteRune(chars[r.IntN(len(chars))])
		}
	}
	return b.String()
}

// variant writes v as YAML in a way people write it, not only the way
// JSONToYAML does: indentation of one to four, sequences indented or not,
// comments and blank lines between entries, strings plain, single- or
// double-quoted or literal, with lines folded. Not all it writes is valid
// YAML, which only tests the converter's refusals the more.
func variant(r *rand.Rand, b *bytes.Buffer, v any, col, pc int) {
	w := 1 + r.IntN(4)
	pad := strings.Repeat(" ", col)
	junk := func() {
		switch r.IntN(12) {
		case 0:
			b.WriteString("\n")
		case 1:
			fmt.Fprintf(b, "%s# note: a - b #\n", strings.Repeat(" ", r.IntN(col+3)))
		}
	}
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			b.WriteString(pad + "{}\n")
			return
		}
		keys := slices.Sorted(maps.Keys(v))
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		for _, k := range keys {
			x := v[k]
			junk()
			b.WriteString(pad)
			variantScalar(r, b, k, col, pc, true)
			b.WriteString(":")
			variantValue(r, b, x, col, w)
		}
	case []any:
		if len(v) == 0 {
			b.WriteString(pad + "[]\n")
			return
		}
		for _, x := range v {
			junk()
			b.WriteString(pad + "-")
			if m, ok := x.(map[string]any); ok && len(m) > 0 && r.IntN(3) > 0 {
				// compact: the first key on the dash's line
				b.WriteString(" ")
				var inner bytes.Buffer
				variant(r, &inner, m, col+2, col+2)
				b.Write(inner.Bytes()[col+2:])
				continue
			}
			variantValue(r, b, x, col, w)
		}
	default:
		b.WriteString(pad)
		variantScalar(r, b, v, col, pc, false)
		b.WriteString("\n")
	}
}

func variantValue(r *rand.Rand, b *bytes.Buffer, x any, col, w int) {
	switch x := x.(type) {
	case map[string]any:
		if len(x) == 0 {
			b.WriteString(" {}\n")
			return
		}
		b.WriteString("\n")
		variant(r, b, x, col+w, col)
	case []any:
		if len(x) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n")
		variant(r, b, x, col+w*r.IntN(2), col)
	default:
		b.WriteString(" ")
		variantScalar(r, b, x, col, col, false)
		if r.IntN(8) == 0 {
			b.WriteString(" # trailing")
		}
		b.WriteString("\n")
	}
}

// variantScalar writes a scalar in a style picked at random.
func variantScalar(r *rand.Rand, b *bytes.Buffer, x any, col, pc int, key bool) {
	s, isString := x.(string)
	if !isString {
		j, _ := json.Marshal(x)
		b.Write(j)
		return
	}
	fold := func(s, cont string) string {
		if key || r.IntN(3) > 0 {
			return s
		}
		return strings.ReplaceAll(s, " word", "\n"+strings.Repeat(" ", col+1+r.IntN(3))+cont+"word")
	}
	switch r.IntN(5) {
	case 0:
		b.WriteString(fold(s, ""))
	case 1:
		b.WriteString("'" + fold(strings.ReplaceAll(s, "'", "''"), "") + "'")
	case 2:
		if !key && strings.Contains(s, "\n") {
			head := "|"
			if !strings.HasSuffix(s, "\n") {
				head = "|-"
			} else if strings.HasSuffix(s, "\n\n") {
				head = "|+"
			}
			if r.IntN(4) == 0 {
				head += fmt.Sprint(1 + r.IntN(3))
			}
			b.WriteString(head)
			ind := strings.Repeat(" ", pc+1+r.IntN(3))
			for line := range strings.SplitSeq(strings.TrimSuffix(s, "\n"), "\n") {
				b.WriteString("\n" + ind + line)
			}
			return
		}
		fallthrough
	default:
		j, _ := json.Marshal(s)
		q := string(j)
		if r.IntN(3) == 0 {
			q = strings.ReplaceAll(q, `\u003c`, `\x3c`)
			q = strings.ReplaceAll(q, "é", `\u00e9`)
		}
		b.WriteString(fold(q, `\ `[:r.IntN(2)*2]))
	}
}

// mutateLines changes one line of text as a hand might break it: its
// indentation one or two columns off, dropped, doubled, or a comment, a
// blank, a quote or a colon put in.
func mutateLines(r *rand.Rand, text []byte) []byte {
	lines := strings.SplitAfter(string(text), "\n")
	i := r.IntN(len(lines))
	switch l := lines[i]; r.IntN(8) {
	case 0:
		lines[i] = strings.Repeat(" ", 1+r.IntN(2)) + l
	case 1:
		lines[i] = strings.TrimPrefix(strings.TrimPrefix(l, " "), " "[:r.IntN(2)])
	case 2:
		lines[i] = ""
	case 3:
		lines[i] = l + l
	case 4:
		lines[i] = strings.Repeat(" ", r.IntN(6)) + "# x: 'y\n" + l
	case 5:
		lines[i] = strings.Repeat(" ", r.IntN(6)) + "\n" + l
	default:
		if len(l) > 1 {
			j := r.IntN(len(l) - 1)
			lines[i] = l[:j] + []string{"'", "\"", ": ", " #", "- ", "|", "\\"}[r.IntN(7)] + l[j:]
		}
	}
	return []byte(strings.Join(lines, ""))
}

// TestYAMLJSONGenerated compares the converter with YAMLToJSONStrict on
// random objects, written as snapshot writes them (JSONToYAML) and split
// into the entries and items the streaming path converts, and written by
// hand (variant).
func TestYAMLJSONGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(28, 9))
	var c yamlJSON
	var texts, accepted [2]int // plain objects, odd ones
	var variants, variantsAccepted int
	for i := range 3000 {
		odd := i%2 == 1
		var items []any
		for range 1 + r.IntN(4) {
			m, ok := genValue(r, 4, odd).(map[string]any)
			if !ok {
				m = map[string]any{"kind": "Role"}
			}
			items = append(items, m, genValue(r, 3, odd))
		}
		j, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items, "metadata": genValue(r, 2, odd)})
		if err != nil {
			t.Fatal(err)
		}
		y, err := safe.JSONToYAML(j) // as snapshot writes YAML
		if err != nil {
			t.Fatal(err)
		}
		var parts [][]byte
		if doc, ok := splitYAMLSnapshot(y); ok {
			for e := range doc.entries {
				e := &doc.entries[e]
				if !e.list {
					parts = append(parts, doc.text(e))
				}
				for _, sp := range e.items {
					it, err := doc.read(sp, nil)
					if err != nil {
						t.Fatal(err)
					}
					it[bytes.IndexByte(it, '-')] = ' '
					parts = append(parts, it)
				}
			}
		} else if !odd {
			t.Fatalf("not split:\n%s", y)
		}
		parts = append(parts, y)
		for _, p := range parts {
			texts[i%2]++
			if checkYAMLJSON(t, &c, p) {
				accepted[i%2]++
			}
		}
		for _, it := range items {
			var b bytes.Buffer
			variant(r, &b, it, r.IntN(3), -1)
			variants++
			if checkYAMLJSON(t, &c, b.Bytes()) {
				variantsAccepted++
			}
			for range 3 {
				checkYAMLJSON(t, &c, mutateLines(r, b.Bytes()))
			}
		}
	}
	t.Logf("accepted %d of %d plain texts, %d of %d odd ones, %d of %d written by hand", accepted[0], texts[0], accepted[1], texts[1], variantsAccepted, variants)
	if accepted[0] != texts[0] {
		t.Errorf("refused %d of the %d texts JSONToYAML writes of plain objects", texts[0]-accepted[0], texts[0])
	}
	if accepted[1] < texts[1]/2 {
		t.Errorf("refused %d of the %d texts of odd objects: more than half", texts[1]-accepted[1], texts[1])
	}
	if variantsAccepted < variants/4 {
		t.Errorf("refused %d of the %d texts written by hand: more than three in four", variants-variantsAccepted, variants)
	}
}

// FuzzYAMLJSON: whatever the converter accepts, it converts as
// YAMLToJSONStrict does.
func FuzzYAMLJSON(f *testing.F) {
	for _, s := range []string{
		"a: 1\n", "  metadata:\n    name: x\n  subjects:\n  - kind: User\n",
		"a: |\n  x\n\n  y\nb: 'c''d\n\n  e'\n", "a: \"x\\\n  \\ y\"\n", "- - a\n  - b\n-\n  c: d\n",
		"a:\n- b: 1\n  c: [] # x\n", "a: 0x1F\nb: 1_0\nc: 2001-01-01\n", "k: word word\n  word\n\n  word\n",
	} {
		f.Add([]byte(s))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		v := genValue(r, 3, true)
		var b bytes.Buffer
		variant(r, &b, v, 0, -1)
		f.Add(b.Bytes())
		if j, err := json.Marshal(map[string]any{"k": v}); err == nil {
			if y, err := safe.JSONToYAML(j); err == nil {
				f.Add(y)
			}
		}
	}
	var c yamlJSON
	f.Fuzz(func(t *testing.T, text []byte) {
		checkYAMLJSON(t, &c, text)
		if !bytes.HasSuffix(text, []byte("\n")) {
			// Mutations drop the final line break, which alone is refused.
			checkYAMLJSON(t, &c, append(text, '\n'))
		}
	})
}
