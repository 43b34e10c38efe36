// Package livebench measures the commands against a cluster loaded with the
// LARGE synthetic RBAC data: wall time, peak RSS and API requests of each
// command (run as its own process, as a user would), against the floor:
// the bare parallel, paginated LISTs of every object the engine can read,
// measured in the same run.
package livebench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/guardhook"
	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Config says what to measure and where.
type Config struct {
	Binary     string // the kubectl-access binary
	Kubeconfig string // admin kubeconfig of the cluster
	Rest       *rest.Config
	Sizes      large.Sizes
	Seed       uint64
	Runs       int       // timed runs of each command and of the floor; the median counts
	Progress   io.Writer // where loading progress goes; nil for none
	// Only, when set, keeps the queries whose name it matches.
	Only *regexp.Regexp
	// Guard says the cluster's authorizer chain ends in the guard-like
	// webhook deciding from GuardFixture: then only the AzureLive queries
	// are measured (with a floor of their own), and without it all the
	// others.
	Guard bool
}

// Query is one measured command line and the ceiling on its wall time as a
// multiple of the full floor.
type Query struct {
	Name    string
	Args    []string
	Ceiling float64
	// MaxRSSMiB is the ceiling on the command's peak resident memory;
	// zero means DefaultMaxRSSMiB.
	MaxRSSMiB float64
	// Explorer runs the explorer's benchmark (this executable) instead of
	// the kubectl-access binary.
	Explorer bool
	// Azure reads LARGE's snapshot with Azure RBAC's data (AzureFile's
	// 5,000 assignments over 500 namespaces) instead of the cluster.
	Azure bool
	// AzureLive reads RBAC from the cluster and Azure RBAC's data from a
	// snapshot holding only it (AzureDataFile, --azure-rbac-from), on a
	// cluster whose chain ends in the guard-like webhook (Config.Guard):
	// without one the probe finds Azure RBAC off and the file is unused.
	AzureLive bool
	// Dense runs on the dense variant of LARGE (large.DenseLarge, a
	// cluster of its own, Config.Sizes.Dense), with a floor of its own.
	Dense bool
}

// AzureFile is the placeholder an Azure query's arguments name the
// snapshot by; Run writes the snapshot once and puts its path there.
const AzureFile = "LARGE+AZURE.json"

// AzureDataFile is the placeholder for the snapshot of LARGE's Azure RBAC
// data alone.
const AzureDataFile = "AZURE.json"

// command is the executable and environment a query runs with.
func (q Query) command(bin string) (string, []string) {
	if !q.Explorer {
		return bin, nil
	}
	self, _ := os.Executable()
	return self, []string{explorerEnv + "=1"}
}

func (q Query) maxRSS() float64 {
	if q.MaxRSSMiB == 0 {
		return DefaultMaxRSSMiB
	}
	return q.MaxRSSMiB
}

