package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
	"github.com/kubectl-access/kubectl-access/tui"
)

// ExploreOptions open the explorer: `kubectl access` with no command, on a
// terminal.
type ExploreOptions struct {
	queryOptions
	FixDir string

	signIn  *rest.Config // the kubeconfig's own config: sign-in on the terminal
	notices chan string  // what an exec plugin prints while the explorer runs
}

func (o *ExploreOptions) addFlags(c *cobra.Command) {
	c.Flags().StringSliceVarP(&o.Filenames, "filename", "f", nil, "Explore manifests or a saved snapshot instead of a cluster: files or directories (recursive)")
	c.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "How long each load from the cluster may take")
	c.Flags().StringVar(&o.GroupNames, "group-names", "", "File of group object id -> display name (JSON or CSV) to show beside Entra group ids")
	c.Flags().StringVar(&o.FixDir, "fix-dir", ".", "Where the explorer's w key writes fixes")
}

// isTerminal says whether the streams are an interactive terminal.
func isTerminal(in io.Reader, out io.Writer) bool {
	fi, ok1 := in.(*os.File)
	fo, ok2 := out.(*os.File)
	return ok1 && ok2 && term.IsTerminal(int(fi.Fd())) && term.IsTerminal(int(fo.Fd()))
}

// Run signs in on the terminal first (a device-code prompt must be
// visible, not hidden behind the screen), then hands the terminal to the
// explorer.
func (o *ExploreOptions) Run(c *cobra.Command) error {
	if slices.Contains(o.Filenames, "-") {
		return errors.New("the explorer reads keys from the terminal: -f - cannot be used; save the input to a file")
	}
	if err := o.complete(true); err != nil {
		return err
	}
	ctx := c.Context()
	if !o.offline {
		o.signIn = o.config
		if err := o.preflight(ctx); err != nil {
			return err
		}
		if err := o.explorerClients(); err != nil {
			return err
		}
	}
	return tui.Run(ctx, &explorerBackend{o: o}, tui.Options{WriteDir: o.FixDir, Notices: o.notices}, o.In, o.Out)
}

// preflight asks the API server who we are (SelfSubjectReview) on the
// terminal: the exec plugin (kubelogin) prompts here when it must.
func (o *ExploreOptions) preflight(ctx context.Context) error {
	fmt.Fprintf(o.ErrOut, "Signing in to %s…\n", o.config.Host)
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if _, _, err := auth.Review(ctx, o.config); err != nil && !apierrors.IsNotFound(err) {
		// NotFound: a server before SelfSubjectReview; the load will tell.
		return clusterError(err)
	}
	return nil
}

// explorerEnv marks the exec credential config the explorer's clients use.
// It gives them an authenticator of their own (client-go caches one per
// config), created while stderr is a pipe: whatever the plugin prints while
// the screen is taken (a new device code, an error) reaches the explorer as
// a notice instead of garbling the screen. It never reads the terminal.
const explorerEnv = "KUBECTL_ACCESS_EXPLORER"

func (o *ExploreOptions) explorerClients() error {
	cfg := rest.CopyConfig(o.config)
	if cfg.ExecProvider == nil {
		return nil
	}
	ep := *cfg.ExecProvider
	ep.Env = append(slices.Clone(ep.Env), clientcmdapi.ExecEnvVar{Name: explorerEnv, Value: "1"})
	ep.InteractiveMode = clientcmdapi.NeverExecInteractiveMode
	cfg.ExecProvider = &ep
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	// client-go's exec authenticator takes os.Stderr when it is created,
	// which is here, before the explorer starts: nothing else runs yet.
	saved := os.Stderr
	os.Stderr = w
	client, err := kubernetes.NewForConfig(cfg)
	os.Stderr = saved
	if err != nil {
		return err
	}
	o.notices = make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case o.notices <- ep.Command + ": " + sc.Text():
			default:
			}
		}
	}()
	o.config, o.client = cfg, client
	return nil
}

// explorerBackend is the explorer's I/O over the cluster or the files.
type explorerBackend struct{ o *ExploreOptions }

var _ tui.Backend = (*explorerBackend)(nil)

