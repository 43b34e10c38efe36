package source

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestStreamedReadsTheSame: a snapshot read an object at a time (from a
// JSON file, from stdin, from a YAML document split into its entries and
// items) gives exactly what decoding it whole gives, and, when it is
// broken or laid out otherwise, the same error at the same line.
func TestStreamedReadsTheSame(t *testing.T) {
	s := large.Generate(1, large.Scaled(50))
	s.Kind, s.APIVersion = rbac.SnapshotKind, rbac.APIVersion
	s.Source = "context test"
	s.Gaps = []rbac.Gap{{Resource: "pods", Reason: "forbidden"}}
	j, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		t.Fatal(err)
	}
	ns := "namespaces:\n"
	indented := strings.ReplaceAll(string(y), "\n- ", "\n  - ") // sequences indented, as other writers do
	role := "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: a}\n"
	docs := map[string]string{
		"json":                    string(j),
		"json then a Role":        string(j) + `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r","namespace":"team-000"}}`,
		"json, a list twice":      strings.Replace(string(j), "{\n", "{\n  \"namespaces\": [{\"metadata\":{\"name\":\"x\"}}],\n", 1),
		"json, unknown field":     strings.Replace(string(j), "{\n", "{\n  \"extra\": 1,\n", 1),
		"json, broken":            strings.Replace(string(j), `"roleRef": {`, `"roleRef": {]`, 1),
		"json, cut":               string(j[:len(j)/2]),
		"yaml":                    string(y),
		"yaml indented":           indented,
		"yaml then a Role":        string(y) + role,
		"yaml, comments":          strings.Replace(string(y), ns, "# the namespaces\n"+ns+"# first\n", 1),
		"yaml, an anchor":         strings.Replace(string(y), "roleRef:", "roleRef: &ref", 1),
		"yaml, key twice":         string(y) + "source: again\n",
		"yaml, item key twice":    strings.Replace(string(y), "  roleRef:", "  subjects: []\n  roleRef:", 1),
		"yaml, unknown field":     string(y) + "extra: 1\n",
		"yaml, item keys by case": strings.Replace(string(y), "  roleRef:", "  RoleRef: {}\n  roleRef:", 1),
		"yaml, a boolean label":   strings.Replace(string(y), "  metadata:\n", "  metadata:\n    labels:\n      a: yes\n", 1),
		"yaml, a string label":    strings.Replace(string(y), "  metadata:\n", "  metadata:\n    labels:\n      a: 'yes'\n      b: \"1\"\n      c: |\n        x\n", 1),
		"yaml, bad item":          strings.Replace(string(y), "  roleRef:", "  roleRef: [\n  roleRef2:", 1),
		"yaml, a flow list":       strings.Replace(string(y), ns, "namespaces: [{metadata: {name: x}}]\nnotnamespaces:\n", 1),
		"yaml, tab":               strings.Replace(string(y), ns, "\tx: 1\n"+ns, 1),
		"yaml, crlf":              strings.ReplaceAll(string(y), "\n", "\r\n"),
		"yaml, leading comments":  "# saved by hand\n\n#\n" + string(y),
		"yaml, no last newline":   strings.TrimSuffix(string(y), "\n"),
		"yaml, leading separator": "---\n" + string(y),
		"yaml, not utf-8":         strings.Replace(string(y), ns, "# caf\xe9\n"+ns, 1),
	}
	list := struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   any    `json:"metadata"`
		Items      []any  `json:"items"`
	}{APIVersion: "v1", Kind: "List", Metadata: map[string]string{"resourceVersion": ""}}
	for _, r := range s.Roles {
		r.APIVersion, r.Kind = "rbac.authorization.k8s.io/v1", "Role"
		list.Items = append(list.Items, r)
	}
	for _, b := range s.RoleBindings {
		b.APIVersion, b.Kind = "rbac.authorization.k8s.io/v1", "RoleBinding"
		list.Items = append(list.Items, b)
	}
	lj, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	ly, err := yaml.JSONToYAML(lj)
	if err != nil {
		t.Fatal(err)
	}
	docs["yaml list"] = string(ly)
	docs["yaml list, indented"] = strings.ReplaceAll(string(ly), "\n- ", "\n  - ")
	docs["yaml list, then a Role"] = string(ly) + role
	docs["yaml list, bad metadata"] = strings.Replace(string(ly), "metadata:\n  resourceVersion", "metadata:\n  resourceVersion: [\n  x", 1)
	docs["yaml list, bad item"] = strings.Replace(string(ly), "  roleRef:", "  roleRef: [\n  roleRef2:", 1)
	docs["yaml list, item key twice"] = strings.Replace(string(ly), "  roleRef:", "  subjects: []\n  roleRef:", 1)
	docs["yaml list, unknown field"] = strings.Replace(string(ly), "  roleRef:", "  extra: 1\n  roleRef:", 1)
	docs["yaml list, an alias"] = strings.Replace(string(ly), "  roleRef:", "  x: *y\n  roleRef:", 1)
	dir := t.TempDir()
	for name, doc := range docs {
		p := filepath.Join(dir, "in.json")
		if strings.HasPrefix(name, "yaml") {
			p = filepath.Join(dir, "in.yaml")
		}
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		read := func(path string, stdin string, min int) (*Result, error) {
			defer func(m int, s bool) { yamlStreamMin, spoolStdin = m, s }(yamlStreamMin, spoolStdin)
			yamlStreamMin, spoolStdin = min, min == 0
			return Read(t.Context(), []string{path}, ReadOptions{Stdin: strings.NewReader(stdin)})
		}
		whole, werr := read("-", doc, 1<<40) // stdin held in memory: read whole, never split
		for how, path := range map[string]string{"file": p, "stdin": "-"} {
			got, err := read(path, doc, 0)
			if (err == nil) != (werr == nil) || err != nil && strings.ReplaceAll(err.Error(), p, "<stdin>") != strings.ReplaceAll(werr.Error(), p, "<stdin>") {
				t.Errorf("%s from %s: %v, want %v", name, how, err, werr)
				continue
			}
			if err != nil {
				continue
			}
			got.Snapshot.Source, whole.Snapshot.Source = "", ""
			for k, l := range got.Locations {
				l.File = "<stdin>"
				got.Locations[k] = l
			}
			if !reflect.DeepEqual(got.Snapshot, whole.Snapshot) || !reflect.DeepEqual(got.Locations, whole.Locations) ||
				!reflect.DeepEqual(warnings(got.Warnings, p), warnings(whole.Warnings, p)) {
				t.Errorf("%s from %s: read otherwise than whole", name, how)
			}
		}
	}
}