// Queries are the commands measured: typical ones on names that exist at
// any scale of the generator, and the heavy cases (a user in twenty groups
// bound across most namespaces, the service account bound in every
// namespace, who-can -A on the request the most subjects hold). busiest is
// that request, "verb resource" (see Busiest).
func Queries(z large.Sizes, busiest [2]string) []Query {
	ns := large.Namespace(min(7, z.Namespaces-1))
	heavy := []string{"what-can", "user:" + large.HeavyUser}
	for i := range large.HeavyGroups {
		heavy = append(heavy, "--group", large.HeavyGroup(i))
	}
	return []Query{
		{Name: "who-can -n", Args: []string{"who-can", "get", "secrets", "-n", ns}, Ceiling: 0.5},
		// --verify: the answer, then a SubjectAccessReview for every
		// subject listed and for a sample of 50 bound subjects left out.
		{Name: "who-can -n --verify", Args: []string{"who-can", "get", "secrets", "-n", ns, "--verify"}, Ceiling: 3},
		{Name: "who-can -A", Args: []string{"who-can", "create", "pods/exec", "-A"}, Ceiling: 1.2},
		{Name: "who-can -A busiest", Args: []string{"who-can", busiest[0], busiest[1], "-A"}, Ceiling: 1.2},
		{Name: "what-can user+groups", Args: []string{"what-can", "user:" + large.User(1),
			"--group", large.Group(1), "--group", large.Group(2), "--group", large.Group(3)}, Ceiling: 1.2},
		{Name: "what-can heavy user", Args: heavy, Ceiling: 1.2},
		{Name: "what-can sa", Args: []string{"what-can", "sa:" + ns + ":sa-00"}, Ceiling: 1.2},
		{Name: "what-can busy sa", Args: []string{"what-can", "sa:" + large.Namespace(0) + ":" + large.BusySA}, Ceiling: 1.2},
		// The audit holds every finding (tens of thousands on LARGE) and
		// their evidence in memory to sort and group them.
		{Name: "audit", Args: []string{"audit"}, Ceiling: 2.5, MaxRSSMiB: 600},
		// The same on the dense LARGE, about twice the findings (teams
		// that can create pods beside powerful service accounts, an
		// everything role bound in many namespaces): issue 34's case.
		{Name: "audit dense", Args: []string{"audit"}, Ceiling: 2.5, MaxRSSMiB: 300, Dense: true},
		// The explorer's first screen: the reads and the Subjects page
		// (the audit runs after the first paint); then a filter typed key
		// by key (this executable in its explorer mode, through the same
		// layers).
		{Name: "explorer first screen", Args: nil, Ceiling: 1.5, MaxRSSMiB: 700, Explorer: true},
		{Name: "explorer filtered", Args: []string{"--filter", ns}, Ceiling: 1.5, MaxRSSMiB: 700, Explorer: true},
		// Azure RBAC's heavy case: LARGE and 5,000 role assignments over
		// 500 namespaces, read from a snapshot (the whole cluster's RBAC
		// and the Azure data in one 25 MiB file, against the live floor).
		{Name: "azure who-can -n", Args: []string{"who-can", "get", "secrets", "-n", ns, "-f", AzureFile}, Ceiling: 0.5, MaxRSSMiB: 400, Azure: true},
		{Name: "azure who-can -A", Args: []string{"who-can", "create", "pods/exec", "-A", "-f", AzureFile}, Ceiling: 1.3, MaxRSSMiB: 400, Azure: true},
		{Name: "azure what-can heavy", Args: append(slices.Clone(heavy), "-f", AzureFile), Ceiling: 1.3, MaxRSSMiB: 400, Azure: true},
		// The same live, as a pipeline without ARM access would run them
		// on AKS: RBAC from the cluster, Azure's data from a file.
		{Name: "azure live who-can -n", Args: []string{"who-can", "get", "secrets", "-n", ns, "--azure-rbac-from", AzureDataFile}, Ceiling: 0.5, MaxRSSMiB: 200, AzureLive: true},
		{Name: "azure live who-can -A", Args: []string{"who-can", "create", "pods/exec", "-A", "--azure-rbac-from", AzureDataFile}, Ceiling: 1.3, MaxRSSMiB: 200, AzureLive: true},
		{Name: "azure live what-can heavy", Args: append(slices.Clone(heavy), "--azure-rbac-from", AzureDataFile), Ceiling: 1.3, MaxRSSMiB: 200, AzureLive: true},
	}
}

// NeedsDense says whether any Dense query's name matches only (nil: all
// of them).
func NeedsDense(only *regexp.Regexp) bool {
	return slices.ContainsFunc(Queries(large.Scaled(100), [2]string{"get", "pods"}), func(q Query) bool {
		return q.Dense && (only == nil || only.MatchString(q.Name))
	})
}

// NeedsGuard says whether any AzureLive query's name matches only (nil:
// all of them).
func NeedsGuard(only *regexp.Regexp) bool {
	return slices.ContainsFunc(Queries(large.Scaled(100), [2]string{"get", "pods"}), func(q Query) bool {
		return q.AzureLive && (only == nil || only.MatchString(q.Name))
	})
}

// GuardFixture is LARGE's Azure RBAC data for the guard-like webhook
// (guardhook), which decides from it with logic of its own.
func GuardFixture(seed uint64, z large.Sizes) *guardhook.Fixture {
	d := large.Azure(seed, z)
	f := &guardhook.Fixture{Cluster: d.ClusterID}
	perms := func(ps []azurerbac.Permission) []guardhook.Perm {
		var out []guardhook.Perm
		for _, p := range ps {
			out = append(out, guardhook.Perm{DataActions: p.DataActions, NotDataActions: p.NotDataActions})
		}
		return out
	}
	for _, r := range d.Roles {
		f.Roles = append(f.Roles, guardhook.Role{ID: r.ID, Name: r.Name, Perms: perms(r.Permissions)})
	}
	for _, a := range d.Assignments {
		f.Assignments = append(f.Assignments, guardhook.Assignment{ID: a.ID, Scope: a.Scope, PrincipalID: a.PrincipalID, PrincipalType: a.PrincipalType,
			PrincipalName: a.PrincipalName, RoleID: a.RoleDefinitionID, Condition: a.Condition})
	}
	for _, x := range d.Denies {
		for _, p := range perms(x.Permissions) {
			f.Denies = append(f.Denies, guardhook.Deny{ID: x.ID, Scope: x.Scope, Principals: x.Principals, Exclude: x.ExcludePrincipals, Perm: p, NoChildren: x.DoNotApplyToChildScopes})
		}
	}
	return f
}

