package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
)

// TestAuditGroupBy: on the demo (a few dozen findings) the table lists
// each finding; --group-by shows one grouping whole, in the table, in
// CSV and in the document.
func TestAuditGroupBy(t *testing.T) {
	out, errOut, code := run(t, "audit", "-f", "../testdata/demo/cluster.yaml")
	if code != ExitOK || strings.Contains(out, "summarised") || !strings.Contains(out, "cluster-admin-equivalent-") {
		t.Fatalf("audit of the demo: code %d, want each finding listed\n%s\n%s", code, out, errOut)
	}
	for _, tc := range []struct {
		by, want, row string
	}{
		{"rule", "RULE  ", "cluster-admin-equivalent  "},
		{"subject", "SUBJECT  ", "REACH"},
		{"binding", "BINDING  ", "REMOVES"},
	} {
		out, errOut, code = run(t, "audit", "-f", "../testdata/demo/cluster.yaml", "--group-by", tc.by)
		if code != ExitOK || !strings.Contains(out, "findings "+groupTitle(audit.GroupBy(tc.by))) || !strings.Contains(out, tc.want) || !strings.Contains(out, tc.row) {
			t.Errorf("--group-by %s: code %d\n%s\n%s", tc.by, code, out, errOut)
		}
		for _, other := range audit.Groupings {
			if string(other) != tc.by && strings.Contains(out, groupTitle(other)) {
				t.Errorf("--group-by %s shows %s too:\n%s", tc.by, groupTitle(other), out)
			}
		}
		js, _, _ := run(t, "audit", "-f", "../testdata/demo/cluster.yaml", "--group-by", tc.by, "-o", "json")
		var rep audit.Report
		if err := json.Unmarshal([]byte(js), &rep); err != nil || len(rep.Groups) == 0 || rep.Groups[0].By != audit.GroupBy(tc.by) || rep.Groups[0].Count == 0 {
			t.Errorf("--group-by %s -o json: %v, groups %+v", tc.by, err, rep.Groups)
		}
	}
	csv, _, _ := run(t, "audit", "-f", "../testdata/demo/cluster.yaml", "--group-by", "rule", "-o", "csv")
	if !strings.HasPrefix(csv, "RULE,SEVERITY,FINDINGS,SUBJECTS,BINDINGS,NAMESPACES,EXAMPLE,INCOMPLETE\n") || !strings.Contains(csv, "\ncluster-admin-equivalent,critical,") {
		t.Errorf("--group-by rule -o csv:\n%s", csv)
	}
	if csv, _, _ := run(t, "audit", "-f", "../testdata/demo/cluster.yaml", "-o", "csv"); !strings.HasPrefix(csv, "ID,SEVERITY,RULE,") {
		t.Errorf("-o csv without --group-by: want a row a finding\n%s", csv)
	}
	if _, errOut, code := run(t, "audit", "-f", "../testdata/demo/cluster.yaml", "--group-by", "namespace"); code != ExitError || !strings.Contains(errOut, "use rule, subject or binding") {
		t.Errorf("--group-by namespace: code %d, %s", code, errOut)
	}
	// A fleet groups each cluster's findings the same way.
	out, _, _ = run(t, "audit", "-f", testFleet, "--group-by", "binding")
	if strings.Count(out, "findings BY BINDING") != 2 || !strings.Contains(out, "== prod-west") {
		t.Errorf("a fleet --group-by binding: want each cluster's bindings\n%s", out)
	}
}

// TestAuditSummarisesAtScale: past 200 findings the table is a summary
// that fits on a few screens and names the top risks; --all lists them.
func TestAuditSummarisesAtScale(t *testing.T) {
	z := large.Scaled(10)
	z.Dense = true
	b, err := json.Marshal(large.Generate(1, z))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dense.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	js, _, _ := run(t, "audit", "-f", file, "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil || len(rep.Findings) <= audit.SummarizeAbove {
		t.Fatalf("the scaled dense LARGE: %v, %d findings, want more than %d", err, len(rep.Findings), audit.SummarizeAbove)
	}
	out, errOut, code := run(t, "audit", "-f", file)
	lines := strings.Count(out, "\n")
	if code != ExitOK || lines > 3*45 {
		t.Errorf("audit of %d findings: code %d, %d lines, want a few screens\n%s\n%s", len(rep.Findings), code, lines, out, errOut)
	}
	for _, want := range []string{"more than 200: summarised", "BY RULE", "BY SUBJECT", "BY BINDING", "escalation-path ", "ClusterRoleBinding deployers-everything"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
	all, _, _ := run(t, "audit", "-f", file, "--all")
	if n := strings.Count(all, "\n  "); n < len(rep.Findings) {
		t.Errorf("--all: %d findings listed of %d", n, len(rep.Findings))
	}
}