func warnings(ws []rbac.Warning, p string) []string {
	var out []string
	for _, w := range ws {
		out = append(out, strings.ReplaceAll(w.Message, p, "<stdin>"))
	}
	return out
}

// TestStreamedSnapshotAsWhole: a JSON snapshot read an object at a time
// holds what decoding it whole and merging it, as the reader did before,
// holds.
func TestStreamedSnapshotAsWhole(t *testing.T) {
	s := large.Generate(1, large.Scaled(50))
	s.Kind, s.APIVersion = rbac.SnapshotKind, rbac.APIVersion
	j, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var whole rbac.Snapshot
	d := json.NewDecoder(bytes.NewReader(j))
	d.DisallowUnknownFields()
	if err := d.Decode(&whole); err != nil {
		t.Fatal(err)
	}
	at := Location{File: "<stdin>", Line: 1}
	want := newLoader(ReadOptions{})
	if err := want.addSnapshot(&whole, at); err != nil {
		t.Fatal(err)
	}
	want.finish()
	got, err := Read(t.Context(), []string{"-"}, ReadOptions{Stdin: bytes.NewReader(j)})
	if err != nil {
		t.Fatal(err)
	}
	got.Snapshot.Source = ""
	if !reflect.DeepEqual(got.Snapshot, want.snap) || !reflect.DeepEqual(got.Locations, want.where) {
		t.Error("streamed otherwise than decoded whole")
	}
}