// WriteAzureData writes LARGE's Azure RBAC data alone as a snapshot, in
// dir, for --azure-rbac-from, and returns its path.
func WriteAzureData(dir string, seed uint64, z large.Sizes) (string, error) {
	s := rbac.NewSnapshot()
	s.Azure = large.Azure(seed, z)
	return writeSnapshot(filepath.Join(dir, "azure.json"), s)
}

// writeAzureSnapshot writes LARGE with its Azure RBAC data as a snapshot
// (as snapshot -f would write it) and returns its path.
func writeAzureSnapshot(dir string, seed uint64, z large.Sizes) (string, error) {
	s := large.Generate(seed, z)
	s.Azure = large.Azure(seed, z)
	return writeSnapshot(filepath.Join(dir, "large-azure.json"), s)
}

func writeSnapshot(p string, s *rbac.Snapshot) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	return p, os.WriteFile(p, b, 0o600)
}

// Busiest returns the request ("verb", "resource") of the generator's
// vocabulary that the most subjects may make in some namespace: who-can -A
// on it is the largest who-can answer the cluster has.
func Busiest(s *rbac.Snapshot) [2]string {
	ix := rbac.NewIndex(s)
	var best [2]string
	most := -1
	for _, res := range large.Resources() {
		for _, verb := range large.Verbs() {
			a := rbac.Attributes{Verb: verb, APIGroup: large.GroupOf(res), Namespace: large.Namespace(0)}
			a.Resource, a.Subresource, _ = strings.Cut(res, "/")
			if n := len(ix.WhoCan(a, true).Subjects); n > most {
				most, best = n, [2]string{verb, res}
			}
		}
	}
	return best
}

// DefaultMaxRSSMiB is the ceiling on a query command's peak resident memory.
const DefaultMaxRSSMiB = 150

// Result is the measurement of one query.
type Result struct {
	Query
	Wall     time.Duration // median of the timed runs
	Min      time.Duration
	RSSMiB   float64 // largest peak RSS over the runs
	Requests int     // API requests one run makes (counted at -v=6)
	Answer   int     // subjects, rules or findings in the answer: it must not be empty
	Ratio    float64 // Wall / Floor
}

// Met says whether the result is within its ceilings.
func (r Result) Met() bool { return r.Ratio <= r.Ceiling && r.RSSMiB < r.maxRSS() }

// Report is one run of the benchmark.
type Report struct {
	Sizes         large.Sizes
	Objects       int           // objects the floor read
	Loaded        time.Duration // time to load the data, zero when it was already there
	Floor         time.Duration // median of the floor's runs
	FloorRequests int
	Results       []Result
	// Fleet is the fleet benchmark (nil when -only leaves it out).
	Fleet *FleetResult
}

