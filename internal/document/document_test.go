package document

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/internal/jsontext"
)

// Types shaped like the tool's documents: a list in an embedded struct
// (as rbac.WhoCanResult is in the WhoCan answer), lists at the top, one
// not tagged, one left out when empty, and fields between them.
type (
	inner struct {
		Items []item `json:"items" document:"stream"`
		Note  string `json:"note,omitempty"`
	}
	item struct {
		Name string   `json:"name"`
		Tags []string `json:"tags,omitempty"`
	}
	doc struct {
		Kind  string `json:"kind"`
		inner `json:",inline"`
		More  []item    `json:"more,omitempty" document:"stream"`
		Plain []item    `json:"plain"`
		Empty []item    `json:"empty,omitempty" document:"stream"`
		Skip  []item    `json:"-" document:"stream"`
		Own   []ownItem `json:"own" document:"stream"`
		Tail  map[string]int
	}
	// ownItem writes its own JSON (jsontext.Appender), which Write appends
	// without encoding/json.
	ownItem struct{ Name string }
)

func (o ownItem) MarshalJSON() ([]byte, error) { return o.AppendJSON(nil) }

func (o ownItem) AppendJSON(b []byte) ([]byte, error) {
	return append(jsontext.AppendString(append(b, `{"own name":`...), o.Name), '}'), nil
}

// Strings that stress both encoders: long enough for YAML to fold, with
// newlines, quotes, list and key syntax, numbers and booleans as text.
var awkward = []string{
	"m\n\"q\" <&>", strings.Repeat("a long message with spaces that YAML folds ", 6), "- not an item",
	"roles:\n- x", "\n  \"items\": [\n", "0123", "yes", "null", "", "über ✓ \u202e\x1b[2J",
}

// Write writes byte for byte what Print writes, whatever the lists' sizes.
func TestWriteIsPrint(t *testing.T) {
	for _, format := range []string{JSON, YAML} {
		for _, n := range []int{0, 1, 2, 255, 256, 257, 700} {
			d := &doc{Kind: awkward[n%len(awkward)], Tail: map[string]int{"z": 1, "a": n}}
			for i := range n {
				d.Items = append(d.Items, item{Name: awkward[i%len(awkward)], Tags: []string{awkward[(i+3)%len(awkward)]}})
				if i%2 == 0 {
					d.More = append(d.More, item{Name: fmt.Sprint(i)})
				}
				d.Plain = append(d.Plain, item{Name: "p"})
				d.Own = append(d.Own, ownItem{Name: awkward[(i+5)%len(awkward)]})
			}
			d.Skip = d.Items
			var want, got bytes.Buffer
			if err := Print(&want, format, d); err != nil {
				t.Fatal(err)
			}
			if err := Write(&got, format, d); err != nil {
				t.Fatalf("%s, %d: %v", format, n, err)
			}
			if !bytes.Equal(want.Bytes(), got.Bytes()) {
				t.Fatalf("%s, %d items: Write differs from Print:\n--- want\n%.800s\n--- got\n%.800s", format, n, want.String(), got.String())
			}
			// The document written is the caller's, untouched.
			if len(d.Items) != n {
				t.Fatalf("Write cut the caller's list to %d", len(d.Items))
			}
		}
	}
	// Not a struct: printed whole.
	var a, b bytes.Buffer
	_ = Print(&a, JSON, []int{1, 2, 3})
	if err := Write(&b, JSON, []int{1, 2, 3}); err != nil || a.String() != b.String() {
		t.Errorf("a list: %q, want %q (%v)", b.String(), a.String(), err)
	}
	var nilDoc *doc
	if err := Write(&b, JSON, nilDoc); err != nil {
		t.Errorf("a nil document: %v", err)
	}
}

// split finds the tagged lists, the embedded struct's too, by their JSON
// keys, and leaves the untagged and the json:"-" ones whole.
func TestSplitFindsTheTags(t *testing.T) {
	d := doc{inner: inner{Items: make([]item, 3)}, More: make([]item, 2), Plain: make([]item, 4), Skip: make([]item, 5)}
	head, lists := split(&d)
	var keys []string
	for _, l := range lists {
		keys = append(keys, fmt.Sprintf("%s:%d", l.key, l.n))
	}
	if got := strings.Join(keys, " "); got != "items:3 more:2 empty:0 own:0" {
		t.Errorf("streamed lists = %q", got)
	}
	h := head.(*doc)
	if len(h.Items) != 1 || len(h.More) != 1 || len(h.Plain) != 4 || len(h.Skip) != 5 {
		t.Errorf("head: items %d more %d plain %d skip %d", len(h.Items), len(h.More), len(h.Plain), len(h.Skip))
	}
	// A document whose list is not where the head says is an error, not
	// a wrong document.
	if err := splice(&bytes.Buffer{}, JSON, map[string]any{"other": []int{}}, streamed{key: "findings", n: 2, batch: func(_ []byte, lo, hi int) ([]byte, error) { return json.Marshal([]int{1, 2}[lo:hi]) }}); err == nil {
		t.Error("a document without the key was accepted")
	}
}

// indent is json.Indent for compact JSON: the same bytes for every valid
// document (fuzzed; the seeds cover escapes, nesting and empty values).
func FuzzIndent(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `[{}]`, `{"a":[]}`, `{"a":{"b":[1,2,{"c":null}]},"d":"x"}`,
		`"a\"b\\"`, `["\\\\",":,[{","\u2028"]`, `{"\"":"\\\"{"}`, `[true,false,-1.5e10,0]`,
		`[[[[]]],[[{}]]]`, `{"k":"v","e":{},"l":[[],{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), "  ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := indent(nil, compact.Bytes(), "  ", "  "); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("indent(%q) =\n%s\nwant\n%s", compact.Bytes(), got, want.Bytes())
		}
	})
}
