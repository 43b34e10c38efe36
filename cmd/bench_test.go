package cmd

import (
	"io"
	"testing"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/document"
	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Writing the largest who-can answer of LARGE (who-can get pods/exec -A,
// about 5,000 subjects and 8 MB of JSON): streamed (writeDoc) against the
// whole-document encoder (printDoc), the baseline, in the same run.

func busiestAnswer(b *testing.B) *access.WhoCanAnswer {
	b.Helper()
	ix := rbac.NewIndex(large.Snapshot(1))
	a := rbac.Attributes{Verb: "get", Resource: "pods", Subresource: "exec", Namespace: large.Namespace(0)}
	ans := &access.WhoCanAnswer{APIVersion: rbac.APIVersion, Kind: "WhoCan", WhoCanResult: ix.WhoCan(a, true)}
	if len(ans.Subjects) < 1000 {
		b.Fatalf("%d subjects: not the heavy case", len(ans.Subjects))
	}
	return ans
}

func BenchmarkWriteWhoCanBusiestBaselinePrintDoc(b *testing.B) {
	ans := busiestAnswer(b)
	for b.Loop() {
		if err := printDoc(io.Discard, FormatJSON, ans); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteWhoCanBusiestStreamed(b *testing.B) {
	ans := busiestAnswer(b)
	for b.Loop() {
		if err := document.Write(io.Discard, FormatJSON, ans); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteWhoCanBusiestStreamedYAML(b *testing.B) {
	ans := busiestAnswer(b)
	for b.Loop() {
		if err := document.Write(io.Discard, FormatYAML, ans); err != nil {
			b.Fatal(err)
		}
	}
}