// Run loads the data if the cluster lacks it, then measures.
func Run(ctx context.Context, c Config) (*Report, error) {
	if c.Runs < 1 {
		c.Runs = 1
	}
	cfg := cluster.ProtobufConfig(c.Rest)
	cfg.QPS = -1
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	// The runner starts first, while this process is still small.
	run, err := startRunner(ctx)
	if err != nil {
		return nil, err
	}
	defer run.close()
	rep := &Report{Sizes: c.Sizes}
	if rep.Loaded, err = Ensure(ctx, cs, c.Sizes, c.Seed, c.Progress); err != nil {
		return nil, err
	}
	queries := Queries(c.Sizes, Busiest(large.Generate(c.Seed, c.Sizes)))
	queries = slices.DeleteFunc(queries, func(q Query) bool {
		return c.Only != nil && !c.Only.MatchString(q.Name) || q.AzureLive != c.Guard || q.Dense != c.Sizes.Dense
	})
	dir, err := os.MkdirTemp("", "kubectl-access-bench-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }() // a temporary directory: best effort
	for placeholder, write := range map[string]func(string, uint64, large.Sizes) (string, error){AzureFile: writeAzureSnapshot, AzureDataFile: WriteAzureData} {
		if !slices.ContainsFunc(queries, func(q Query) bool { return slices.Contains(q.Args, placeholder) }) {
			continue
		}
		file, writeErr := write(dir, c.Seed, c.Sizes)
		if writeErr != nil {
			return nil, writeErr
		}
		for i := range queries {
			if j := slices.Index(queries[i].Args, placeholder); j >= 0 {
				queries[i].Args = slices.Clone(queries[i].Args)
				queries[i].Args[j] = file
				if queries[i].AzureLive {
					queries[i].Args = append(queries[i].Args, "--azure-cluster-id", large.AzureClusterID)
				}
			}
		}
	}
	// Warm up: the first LIST of each collection fills caches on both
	// sides, and the first command run fills the discovery cache.
	if _, _, err := run.floor(c.Kubeconfig); err != nil {
		return nil, err
	}
	for _, q := range queries {
		if _, err := runCommand(run, q, c.Binary, c.Kubeconfig); err != nil {
			return nil, err
		}
	}
	floors := make([]time.Duration, 0, c.Runs)
	walls := make([][]time.Duration, len(queries))
	rep.Results = make([]Result, len(queries))
	// Interleave floor and commands so that drift in the machine's load
	// affects both alike.
	for range c.Runs {
		d, st, floorErr := run.floor(c.Kubeconfig)
		if floorErr != nil {
			return nil, floorErr
		}
		floors = append(floors, d)
		rep.Objects, rep.FloorRequests = st.objects, st.requests
		for i, q := range queries {
			cr, runErr := runCommand(run, q, c.Binary, c.Kubeconfig)
			if runErr != nil {
				return nil, runErr
			}
			walls[i] = append(walls[i], cr.wall)
			rep.Results[i].RSSMiB = max(rep.Results[i].RSSMiB, cr.rssMiB)
			rep.Results[i].Answer = cr.answer
		}
	}
	if !c.Guard && !c.Sizes.Dense && (c.Only == nil || c.Only.MatchString("fleet")) {
		if rep.Fleet, err = runFleet(run, c.Binary, c.Kubeconfig, c.Runs, c.Progress); err != nil {
			return nil, err
		}
	}
	rep.Floor = median(floors)
	for i, q := range queries {
		r := &rep.Results[i]
		r.Query = q
		r.Wall, r.Min = median(walls[i]), slices.Min(walls[i])
		r.Ratio = float64(r.Wall) / float64(rep.Floor)
		if r.Requests, err = countRequests(ctx, q, c.Binary, c.Kubeconfig); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// Print writes the report as a table with the ceilings.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "cluster: %d namespaces, %d service accounts, %d Roles, %d RoleBindings, %d ClusterRoles (%d aggregated), %d ClusterRoleBindings\n",
		r.Sizes.Namespaces, r.Sizes.ServiceAccounts, r.Sizes.Roles, r.Sizes.RoleBindings, r.Sizes.ClusterRoles, r.Sizes.AggregatedRoles, r.Sizes.ClusterRoleBindings)
	if r.Sizes.Dense {
		fmt.Fprintf(w, "dense: a %s service account bound to %s in every namespace (one in ten cluster-wide), %d teams bound to it in %d namespaces each\n",
			large.DeployerSA, large.Everything, large.DenseTeams, large.DenseTeamNamespaces)
	}
	if r.Loaded > 0 {
		fmt.Fprintf(w, "loaded in %s (kept for the next run)\n", r.Loaded.Round(time.Second))
	}
	fmt.Fprintf(w, "floor: bare parallel paginated protobuf LISTs of all %d objects, in a process of its own: %s, %d requests\n\n", r.Objects, ms(r.Floor), r.FloorRequests)
	fmt.Fprintf(w, "%-26s %10s %10s %8s %9s %9s %8s  %s\n", "QUERY", "WALL", "MIN", "xFLOOR", "CEILING", "RSS MiB", "REQUESTS", "ANSWER")
	for _, x := range r.Results {
		verdict := "met"
		if !x.Met() {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "%-26s %10s %10s %8.2f %8.1fx %9.1f %8d  %d rows, %s\n", x.Name, ms(x.Wall), ms(x.Min), x.Ratio, x.Ceiling, x.RSSMiB, x.Requests, x.Answer, verdict)
	}
	fmt.Fprintln(w)
	for _, x := range r.Results {
		if x.Explorer {
			fmt.Fprintf(w, "  %-26s the explorer's load and first screen (160x50; the audit follows it) %s\n", x.Name, strings.Join(x.Args, " "))
			continue
		}
		fmt.Fprintf(w, "  %-26s kubectl access %s\n", x.Name, strings.Join(x.Args, " "))
	}
	if r.Fleet != nil {
		r.Fleet.print(w)
	}
}

// Missed lists the queries over a ceiling.
func (r *Report) Missed() []string {
	var out []string
	for _, x := range r.Results {
		if !x.Met() {
			out = append(out, fmt.Sprintf("%s: %.2fx floor (ceiling %.1fx), %.0f MiB (ceiling %.0f)", x.Name, x.Ratio, x.Ceiling, x.RSSMiB, x.maxRSS()))
		}
	}
	if r.Fleet != nil {
		out = append(out, r.Fleet.Missed()...)
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

type floorStats struct{ objects, requests int }

// Floor times the bare parallel, paginated protobuf LISTs of every
// collection the engine reads (the six kinds, all namespaces), decoding into
// typed lists and nothing more.
func Floor(ctx context.Context, base *rest.Config) (time.Duration, floorStats, error) {
	cfg := cluster.ProtobufConfig(base)
	cfg.QPS = -1
	var counter Counter
	counter.Wrap(cfg)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, floorStats{}, err
	}
	rb, core := cs.RbacV1(), cs.CoreV1()
	counts := make([]int, 6)
	pagers := []func(metav1.ListOptions) (int, string, error){
		func(o metav1.ListOptions) (int, string, error) {
			l, err := rb.ClusterRoles().List(ctx, o)
			return lenOr(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		func(o metav1.ListOptions) (int, string, error) {
			l, err := rb.ClusterRoleBindings().List(ctx, o)
			return lenOr(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		func(o metav1.ListOptions) (int, string, error) {
			l, err := rb.Roles("").List(ctx, o)
			return lenOr(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		func(o metav1.ListOptions) (int, string, error) {
			l, err := rb.RoleBindings("").List(ctx, o)
			return lenOr(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		func(o metav1.ListOptions) (int, string, error) {
			l, err := core.ServiceAccounts("").List(ctx, o)
			return lenOr(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		func(o metav1.ListOptions) (int, string, error) {
			l, err := core.Namespaces().List(ctx, o)
			return lenOr(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
	}
	start := time.Now()
	g, _ := errgroup.WithContext(ctx)
	for i, page := range pagers {
		g.Go(func() error {
			o := metav1.ListOptions{Limit: cluster.PageSize}
			for {
				n, cont, err := page(o)
				if err != nil {
					return err
				}
				counts[i] += n
				if cont == "" {
					return nil
				}
				o.Continue = cont
			}
		})
	}
	if err := g.Wait(); err != nil {
		return 0, floorStats{}, fmt.Errorf("floor: %w", err)
	}
	d := time.Since(start)
	total := 0
	for _, n := range counts {
		total += n
	}
	return d, floorStats{objects: total, requests: int(counter.Requests())}, nil
}

func lenOr[L any](l *L, err error, f func() (int, string)) (int, string, error) {
	if err != nil {
		return 0, "", err
	}
	n, c := f()
	return n, c, nil
}

type commandRun struct {
	wall   time.Duration
	rssMiB float64
	answer int
}

// runCommand runs the binary once with -o json through the runner and
// measures it.
func runCommand(r *runner, q Query, bin, kubeconfig string) (commandRun, error) {
	exe, env := q.command(bin)
	args := q.Args
	rep, out, stderr, err := r.run(append([]string{exe}, append(slices.Clone(args), "--kubeconfig", kubeconfig, "-o", "json")...), env...)
	if err != nil {
		return commandRun{}, err
	}
	if rep.Err != "" {
		return commandRun{}, fmt.Errorf("kubectl access %s: %s: %s", strings.Join(args, " "), rep.Err, stderr)
	}
	var doc struct {
		Subjects []json.RawMessage `json:"subjects"`
		Rules    []json.RawMessage `json:"rules"`
		Findings []json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return commandRun{}, fmt.Errorf("kubectl access %s: output is not JSON: %v", strings.Join(args, " "), err)
	}
	if q.AzureLive && !bytes.Contains(out, []byte(`"azure":`)) {
		return commandRun{}, fmt.Errorf("kubectl access %s: the answer holds no Azure grant: the Azure data was not used (is the guard-like webhook in the cluster's chain?): %s", strings.Join(args, " "), stderr)
	}
	answer := len(doc.Subjects) + len(doc.Rules)
	if doc.Findings != nil {
		// An audit's subjects are the table its findings refer to.
		answer = len(doc.Findings)
	}
	return commandRun{wall: rep.Wall, rssMiB: float64(rep.MaxRSSKiB) / 1024, answer: answer}, nil
}

// countRequests runs the command once at -v=6, where client-go logs one
// "Response" line per API request, and counts them.
func countRequests(ctx context.Context, q Query, bin, kubeconfig string) (int, error) {
	if q.Azure {
		return 0, nil // read from a file: no API request
	}
	exe, env := q.command(bin)
	args := q.Args
	cmd := exec.CommandContext(ctx, exe, append(slices.Clone(args), "--kubeconfig", kubeconfig, "-o", "json", "-v", "6")...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("kubectl access %s -v 6: %v", strings.Join(args, " "), err)
	}
	n := 0
	sc := bufio.NewScanner(&stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `] "Response"`) {
			n++
		}
	}
	if n == 0 {
		return 0, errors.New("no requests seen at -v=6: has client-go's log format changed?")
	}
	return n, nil
}

// markerName names the ConfigMap that says the data is fully loaded.
const markerName = "kubectl-access-bench"

// Ensure loads the generated cluster unless a previous run finished loading
// the same sizes and seed, and returns how long loading took (zero if it
// was already there). Loading is idempotent: an interrupted load resumes.
func Ensure(ctx context.Context, cs kubernetes.Interface, z large.Sizes, seed uint64, progress io.Writer) (time.Duration, error) {
	// LARGE's marker is as it was before the dense variant: its kept
	// data stays valid.
	want := strings.Replace(fmt.Sprintf("%+v seed=%d %s", z, seed, large.Version), " Dense:false", "", 1)
	cm, err := cs.CoreV1().ConfigMaps(metav1.NamespaceDefault).Get(ctx, markerName, metav1.GetOptions{})
	switch {
	case err == nil && cm.Data["data"] == want:
		return 0, nil
	case err == nil:
		return 0, fmt.Errorf("the cluster holds other benchmark data (%s); remove its directory to reload", cm.Data["data"])
	case !apierrors.IsNotFound(err):
		return 0, err
	}
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	s := large.Generate(seed, z)
	fmt.Fprintf(progress, "loading %d objects (once; later runs reuse them)...\n", z.Objects())
	if err := localcluster.Load(ctx, cs, s); err != nil {
		return 0, err
	}
	if err := waitAggregated(ctx, cs, s); err != nil {
		return 0, err
	}
	_, err = cs.CoreV1().ConfigMaps(metav1.NamespaceDefault).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: markerName},
		Data:       map[string]string{"data": want},
	}, metav1.CreateOptions{})
	if err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// waitAggregated waits for the controller to fill every aggregated role, so
// that the commands measure the data as a real cluster would hold it.
func waitAggregated(ctx context.Context, cs kubernetes.Interface, s *rbac.Snapshot) error {
	var names []string
	for _, cr := range s.ClusterRoles {
		if cr.AggregationRule != nil {
			names = append(names, cr.Name)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for _, name := range names {
		for {
			cr, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if len(cr.Rules) > 0 || !hasSource(s, cr) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("ClusterRole %s was not aggregated within 2 minutes: is the controller manager running?", name)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// hasSource says whether some ClusterRole with rules matches cr's selectors
// (at small scales an aggregated role may have none and stays empty).
func hasSource(s *rbac.Snapshot, cr *rbacv1.ClusterRole) bool {
	want := cr.AggregationRule.ClusterRoleSelectors[0].MatchLabels
	for _, c := range s.ClusterRoles {
		if c.AggregationRule == nil && len(c.Rules) > 0 && len(want) > 0 {
			match := true
			for k, v := range want {
				if c.Labels[k] != v {
					match = false
				}
			}
			if match {
				return true
			}
		}
	}
	return false
}
