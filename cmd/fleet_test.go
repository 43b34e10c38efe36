package cmd

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/source"
)

const testFleet = "../testdata/fleet"

// fleetReport decodes a FleetAuditReport.
func fleetReport(t *testing.T, js string) *audit.FleetReport {
	t.Helper()
	var rep audit.FleetReport
	if err := json.Unmarshal([]byte(js), &rep); err != nil || rep.Kind != audit.FleetKind {
		t.Fatalf("not a fleet report (%v):\n%s", err, js)
	}
	return &rep
}

// documents decodes a stream of JSON documents.
func documents[T any](t *testing.T, js string) []T {
	t.Helper()
	var out []T
	dec := json.NewDecoder(strings.NewReader(js))
	for {
		var v T
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("not a stream of documents: %v\n%s", err, js)
		}
		out = append(out, v)
	}
}

// brokenFleet is testdata/fleet plus a cluster that could not be saved
// and one whose context name is hostile.
func brokenFleet(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"prod-east.yaml", "prod-west.yaml"} {
		b, err := os.ReadFile(filepath.Join(testFleet, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err := source.WriteFleetIndex(dir, []source.FleetEntry{
		{Context: "prod-east", Server: "https://east", File: "prod-east.yaml"},
		{Context: "prod-north", Server: "https://north", Error: "Get \"https://north/api\": dial tcp: connection refused"},
		{Context: "evil\x1b[2J\nname", Server: "https://west", File: "prod-west.yaml"},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestFleetOffline: audit, who-can and can read a fleet directory as a
// fleet: the summary, each cluster's findings or each finding once with
// its clusters, the documents, SARIF, CSV, the gate, a cluster that was
// not saved, and the contexts' names escaped.
func TestFleetOffline(t *testing.T) {
	out, errOut, code := run(t, "audit", "-f", testFleet, "--group-names", "../testdata/demo/group-names.json")
	for _, want := range []string{"CLUSTER", "prod-east", "prod-west", "== prod-east (https://prod-east-dns", "== prod-west",
		"(AKS Cluster Admins) can do everything cluster-wide", "Fleet: 2 clusters (2 read whole, 0 in part, 0 not read); 4 critical"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit -f fleet: no %q (code %d)\n%s\n%s", want, code, out, errOut)
		}
	}
	if code != ExitOK || !strings.Contains(errOut, "[prod-east] Warning:") {
		t.Errorf("audit -f fleet: code %d, stderr %s", code, errOut)
	}
	if _, _, exit := run(t, "audit", "-f", testFleet, "--fail-on", "critical"); exit != ExitFailOn {
		t.Errorf("--fail-on critical: code %d", exit)
	}

	js, _, _ := run(t, "audit", "-f", testFleet, "-o", "json")
	rep := fleetReport(t, js)
	if len(rep.Clusters) != 2 || rep.Clusters[0].Context != "prod-east" || rep.Clusters[1].Status != audit.StatusOK || rep.Clusters[1].Report == nil ||
		rep.Summary.Critical != 4 || rep.Groups != nil {
		t.Errorf("-o json: %+v", rep.Summary)
	}
	js, _, _ = run(t, "audit", "-f", testFleet, "-o", "json", "--group-by", "finding")
	rep = fleetReport(t, js)
	if len(rep.Groups) == 0 || rep.Groups[0].Rule != "cluster-admin-equivalent" || !slices.Equal(rep.Groups[0].Clusters, []string{"prod-east", "prod-west"}) {
		t.Errorf("--group-by finding: %+v", rep.Groups)
	}
	out, _, _ = run(t, "audit", "-f", testFleet, "--group-by", "finding")
	if !strings.Contains(out, "on 2 of 2 clusters: prod-east, prod-west") || strings.Contains(out, "== prod-east") {
		t.Errorf("--group-by finding table:\n%s", out)
	}

	sarif, _, code := run(t, "audit", "-f", testFleet, "-o", "sarif")
	var log struct {
		Runs []struct {
			Properties map[string]string `json:"properties"`
			Results    []struct {
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(sarif), &log); err != nil || code != ExitOK || len(log.Runs) != 2 || log.Runs[1].Properties["cluster"] != "prod-west" {
		t.Fatalf("-o sarif: code %d %v\n%s", code, err, sarif)
	}
	if uri := log.Runs[1].Results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI; !strings.HasSuffix(uri, "prod-west.yaml") {
		t.Errorf("prod-west's result points at %q, not its file", uri)
	}

	csv, _, _ := run(t, "audit", "-f", testFleet, "-o", "csv")
	if !strings.HasPrefix(csv, "CLUSTER,STATUS,ID,SEVERITY") || !strings.Contains(csv, "\nprod-west,ok,cluster-admin-equivalent-") {
		t.Errorf("-o csv:\n%s", csv)
	}

	// A baseline of the same fleet leaves nothing new; one cluster's
	// report is not a fleet's.
	base := filepath.Join(t.TempDir(), "base.json")
	js, _, _ = run(t, "audit", "-f", testFleet, "-o", "json")
	if err := os.WriteFile(base, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	js, _, _ = run(t, "audit", "-f", testFleet, "-o", "json", "--baseline", base)
	if rep := fleetReport(t, js); rep.Summary.Critical+rep.Summary.High+rep.Summary.Medium+rep.Summary.Low+rep.Summary.Info != 0 ||
		rep.Clusters[0].Report.Baseline == nil || rep.Clusters[0].Report.Baseline.Suppressed == 0 {
		t.Errorf("against its own baseline: %+v", rep.Summary)
	}
	one := filepath.Join(t.TempDir(), "one.json")
	js, _, _ = run(t, "audit", "-f", filepath.Join(testFleet, "prod-east.yaml"), "-o", "json")
	if err := os.WriteFile(one, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, exit := run(t, "audit", "-f", testFleet, "--baseline", one); exit != ExitError || !strings.Contains(stderr, "one cluster's report") {
		t.Errorf("a single report as a fleet's baseline: code %d %s", exit, stderr)
	}

	// A cluster not saved is a row with its error and fails the report
	// (exit 4) unless --allow-incomplete; a finding at --fail-on is 3
	// first. A hostile context name is escaped everywhere it is printed.
	broken := brokenFleet(t)
	out, errOut, code = run(t, "audit", "-f", broken)
	if code != ExitIncomplete || !strings.Contains(out, "prod-north: error: not saved in") || !strings.Contains(out, "connection refused") ||
		!strings.Contains(errOut, "1 of 3 clusters could not be read") || !strings.Contains(out, "1 not read") {
		t.Errorf("a cluster not saved: code %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "\x1b") || strings.Contains(out, "evil\x1b") || !strings.Contains(out, `evil\x1b[2J\nname`) {
		t.Errorf("the hostile context name reached the terminal raw:\n%q", out)
	}
	if _, _, exit := run(t, "audit", "-f", broken, "--allow-incomplete"); exit != ExitOK {
		t.Errorf("--allow-incomplete: code %d", exit)
	}
	if _, _, exit := run(t, "audit", "-f", broken, "--fail-on", "critical"); exit != ExitFailOn {
		t.Errorf("--fail-on critical with a cluster not read: code %d", exit)
	}
	js, _, _ = run(t, "audit", "-f", broken, "-o", "json")
	if rep := fleetReport(t, js); rep.Clusters[1].Status != audit.StatusError || rep.Clusters[1].Report != nil || rep.Clusters[2].Context != "evil\x1b[2J\nname" {
		t.Errorf("-o json with a cluster not read: %+v", rep.Clusters)
	}

	// who-can: a document per cluster, each naming it; a table each under
	// its heading.
	js, _, code = run(t, "who-can", "get", "secrets", "-n", "payments", "-f", broken, "-o", "json")
	docs := documents[access.WhoCanAnswer](t, js)
	if code != ExitIncomplete || len(docs) != 3 || docs[0].Cluster == nil || docs[0].Cluster.Context != "prod-east" ||
		docs[1].Cluster.Error == "" || !docs[1].Incomplete || len(docs[2].Subjects) != 3 {
		t.Errorf("who-can -o json: code %d, %d documents\n%s", code, len(docs), js)
	}
	out, _, _ = run(t, "who-can", "get", "secrets", "-n", "payments", "-f", testFleet)
	if !strings.Contains(out, "== prod-west") || strings.Index(out, "system:authenticated") < strings.Index(out, "== prod-west") {
		t.Errorf("who-can table:\n%s", out)
	}
	yml, _, _ := run(t, "who-can", "get", "secrets", "-n", "payments", "-f", testFleet, "-o", "yaml")
	var parts int
	for _, d := range strings.Split(yml, "---\n")[1:] {
		var w access.WhoCanAnswer
		if err := yaml.Unmarshal([]byte(d), &w); err != nil || w.Cluster == nil {
			t.Errorf("-o yaml document %d: %v", parts, err)
		}
		parts++
	}
	if parts != 2 {
		t.Errorf("-o yaml: %d documents\n%s", parts, yml)
	}
	// CSV and Markdown: one table, the cluster first; a cluster not read
	// is a row saying so (a heading line would make the file no CSV, and
	// its "== " a spreadsheet formula).
	csvOut, _, code := run(t, "who-can", "get", "secrets", "-n", "payments", "-f", broken, "-o", "csv")
	recs, err := parseCSV(csvOut)
	if err != nil || code != ExitIncomplete || len(recs) < 4 || !slices.Equal(recs[0], []string{"CLUSTER", "SUBJECT", "DISPLAY NAME", "WHERE", "BINDING", "ROLE", "RULE", "INCOMPLETE"}) {
		t.Fatalf("who-can -o csv over a fleet: code %d, %v\n%s", code, err, csvOut)
	}
	byCluster := map[string][]string{}
	for _, r := range recs[1:] {
		byCluster[r[0]] = r
	}
	if r := byCluster["prod-north"]; r == nil || !strings.Contains(r[1], "not read") || r[7] != "true" {
		t.Errorf("who-can -o csv: the cluster not read: %q\n%s", r, csvOut)
	}
	if r := byCluster[`evil\x1b[2J\nname`]; r == nil || r[7] != "false" {
		t.Errorf("who-can -o csv: the hostile context, escaped: %q\n%s", r, csvOut)
	}
	md, _, _ := run(t, "who-can", "get", "secrets", "-n", "payments", "-f", testFleet, "-o", "markdown")
	if !strings.HasPrefix(md, "| CLUSTER | SUBJECT |") || !strings.Contains(md, "\n| prod-west | group:system:authenticated |") || strings.Contains(md, "==") {
		t.Errorf("who-can -o markdown over a fleet:\n%s", md)
	}

	// can: each cluster decided, then where it is allowed; exit 1 when
	// denied on one, 2 when unknown on one.
	out, _, code = run(t, "can", "group:system:authenticated", "get", "secrets", "-n", "payments", "-f", testFleet)
	if code != ExitDenied || !strings.Contains(out, "Across 2 clusters: allowed on 1 (prod-west); denied on 1 (prod-east)") {
		t.Errorf("can: code %d\n%s", code, out)
	}
	if _, _, exit := run(t, "can", "group:6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e01", "delete", "nodes", "-f", testFleet); exit != ExitOK {
		t.Errorf("can, allowed everywhere: code %d", exit)
	}
	out, _, code = run(t, "can", "group:6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e01", "delete", "nodes", "-f", broken)
	if code != ExitError || !strings.Contains(out, "unknown on 1 (prod-north)") {
		t.Errorf("can with a cluster not read: code %d\n%s", code, out)
	}
	js, _, _ = run(t, "can", "group:system:authenticated", "get", "secrets", "-n", "payments", "-f", testFleet, "-o", "json")
	cans := documents[access.CanAnswer](t, js)
	if len(cans) != 2 || cans[0].Allowed || !cans[1].Allowed || cans[1].Cluster.Context != "prod-west" {
		t.Errorf("can -o json: %+v", cans)
	}

	// What reads one cluster says so.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"what-can", "user:x", "-f", testFleet}, "a fleet of 2 clusters' snapshots"},
		{[]string{"what-can", "user:x", "--context", "a", "--context", "b"}, "--context is given 2 times"},
		{[]string{"audit", "-f", testFleet, "-f", "../testdata/demo"}, "give it alone"},
		{[]string{"audit", "--group-by", "finding", "-f", "../testdata/demo"}, "--group-by finding joins several clusters"},
		{[]string{"audit", "--contexts", "prod-*", "-f", testFleet}, "give one or the other"},
		{[]string{"audit", "--all-contexts", "--parallel", "0"}, "--parallel 0"},
		{[]string{"snapshot", "--all-contexts"}, "give --dir DIR"},
		{[]string{"snapshot", "--dir", t.TempDir()}, "--dir is for several clusters"},
	} {
		if _, errOut, code := run(t, tc.args...); code != ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestPrefixed: a fleet's warnings are headed by their cluster line by
// line, also when a line comes in pieces.
func TestPrefixed(t *testing.T) {
	var b bytes.Buffer
	w := clusterErrOut(&b, "a\x1bb")
	for _, s := range []string{"one\ntw", "o\nthree\n"} {
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
	}
	if want := "[a\\x1bb] one\n[a\\x1bb] two\n[a\\x1bb] three\n"; b.String() != want {
		t.Errorf("%q, want %q", b.String(), want)
	}
}

// TestProgressLine: a line per cluster as it ends, counted in the order
// they end, failures with their error, hostile names escaped.
func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := progressLine(&b)
	p(access.Progress{Index: 1, Of: 3, Context: "b"})
	p(access.Progress{Index: 1, Of: 3, Context: "b", Done: true, Took: 1234 * time.Millisecond, Incomplete: true})
	p(access.Progress{Index: 0, Of: 3, Context: "a\x1b[2J", Done: true, Err: errors.New("dial tcp: connection refused")})
	p(access.Progress{Index: 2, Of: 3, Context: "c", Done: true, Took: 41234 * time.Microsecond})
	want := "[1/3] b: read in 1.2s, incomplete (parts could not be read)\n[2/3] a\\x1b[2J: failed: dial tcp: connection refused\n[3/3] c: read in 41ms\n"
	if b.String() != want {
		t.Errorf("%q, want %q", b.String(), want)
	}
}

// TestFleetDocStreamed: the fleet's document, written a cluster's report
// at a time, is printDoc's byte for byte in JSON and the same document in
// YAML, with a cluster not read, empty reports and groups.
func TestFleetDocStreamed(t *testing.T) {
	js, _, _ := run(t, "audit", "-f", brokenFleet(t), "-o", "json", "--group-by", "finding")
	rep := fleetReport(t, js)
	rep.Clusters = append(rep.Clusters, audit.FleetCluster{Context: "empty", Status: audit.StatusOK, Report: &audit.Report{APIVersion: "v", Kind: "AuditReport", Findings: []audit.Finding{}}})
	for _, c := range rep.Clusters {
		if c.Report != nil {
			c.Report.SharePaths() // as the command writes them
		}
	}
	for _, r := range []*audit.FleetReport{rep, audit.NewFleetReport(nil)} {
		var want, got bytes.Buffer
		if err := printDoc(&want, FormatJSON, r); err != nil {
			t.Fatal(err)
		}
		if err := writeFleetDoc(&got, FormatJSON, r); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("JSON differs from printDoc's:\n%s\nwant\n%s", got.String(), want.String())
		}
		want.Reset()
		got.Reset()
		if err := printDoc(&want, FormatYAML, r); err != nil {
			t.Fatal(err)
		}
		if err := writeFleetDoc(&got, FormatYAML, r); err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := yaml.Unmarshal(got.Bytes(), &a); err != nil {
			t.Fatalf("streamed YAML: %v\n%s", err, got.String())
		}
		if err := yaml.Unmarshal(want.Bytes(), &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("YAML differs from printDoc's:\n%s\nwant\n%s", got.String(), want.String())
		}
	}
}

// parseCSV reads a whole CSV output as a spreadsheet or a script would.
func parseCSV(s string) ([][]string, error) { return csv.NewReader(strings.NewReader(s)).ReadAll() }
