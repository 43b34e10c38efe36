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

// BenchmarkDenseAudit runs every rule over the dense LARGE (about twice
// LARGE's findings); BenchmarkDenseAuditIndex is its baseline, the index
// it starts from, and BenchmarkDenseGroups and BenchmarkDenseSharePaths
// what the table's summary and the document's tables add to it.
func BenchmarkDenseAudit(b *testing.B) {
	ix := rbac.NewIndex(large.Generate(1, large.DenseLarge))
	for b.Loop() {
		if len(audit.Run(ix, audit.Options{}).Findings) == 0 {
			b.Fatal("no findings")
		}
	}
}

func BenchmarkDenseAuditIndex(b *testing.B) {
	s := large.Generate(1, large.DenseLarge)
	for b.Loop() {
		rbac.NewIndex(s)
	}
}

func BenchmarkDenseGroups(b *testing.B) {
	rep := audit.Run(rbac.NewIndex(large.Generate(1, large.DenseLarge)), audit.Options{})
	for b.Loop() {
		for _, by := range audit.Groupings {
			audit.Groups(rep.Findings, by, false)
		}
	}
}

func BenchmarkDenseSharePaths(b *testing.B) {
	rep := audit.Run(rbac.NewIndex(large.Generate(1, large.DenseLarge)), audit.Options{})
	for b.Loop() {
		rep.SharePaths()
	}
}
