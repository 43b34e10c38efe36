// Package layers holds the layering of docs/architecture.md to the import
// graph: the pure layers import neither client-go nor kubelogin, nothing
// imports upward, and the product binary carries none of the test kit.
package layers

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/kubectl-access/kubectl-access"

// below lists, for each package, the project packages it may depend on
// (directly or not). Every package of the module is listed here or among
// free (TestEveryPackageListed): a new package fails until its place is
// decided.
var below = map[string][]string{
	"cmd/kubectl-access": {"cmd", "access", "audit", "auth", "azurearm", "azurerbac", "cluster", "fix", "identity", "rbac", "source", "tui",
		"internal/safe", "internal/files", "internal/humanize", "internal/version", "internal/document", "loading", "internal/jsontext", "internal/gcpace"},
	"cmd": {"access", "audit", "auth", "azurearm", "azurerbac", "cluster", "fix", "identity", "rbac", "source", "tui",
		"internal/safe", "internal/files", "internal/humanize", "internal/version", "internal/document", "loading", "internal/jsontext", "internal/gcpace"},
	"azurearm":          {"auth", "azurerbac", "rbac", "identity", "internal/files", "internal/jsontext"},
	"internal/version":  {},
	"internal/dist":     {},
	"azurerbac":         {},
	"rbac":              {"azurerbac", "internal/jsontext"},
	"internal/safe":     {},
	"internal/document": {"internal/safe", "internal/jsontext"},
	"internal/files":    {},
	"internal/jsontext": {},
	"internal/gcpace":   {},
	"internal/humanize": {},
	"identity":          {"rbac", "azurerbac", "internal/files", "internal/jsontext"},
	"loading":           {"rbac", "azurerbac", "internal/jsontext"},
	"source":            {"rbac", "azurerbac", "loading", "internal/safe", "internal/files", "internal/jsontext", "internal/gcpace"},
	"audit":             {"rbac", "azurerbac", "identity", "internal/files", "internal/jsontext"},
	"fix":               {"rbac", "azurerbac", "identity", "audit", "internal/safe", "internal/files", "internal/jsontext"},
	"access":            {"rbac", "azurerbac", "identity", "audit", "fix", "source", "internal/safe", "internal/files", "loading", "internal/jsontext", "internal/gcpace"},
	"tui":               {"rbac", "azurerbac", "identity", "audit", "fix", "source", "access", "internal/safe", "internal/humanize", "internal/files", "loading", "internal/jsontext", "internal/gcpace"},
	"auth":              {"rbac", "azurerbac", "identity", "internal/files", "internal/jsontext"},
	"cluster":           {"rbac", "azurerbac", "identity", "audit", "fix", "source", "access", "internal/safe", "internal/files", "loading", "internal/jsontext", "internal/gcpace"},
}

// free are the packages that may import anything of the module, and why:
// tools and tests, which the product never imports (TestLayers holds
// that for the binary).
var free = map[string]string{
	"hack/":            "developer tools (make bench, demo, dist, docs, cluster)",
	"internal/testkit": "the real control plane and fixtures the tests and tools run",
	"test/":            "tests across packages",
}

// pure may not depend on client-go or kubelogin (nor, through it, on
// Azure's SDK).
var pure = []string{"azurerbac", "rbac", "identity", "loading", "source", "audit", "fix", "access", "tui", "internal/safe", "internal/humanize", "internal/files",
	"internal/jsontext", "internal/gcpace"}

var forbidden = []string{"k8s.io/client-go", "github.com/Azure/kubelogin", "github.com/Azure/azure-sdk-for-go", "github.com/spf13/cobra"}

type pkg struct {
	ImportPath string
	Deps       []string
}

func deps(t *testing.T, patterns ...string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps=false", "-json=ImportPath,Deps"}, patterns...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		m[p.ImportPath] = p.Deps
	}
	return m
}

func TestLayers(t *testing.T) {
	var patterns []string
	for p := range below {
		patterns = append(patterns, module+"/"+p)
	}
	all := deps(t, append(patterns, module+"/cmd/kubectl-access")...)
	for p, allowed := range below {
		for _, d := range all[module+"/"+p] {
			rel, ok := strings.CutPrefix(d, module+"/")
			if !ok {
				continue
			}
			if !slices.Contains(allowed, rel) {
				t.Errorf("%s imports %s: the layering of docs/architecture.md allows only %v", p, rel, allowed)
			}
		}
	}
	for _, p := range pure {
		for _, d := range all[module+"/"+p] {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s imports %s (through %s's graph): the pure layers never reach a cluster or a sign-in", p, d, p)
				}
			}
		}
	}
	for _, d := range all[module+"/cmd/kubectl-access"] {
		if strings.HasPrefix(d, module+"/internal/testkit") || strings.HasPrefix(d, module+"/test/") {
			t.Errorf("the product binary imports %s: test machinery stays out of it", d)
		}
	}
}

// TestEveryPackageListed: every package of the module has its allowed
// dependencies in below, or is free for a stated reason.
func TestEveryPackageListed(t *testing.T) {
	out, err := exec.Command("go", "list", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := 0
	for _, p := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
		if _, ok := below[rel]; ok {
			n++
			continue
		}
		if slices.ContainsFunc(slices.Collect(maps.Keys(free)), func(prefix string) bool { return strings.HasPrefix(rel, prefix) }) {
			continue
		}
		t.Errorf("package %s is in neither below nor free: decide what it may import (docs/architecture.md#layers)", rel)
	}
	if n != len(below) {
		t.Errorf("%d of the %d packages in below exist: remove the ones gone", n, len(below))
	}
}

// tuiMayCall are the functions of rbac the explorer may call: reading
// and writing, never deciding (access decides).
var tuiMayCall = []string{"RuleString", "IncompleteCause", "AzureScopeName", "BindingSubject", "ParseSubject"}

// TestExplorerOnlyAsks: the explorer decides nothing itself. It does not
// import fix, calls no deciding function of rbac, and never reaches the
// engine's index (Session.Index): every answer comes from access.
func TestExplorerOnlyAsks(t *testing.T) {
	fset := token.NewFileSet()
	funcs := map[string]bool{} // rbac's exported functions
	for _, f := range parseDir(t, fset, "../../rbac") {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.IsExported() {
				funcs[fd.Name.Name] = true
			}
		}
	}
	if !funcs["RuleAllows"] || !funcs["NewIndex"] {
		t.Fatalf("rbac's functions not found (%d): the check would pass vacuously", len(funcs))
	}
	files := 0
	for name, f := range parseDir(t, fset, "../../tui") {
		{
			files++
			for _, imp := range f.Imports {
				if imp.Path.Value == `"`+module+`/fix"` {
					t.Errorf("%s imports fix: plans, commands and files of fixes come from access", name)
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "rbac" && funcs[sel.Sel.Name] && !slices.Contains(tuiMayCall, sel.Sel.Name) {
					t.Errorf("%s: rbac.%s decides in the explorer; ask access", fset.Position(sel.Pos()), sel.Sel.Name)
				}
				if sel.Sel.Name == "Index" {
					t.Errorf("%s: the explorer reaches the engine's index; ask access", fset.Position(sel.Pos()))
				}
				return true
			})
		}
	}
	if files < 10 {
		t.Fatalf("read %d files of tui: the check would pass vacuously", files)
	}
}

// parseDir parses the non-test Go files of dir, by file name.
func parseDir(t *testing.T, fset *token.FileSet, dir string) map[string]*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*ast.File{}
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			out[name] = f
		}
	}
	return out
}
