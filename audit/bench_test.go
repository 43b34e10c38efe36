package audit_test

import (
	"testing"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// BenchmarkLargeAudit runs every rule over the LARGE snapshot in memory;
// BenchmarkLargeAuditIndex is the index it starts from, measured in the
// same run as its baseline.
func BenchmarkLargeAudit(b *testing.B) {
	ix := rbac.NewIndex(large.Snapshot(1))
	for b.Loop() {
		if len(audit.Run(ix, audit.Options{}).Findings) == 0 {
			b.Fatal("no findings")
		}
	}
}

func BenchmarkLargeAuditIndex(b *testing.B) {
	s := large.Snapshot(1)
	for b.Loop() {
		rbac.NewIndex(s)
	}
}