// Load reads and audits everything, on a copy of the options so a load in
// the background never races the answers of the last one.
func (b *explorerBackend) Load(ctx context.Context, progress func(string)) (*tui.Data, error) {
	q := b.o.queryOptions
	q.warnings = slices.Clone(q.warnings)
	var mu sync.Mutex
	counts := map[string]int{}
	ctx = source.WithProgress(ctx, func(resource string, n int) {
		mu.Lock()
		counts[resource] = n
		total := 0
		for _, c := range counts {
			total += c
		}
		mu.Unlock()
		progress(fmt.Sprintf("%s objects read (%s: %s)", humanInt(total), resource, humanInt(n)))
	})
	if q.offline {
		progress("reading " + strings.Join(q.Filenames, ", "))
	} else {
		progress("listing RBAC objects from " + q.config.Host)
	}
	ix, err := q.load(ctx, source.Full)
	if err != nil {
		return nil, sessionError(err)
	}
	s := ix.Snapshot()
	progress(fmt.Sprintf("auditing %s bindings", humanInt(len(s.RoleBindings)+len(s.ClusterRoleBindings))))
	rep := q.audit(ix, audit.Options{})
	src := rep.Source
	if rep.Cluster != nil {
		src = rep.Cluster.Context + " (" + rep.Cluster.Server + ")"
	}
	names := q.names
	if names == nil {
		names = auth.Names{}
	}
	return &tui.Data{
		Index: ix, Report: rep, Names: names, Source: src, Live: !q.offline,
		Resolve: func(tq tui.Query) (rbac.Attributes, []string, error) {
			r := q // a copy per question: attributes appends its warnings
			r.warnings = nil
			if tq.Namespace != "" {
				r.namespace = tq.Namespace
			}
			a, err := r.attributes(tq.Verb, tq.Resource, tq.Name)
			return a, r.warnings, err
		},
		Resources:  resourceNames(q.catalog),
		FixOptions: fix.Options{Resources: catalogResources(q.catalog)},
	}, nil
}

func humanInt(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// sessionError marks a rejected or failed sign-in, which the explorer
// offers to redo.
func sessionError(err error) error {
	if apierrors.IsUnauthorized(err) || strings.Contains(err.Error(), "getting credentials") {
		return fmt.Errorf("%w: %v", tui.ErrSession, clusterError(err))
	}
	return err
}

func (b *explorerBackend) DryRun(ctx context.Context, fx *fix.Fix) ([]tui.OpDiff, error) {
	ap, err := fix.NewApplier(b.o.config)
	if err != nil {
		return nil, err
	}
	var out []tui.OpDiff
	for _, op := range fx.Operations {
		before, after, err := ap.Do(ctx, op, true)
		if err != nil {
			return nil, sessionError(fmt.Errorf("dry run of %s %s: %w", op.Action, op.Target, err))
		}
		out = append(out, tui.OpDiff{Operation: string(op.Action) + " " + op.Target.String(), Diff: fix.Diff(before, after)})
	}
	return out, nil
}

func (b *explorerBackend) Apply(ctx context.Context, fx *fix.Fix) error {
	ap, err := fix.NewApplier(b.o.config)
	if err != nil {
		return err
	}
	for i, op := range fx.Operations {
		if _, _, err := ap.Do(ctx, op, false); err != nil {
			return sessionError(fmt.Errorf("%s %s: %w (%d of %d changes applied before it; each one only removes access or adds the intended grant)",
				op.Action, op.Target, err, i, len(fx.Operations)))
		}
	}
	return nil
}

// SignIn signs in again on the real terminal, as before the explorer
// started.
func (b *explorerBackend) SignIn() tea.ExecCommand {
	if b.o.signIn == nil {
		return nil
	}
	return &signInCommand{o: b.o}
}

// signInCommand is the preflight as a tea.ExecCommand: the explorer
// releases the terminal, the plugin prompts on it, the explorer resumes.
type signInCommand struct {
	o      *ExploreOptions
	stderr io.Writer
}

func (s *signInCommand) SetStdin(io.Reader)    {}
func (s *signInCommand) SetStdout(io.Writer)   {}
func (s *signInCommand) SetStderr(w io.Writer) { s.stderr = w }

func (s *signInCommand) Run() error {
	o := *s.o // a copy: the explorer's clients keep their own config
	if s.stderr != nil {
		o.ErrOut = s.stderr
	}
	o.config = o.signIn
	return o.preflight(context.Background())
}

// resourceNames are the names the query line completes: every resource
// and subresource as kubectl writes them.
func resourceNames(cat source.Catalog) []string {
	var out []string
	for _, r := range cat {
		name := r.Resource
		if r.Group != "" {
			name += "." + r.Group
		}
		out = append(out, name)
		for _, sub := range r.Subresources {
			out = append(out, name+"/"+sub)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// catalogResources lists a group's resources from the catalog, for
// narrowing a wildcard resource in a fix.
func catalogResources(cat source.Catalog) func(string) []string {
	return func(group string) []string {
		var out []string
		for _, r := range cat {
			if r.Group == group && !slices.Contains(out, r.Resource) {
				out = append(out, r.Resource)
			}
		}
		return out
	}
}
