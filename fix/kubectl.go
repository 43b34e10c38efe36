package fix

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// Kubectl renders the fix as POSIX shell commands, in the order Apply
// runs them (Ordered: the removals first, then the creates) and joined
// with && so that a step that fails stops the rest: a narrowing fix whose
// ClusterRoleBinding could not be deleted adds no RoleBinding.
//
// A patch is kubectl patch --type=json (its test operations guard what it
// removes or replaces); a create is kubectl create -f - (the object as one
// line of JSON on stdin); a delete is its guard (a JSON patch of test
// operations that changes nothing), whose result gives the object's uid
// and resourceVersion to a DELETE with those preconditions (kubectl
// delete --raw, the only kubectl delete that takes them): the server
// deletes the object that passed the guard, or nothing. Azure role
// assignments are az role assignment commands.
//
// Every word that comes from the cluster is quoted with safe.Shell, the
// comment line is escaped with safe.ShellComment: no object name can end
// a command or start another, and the text is printable (a name with
// control characters is in $'...'), so it is as safe to show, copy or
// paste as to run: nothing in it acts on a terminal or ends a pasted line
// early.
func Kubectl(fx *Fix) string {
	var cmds []string
	for _, op := range Ordered(fx.Operations) {
		if op.IsAzure() {
			cmds = append(cmds, azCommand(op))
			continue
		}
		if op.IsAKS() {
			cmds = append(cmds, aksCommand(op))
			continue
		}
		if op.IsCredential() {
			cmds = append(cmds, credentialCommand(op))
			continue
		}
		cmds = append(cmds, kubectlCommand(op))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n", safe.ShellComment(fx.Finding), safe.ShellComment(fx.Description))
	if len(cmds) > 0 {
		b.WriteString(strings.Join(cmds, chain) + "\n")
	}
	return b.String()
}

// chain ends a command whose success the next one needs, and indents the
// next: every line of the text but the last ends with it, so a paste runs
// it as one list (a failing step stops it).
const chain = " && \\\n  "

// Ordered is the order a fix's operations are applied and printed in:
// the removals (patches and deletes, which only take access away) first,
// then the creates (the grants a narrowing fix adds), each group in the
// fix's order. A failure part-way then leaves less access, never more: a
// narrowing fix whose cluster-wide binding is still there adds nothing.
func Ordered(ops []Operation) []Operation {
	out := slices.Clone(ops)
	slices.SortStableFunc(out, func(a, b Operation) int {
		return cmp.Compare(b2i(a.Action == Create), b2i(b.Action == Create))
	})
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// kubectlCommand is one operation as kubectl commands.
func kubectlCommand(op Operation) string {
	t := op.Target
	target := strings.ToLower(t.Kind) + " " + safe.Shell(t.Name)
	if t.Namespace != "" {
		target += " -n " + safe.Shell(t.Namespace)
	}
	switch op.Action {
	case Patch:
		p, _ := json.Marshal(op.Patch)
		return fmt.Sprintf("kubectl patch %s --type=json -p %s", target, safe.Shell(string(p)))
	case Create:
		// Compact JSON has no raw newline: the object is one word.
		var obj any
		_ = json.Unmarshal(op.Object, &obj)
		j, _ := json.Marshal(obj)
		return fmt.Sprintf("printf '%%s\\n' %s | kubectl create -f -", safe.Shell(string(j)))
	}
	// Delete.
	g, _ := json.Marshal(op.Guard)
	guard := fmt.Sprintf("kubectl patch %s --type=json -p %s", target, safe.Shell(string(g)))
	path, ok := objectPath(op)
	if !ok {
		return guard + chain + "kubectl delete " + target
	}
	return fmt.Sprintf("%s=$(%s -o %s)%sprintf '%%s\\n' \"$%s\" | kubectl delete --raw %s -f -",
		guardVar, guard, safe.Shell(preconditionsTemplate), chain, guardVar, safe.Shell(path))
}

// guardVar holds, between a delete's guard and the delete, the
// DeleteOptions whose preconditions are the guarded object's.
const guardVar = "kubectl_access_guard"

// preconditionsTemplate makes kubectl patch print the DeleteOptions that
// delete exactly the object it patched (its uid and resourceVersion,
// which a patch of test operations does not change). Printed whatever the
// object holds, it is never empty: a field the object lacked would read
// "<no value>", which no object matches.
const preconditionsTemplate = `go-template={"apiVersion":"v1","kind":"DeleteOptions","preconditions":{"uid":"{{.metadata.uid}}","resourceVersion":"{{.metadata.resourceVersion}}"}}`

// objectPath is the API path of a delete's target, its name and
// namespace escaped as path segments, for kubectl delete --raw; false
// for a kind the fixes do not delete.
func objectPath(op Operation) (string, bool) {
	resource, ok := map[string]string{
		"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
		"Role": "roles", "RoleBinding": "rolebindings",
	}[op.Target.Kind]
	if !ok {
		return "", false
	}
	p := "/apis/rbac.authorization.k8s.io/v1"
	if op.Target.Namespace != "" {
		p += "/namespaces/" + url.PathEscape(op.Target.Namespace)
	}
	return p + "/" + resource + "/" + url.PathEscape(op.Target.Name), true
}
