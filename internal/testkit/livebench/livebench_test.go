package livebench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/internal/testkit/guardhook"
	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
)

func TestMain(m *testing.M) { clustertest.Main(m) }

// TestRunSmall runs the whole benchmark on a small cluster, so that `make
// bench` cannot rot unnoticed: loading, the floor, every command, and the
// figures the report is made of.
func TestRunSmall(t *testing.T) {
	clustertest.Require(t)
	c := clustertest.Get(t)
	bin := filepath.Join(t.TempDir(), "kubectl-access")
	build := exec.Command("go", "build", "-o", bin, "../../../cmd/kubectl-access")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	z := large.Scaled(100)
	rep, err := Run(ctx, Config{Binary: bin, Kubeconfig: c.Kubeconfig, Rest: c.Config, Sizes: z, Seed: 7, Runs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Loaded == 0 {
		t.Error("first run reports no loading")
	}
	if rep.Objects < z.Objects() {
		t.Errorf("floor read %d objects, the cluster has at least %d", rep.Objects, z.Objects())
	}
	if rep.Floor <= 0 || rep.FloorRequests < 6 {
		t.Errorf("floor %v with %d requests: want > 0 and at least one LIST per kind", rep.Floor, rep.FloorRequests)
	}
	want := slices.DeleteFunc(Queries(z, Busiest(large.Generate(7, z))), func(q Query) bool { return q.AzureLive || q.Dense })
	if len(rep.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(want))
	}
	for _, r := range rep.Results {
		if r.Wall <= 0 || r.Min > r.Wall || r.RSSMiB <= 1 || r.Answer == 0 {
			t.Errorf("%s: implausible figures %+v", r.Name, r)
		}
		// Six LISTs (or fewer) plus at most a GET of the namespace or
		// service account asked about, and the two SubjectAccessReviews
		// of the Azure RBAC probe; discovery comes from the cache the
		// warm-up filled. The audit also lists pods, nodes, both kinds of
		// webhook configuration and gMSA credential specs (v1, then
		// v1alpha1 when absent), GETs the webhooks' services, and probes
		// (a SubjectAccessReview, a LIST of nodes, a dry-run patch).
		if r.Azure {
			// Read from the snapshot: no API request at all.
			if r.Requests != 0 {
				t.Errorf("%s: %d API requests reading a file", r.Name, r.Requests)
			}
			continue
		}
		limit := 10
		switch {
		case r.Name == "audit" || strings.HasPrefix(r.Name, "explorer"): // the explorer reads what the audit reads
			limit = 20
		case strings.HasSuffix(r.Name, "--verify"):
			// A SubjectAccessReview per subject listed, and for at most
			// 50 bound subjects left out.
			limit = 10 + r.Answer + 50
			if r.Requests <= 10+r.Answer {
				t.Errorf("%s: %d API requests for %d subjects: the answer was not verified", r.Name, r.Requests, r.Answer)
			}
		}
		if r.Requests < 3 || r.Requests > limit {
			t.Errorf("%s: %d API requests, want 3..%d", r.Name, r.Requests, limit)
		}
	}
	if f := rep.Fleet; f == nil || f.Clusters != FleetSize || f.Sequential <= 0 || f.Fleet <= 0 || f.Serial <= 0 ||
		f.SingleRSSMiB <= 1 || f.FleetRSSMiB <= 1 || f.SerialRSSMiB <= 1 || f.SnapshotMiB <= 0 {
		t.Errorf("implausible fleet figures %+v", rep.Fleet)
	}
	var sb strings.Builder
	rep.Print(&sb)
	for _, want := range []string{"floor:", "who-can -n", "what-can sa", "audit", "xFLOOR", "audits one after another", "one fleet audit, --parallel 1"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, sb.String())
		}
	}

	// The data is kept: a second Ensure finds the marker and loads nothing.
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := Ensure(ctx, cs, z, 7, nil); err != nil || d != 0 {
		t.Errorf("second Ensure = %v, %v; want 0, nil", d, err)
	}
	if _, err := Ensure(ctx, cs, z, 8, nil); err == nil {
		t.Error("Ensure with another seed on loaded data: want an error")
	}
}

// TestRunSmallGuard runs the Azure phase of the benchmark on a small
// cluster whose authorizer chain ends in the guard-like webhook: the live
// queries read RBAC from the cluster and Azure's data from a file, and
// each answer holds Azure grants (runCommand fails one that does not).
func TestRunSmallGuard(t *testing.T) {
	clustertest.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "kubectl-access")
	build := exec.Command("go", "build", "-o", bin, "../../../cmd/kubectl-access")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	z := large.Scaled(100)
	fx := GuardFixture(7, z)
	if len(fx.Assignments) == 0 || len(fx.Roles) == 0 {
		t.Fatalf("empty fixture: %d assignments, %d roles", len(fx.Assignments), len(fx.Roles))
	}
	dir := t.TempDir()
	ready, failed := make(chan string, 1), make(chan error, 1)
	go func() {
		failed <- localcluster.ServeWebhook(ctx, dir, guardhook.Handler(fx.Decide), func(p string) error { ready <- p; return nil })
	}()
	var authz string
	select {
	case authz = <-ready:
	case err := <-failed:
		t.Fatal(err)
	}
	c, err := localcluster.Start(ctx, localcluster.Options{Dir: filepath.Join(dir, "cluster"), AuthorizationConfig: authz, NoMetricsServer: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	rep, err := Run(ctx, Config{Binary: bin, Kubeconfig: c.Kubeconfig, Rest: c.Config, Sizes: z, Seed: 7, Runs: 1, Guard: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 || rep.Fleet != nil {
		t.Fatalf("%d results (fleet %v), want the 3 live Azure queries alone", len(rep.Results), rep.Fleet != nil)
	}
	for _, r := range rep.Results {
		if !r.AzureLive || r.Answer == 0 || r.Requests < 3 || r.Wall <= 0 {
			t.Errorf("%s: implausible figures %+v", r.Name, r)
		}
	}
	// On a cluster without the webhook the probe rightly finds Azure RBAC
	// off and the file unused: the phase fails rather than measure RBAC
	// alone under an Azure name.
	plain := clustertest.Get(t)
	if _, err := Run(ctx, Config{Binary: bin, Kubeconfig: plain.Kubeconfig, Rest: plain.Config, Sizes: z, Seed: 7, Runs: 1, Guard: true,
		Only: regexp.MustCompile("azure live who-can -n")}); err == nil || !strings.Contains(err.Error(), "the Azure data was not used") {
		t.Errorf("the Azure phase on a cluster without the webhook: %v", err)
	}
}
