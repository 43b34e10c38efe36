package source

import (
	"bufio"
	"bytes"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// TestCountLists: the elements of each top-level array, whatever they
// hold (strings with brackets, commas and escaped quotes, nested lists),
// and nothing for keys whose value is not an array.
func TestCountLists(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[string]int
	}{
		{`{}`, map[string]int{}},
		{`{"roles": []}`, map[string]int{}},
		{`{"roles": [ {"a": [1,2,3]}, {"b": "],[{\"x"} ], "pods": null}`, map[string]int{"roles": 2}},
		{`{"kind":"Snapshot","roleBindings":[{},{},{}],"azure":{"assignments":[{},{}]},"nodes":["a,b"]}`,
			map[string]int{"roleBindings": 3, "nodes": 1}},
		{"{\n  \"namespaces\": [\n    {\"x\": 1},\n    {\"y\": [[],[]]}\n  ]\n}", map[string]int{"namespaces": 2}},
		{`{"ro\"les": [1, 2]}`, map[string]int{`ro\"les`: 2}},
		{`{"roles": [{}, {`, map[string]int{"roles": 2}}, // cut short: what was counted
	} {
		if got := countLists(bytes.NewReader([]byte(c.in))); !maps.Equal(got, c.want) {
			t.Errorf("countLists(%s) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestYAMLDocuments: the documents and errors k8s.io/apimachinery's
// YAMLReader gives, as slices of the input.
func TestYAMLDocuments(t *testing.T) {
	inputs := []string{
		"", "a: 1", "a: 1\n", "---\na: 1\n---\nb: 2\n", "a: 1\n---\n---\n\nb: 2", "--- # c\na: 1\n--- \nb: 2\n",
		"a: 1\n----\nb: 2\n", "a: 1\n---x\n", "a: |\n  ---\n  x\n", " ---\na: 1\n", "---", "\n\n---\n\n", "a: 1\r\n---\r\nb: 2\r\n",
		"a: 1\n--- b: 2\n", "a: 1\r", "a\r\r\n---\r\n",
	}
	// And inputs made at random of the pieces that matter.
	pieces := []string{"---", "\n", "\r\n", "a: 1", " ", "#", "-", "\r", "x"}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		var b strings.Builder
		for range rnd.IntN(12) {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		var want [][]byte
		var wantErr error
		r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(in)))
		for {
			doc, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				wantErr = err
				break
			}
			want = append(want, doc)
		}
		got, err := yamlDocuments([]byte(in))
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Errorf("%q: error %v, want %v", in, err, wantErr)
			continue
		}
		if err == nil && !slices.EqualFunc(got, want, bytes.Equal) {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
