package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/source"
	"github.com/kubectl-access/kubectl-access/tui"
)

// ExploreOptions open the explorer: `kubectl access` with no command, on a
// terminal.
type ExploreOptions struct {
	*RootOptions
	Input     InputOptions
	FixDir    string
	Overwrite bool
	// AllowLockout: fix --allow-lockout, in the explorer's fix flow.
	AllowLockout bool
}

// NewExploreOptions returns the explorer's options over r.
func NewExploreOptions(r *RootOptions) *ExploreOptions { return &ExploreOptions{RootOptions: r} }

// AddFlags adds the explorer's flags to the root command.
func (o *ExploreOptions) AddFlags(c *cobra.Command) {
	c.Flags().StringSliceVarP(&o.Input.Filenames, "filename", "f", nil, "Explore manifests or a saved snapshot instead of a cluster: files or directories (recursive)")
	c.Flags().DurationVar(&o.Input.Timeout, "timeout", defaultTimeout, "How long each load from the cluster may take (the sign-in included)")
	c.Flags().StringVar(&o.Input.GroupNames, "group-names", "", "File of group object id -> display name (JSON or CSV) to show beside Entra group ids; default $KUBECTL_ACCESS_GROUP_NAMES, else the file set with kubectl access config set group-names")
	o.Input.addAzureFlags(c)
	o.Input.addPeopleFlags(c)
	c.Flags().Int64Var(&o.Input.MaxInputSize, "max-input-size", source.DefaultMaxBytes>>20, "With -f: the largest input file read, in MiB")
	c.Flags().StringVar(&o.FixDir, "fix-dir", ".", "Where the explorer's w key writes fixes")
	c.Flags().BoolVar(&o.AllowLockout, "allow-lockout", false, "Let the fix flow offer a fix that leaves no person or group with cluster-admin-equivalent rights (its summary says so), as fix --allow-lockout does")
	c.Flags().BoolVar(&o.Overwrite, "overwrite", false, "Let w replace a fix file written before (never through a link: the file is replaced, not what a link points to)")
}

// Complete reads the names file.
func (o *ExploreOptions) Complete(c *cobra.Command, _ []string) error {
	return o.Input.Complete(c.Context())
}

// Validate checks the flags.
func (o *ExploreOptions) Validate() error {
	if slices.Contains(o.Input.Filenames, "-") {
		return errors.New("the explorer reads keys from the terminal: -f - cannot be used; save the input to a file")
	}
	if slices.Contains(o.Input.AzureFrom, "-") {
		return errors.New("the explorer reads keys from the terminal: --azure-rbac-from - cannot be used; save the Azure data to a file")
	}
	return nil
}

// Run signs in on the terminal first (a device-code prompt must be
// visible, not hidden behind the screen), then hands the terminal to the
// explorer.
func (o *ExploreOptions) Run(ctx context.Context) error {
	if !o.Input.Offline() {
		fmt.Fprintf(o.ErrOut, "Signing in…\n")
	}
	app, ex, err := o.app(ctx, &o.Input, needs{catalog: true, credential: true, version: true})
	if err != nil {
		return err
	}
	graphSignIn(ctx, app, o.ErrOut)
	topts := tui.Options{App: app, WriteDir: o.FixDir, Overwrite: o.Overwrite, AllowLockout: o.AllowLockout}
	if client, ok := app.Cluster.(*cluster.Client); ok {
		if err := preflight(ctx, client.Config, o.Input.Timeout, o.ErrOut); err != nil {
			return err
		}
		if ex != nil {
			// From now on the plugin never prompts and never writes over
			// the screen: what it prints reaches the explorer as a notice.
			r, w := io.Pipe()
			ex.Quiet(w)
			topts.Notices = notices(ex.Config().Command, r)
			topts.SignIn = func(ctx context.Context) tea.ExecCommand {
				return &signInCommand{ctx: ctx, ex: ex, cfg: client.Config, timeout: o.Input.Timeout}
			}
		}
	}
	err = tui.Run(ctx, topts, o.In, o.Out)
	if errors.Is(err, context.Canceled) {
		return &ExitCodeError{Code: ExitInterrupted}
	}
	return err
}

// preflight asks the API server who we are (SelfSubjectReview): the
// credentials are proven before the screen is taken.
func preflight(ctx context.Context, cfg *rest.Config, timeout time.Duration, w io.Writer) error {
	fmt.Fprintf(w, "Signing in to %s…\n", safe.Terminal(cfg.Host))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, _, err := auth.Review(ctx, cfg); err != nil && !apierrors.IsNotFound(err) {
		// NotFound: a server before SelfSubjectReview; the load will tell.
		return cluster.Explain(err)
	}
	return nil
}

// notices turns what the plugin prints into the explorer's notices.
func notices(command string, r io.Reader) <-chan string {
	ch := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case ch <- command + ": " + sc.Text():
			default:
			}
		}
	}()
	return ch
}

// signInCommand signs in again as a tea.ExecCommand: the explorer releases
// the terminal, the plugin prompts on it, the explorer resumes.
type signInCommand struct {
	ctx     context.Context
	ex      *cluster.Exec
	cfg     *rest.Config
	timeout time.Duration
	stdin   io.Reader
	stderr  io.Writer
}

func (s *signInCommand) SetStdin(r io.Reader)  { s.stdin = r }
func (s *signInCommand) SetStdout(io.Writer)   {}
func (s *signInCommand) SetStderr(w io.Writer) { s.stderr = w }

func (s *signInCommand) Run() error {
	if s.stderr == nil {
		s.stderr = os.Stderr
	}
	if s.stdin == nil {
		s.stdin = os.Stdin
	}
	fmt.Fprintf(s.stderr, "Signing in again…\n")
	if err := s.ex.SignIn(s.ctx, s.stdin, s.stderr); err != nil {
		return err
	}
	return preflight(s.ctx, s.cfg, s.timeout, s.stderr)
}
