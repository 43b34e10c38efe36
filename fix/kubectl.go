package fix

import (
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// Kubectl renders the fix as shell commands: kubectl patch --type=json for
// patches, kubectl create -f - for creates, and for a delete its guard
// (a JSON patch of test operations that changes nothing) && kubectl delete.
func Kubectl(fx *Fix) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n", fx.Finding, fx.Description)
	for _, op := range fx.Operations {
		t := op.Target
		target := strings.ToLower(t.Kind) + " " + quote(t.Name)
		if t.Namespace != "" {
			target += " -n " + quote(t.Namespace)
		}
		switch op.Action {
		case Patch:
			p, _ := json.Marshal(op.Patch)
			fmt.Fprintf(&b, "kubectl patch %s --type=json -p %s\n", target, quote(string(p)))
		case Create:
			y, _ := yaml.JSONToYAML(op.Object)
			fmt.Fprintf(&b, "kubectl create -f - <<'EOF'\n%sEOF\n", y)
		case Delete:
			g, _ := json.Marshal(op.Guard)
			fmt.Fprintf(&b, "kubectl patch %s --type=json -p %s && \\\n  kubectl delete %s\n", target, quote(string(g)), target)
		}
	}
	return b.String()
}

// quote single-quotes s for a POSIX shell.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
