package fix

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// Kubectl renders the fix as POSIX shell commands: kubectl patch
// --type=json for patches, kubectl create -f - for creates (the object as
// one line of JSON on stdin), and for a delete its guard (a JSON patch of
// test operations that changes nothing) && kubectl delete. Every word
// that comes from the cluster is quoted with safe.Shell, the comment line
// is escaped with safe.ShellComment: no object name can end a command or
// start another, and the text is printable (a name with control
// characters is in $'...'), so it is as safe to show, copy or paste as to
// run: nothing in it acts on a terminal or ends a pasted line early.
func Kubectl(fx *Fix) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n", safe.ShellComment(fx.Finding), safe.ShellComment(fx.Description))
	for _, op := range fx.Operations {
		if op.IsAzure() {
			azCommands(&b, op)
			continue
		}
		t := op.Target
		target := strings.ToLower(t.Kind) + " " + safe.Shell(t.Name)
		if t.Namespace != "" {
			target += " -n " + safe.Shell(t.Namespace)
		}
		switch op.Action {
		case Patch:
			p, _ := json.Marshal(op.Patch)
			fmt.Fprintf(&b, "kubectl patch %s --type=json -p %s\n", target, safe.Shell(string(p)))
		case Create:
			// Compact JSON has no raw newline: the object is one word.
			var obj any
			_ = json.Unmarshal(op.Object, &obj)
			j, _ := json.Marshal(obj)
			fmt.Fprintf(&b, "printf '%%s\\n' %s | kubectl create -f -\n", safe.Shell(string(j)))
		case Delete:
			g, _ := json.Marshal(op.Guard)
			fmt.Fprintf(&b, "kubectl patch %s --type=json -p %s && \\\n  kubectl delete %s\n", target, safe.Shell(string(g)), target)
		}
	}
	return b.String()
}
