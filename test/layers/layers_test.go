// Package layers holds the layering of docs/architecture.md to the import
// graph: the pure layers import neither client-go nor kubelogin, nothing
// imports upward, and the product binary carries none of the test kit.
package layers

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/kubectl-access/kubectl-access"

// below lists, for each package, the project packages it may depend on
// (directly or not). Only the packages listed are checked: cmd, azurearm,
// internal/version, internal/dist and the test kit are not (see
// docs/architecture.md#what-the-layering-test-enforces).
var below = map[string][]string{
	"azurerbac":         {},
	"rbac":              {"azurerbac"},
	"internal/safe":     {},
	"internal/files":    {},
	"internal/humanize": {},
	"identity":          {"rbac", "azurerbac", "internal/files"},
	"source":            {"rbac", "azurerbac", "internal/safe", "internal/files"},
	"audit":             {"rbac", "azurerbac", "identity", "internal/files"},
	"fix":               {"rbac", "azurerbac", "identity", "audit", "internal/safe", "internal/files"},
	"access":            {"rbac", "azurerbac", "identity", "audit", "fix", "source", "internal/safe", "internal/files"},
	"tui":               {"rbac", "azurerbac", "identity", "audit", "fix", "source", "access", "internal/safe", "internal/humanize", "internal/files"},
	"auth":              {"rbac", "azurerbac", "identity", "internal/files"},
	"cluster":           {"rbac", "azurerbac", "identity", "audit", "fix", "source", "access", "internal/safe", "internal/files"},
}

// pure may not depend on client-go or kubelogin (nor, through it, on
// Azure's SDK).
var pure = []string{"azurerbac", "rbac", "identity", "source", "audit", "fix", "access", "tui", "internal/safe", "internal/humanize", "internal/files"}

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
