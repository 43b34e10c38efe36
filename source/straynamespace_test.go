package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestClusterScopedStrayNamespace: a ClusterRoleBinding given twice, once
// with a metadata.namespace (as some charts and manifests ship them), is
// one object, as the API server and kubectl apply keep one: the last copy
// counts, so a subject the later copy dropped keeps no access offline.
func TestClusterScopedStrayNamespace(t *testing.T) {
	f := filepath.Join(t.TempDir(), "crbs.yaml")
	if err := os.WriteFile(f, []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: agent, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: old-agent}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: agent}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: new-agent}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Read(t.Context(), []string{f}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	crbs := res.Snapshot.ClusterRoleBindings
	if len(crbs) != 1 || crbs[0].Namespace != "" || crbs[0].Subjects[0].Name != "new-agent" {
		t.Fatalf("ClusterRoleBindings read: %+v", crbs)
	}
	ix := rbac.NewIndex(res.Snapshot)
	if ix.Can(rbac.Subject{Kind: rbac.UserKind, Name: "old-agent"}.Identity(), rbac.Attributes{Verb: "get", Resource: "pods", Namespace: "x"}).Allowed {
		t.Error("the subject the later copy replaced keeps its access")
	}
	var stray, dup bool
	for _, w := range res.Warnings {
		stray = stray || w.Code == WarnStrayNamespace && strings.Contains(w.Message, `metadata.namespace "kube-system" is ignored`)
		dup = dup || w.Code == WarnDuplicate && strings.Contains(w.Message, "given twice and the two differ")
	}
	if !stray || !dup {
		t.Errorf("warnings %v: want the stray namespace and the duplicate said", res.Warnings)
	}
}
