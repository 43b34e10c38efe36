package source

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzRead: whatever the bytes, reading them ends with a snapshot that
// holds something, or an error; never a panic, never an empty success.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
		"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}\n{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"b\"}}",
		"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}} garbage",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: x}\nroleRef: {kind: ClusterRole, name: view}\nsubjects: [{kind: User, name: u}]\n",
		"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n",
		"\xff\xfea\x00p\x00i\x00",
		"---\n---\n# only comments\n",
		"apiVersion: access.kubectl.io/v1alpha1\nkind: Snapshot\nrulesAggregated: true\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		type result struct {
			r   *Result
			err error
		}
		ch := make(chan result, 1)
		go func() {
			r, err := Read(context.Background(), []string{"-"}, ReadOptions{Stdin: bytes.NewReader(data), MaxBytes: 1 << 20})
			ch <- result{r, err}
		}()
		var r *Result
		var err error
		select {
		case res := <-ch:
			r, err = res.r, res.err
		case <-time.After(10 * time.Second):
			t.Fatalf("reading %q takes more than 10 s", data)
		}
		if err != nil {
			if errors.Is(err, ErrEmpty) && !strings.Contains(err.Error(), "<stdin>") && !strings.Contains(err.Error(), "-") {
				t.Fatalf("an empty input's error names no input: %v", err)
			}
			return
		}
		s := r.Snapshot
		n := len(s.Namespaces) + len(s.ServiceAccounts) + len(s.Roles) + len(s.ClusterRoles) + len(s.RoleBindings) +
			len(s.ClusterRoleBindings) + len(s.Pods) + len(s.Nodes) + len(s.Services) + len(s.GMSACredentialSpecs) +
			len(s.MutatingWebhooks) + len(s.ValidatingWebhooks)
		if n == 0 && !s.GMSAInstalled && len(s.Gaps) == 0 && s.Probes == nil && !strings.Contains(string(data), "Snapshot") && !strings.Contains(string(data), "kind") {
			t.Fatalf("a success with nothing read from %q", data)
		}
	})
}
