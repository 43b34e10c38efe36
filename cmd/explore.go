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
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/tui"
)

// ExploreOptions open the explorer: `kubectl access` with no command, on a
// terminal.
type ExploreOptions struct {
	*RootOptions
	Input  InputOptions
	FixDir string
}

// NewExploreOptions returns the explorer's options over r.
func NewExploreOptions(r *RootOptions) *ExploreOptions { return &ExploreOptions{RootOptions: r} }

// AddFlags adds the explorer's flags to the root command.
func (o *ExploreOptions) AddFlags(c *cobra.Command) {
	c.Flags().StringSliceVarP(&o.Input.Filenames, "filename", "f", nil, "Explore manifests or a saved snapshot instead of a cluster: files or directories (recursive)")
	c.Flags().DurationVar(&o.Input.Timeout, "timeout", defaultTimeout, "How long each load from the cluster may take (the sign-in included)")
	c.Flags().StringVar(&o.Input.GroupNames, "group-names", "", "File of group object id -> display name (JSON or CSV) to show beside Entra group ids")
	c.Flags().StringVar(&o.FixDir, "fix-dir", ".", "Where the explorer's w key writes fixes")
}

// Complete reads the names file.
func (o *ExploreOptions) Complete(*cobra.Command, []string) error { return o.Input.Complete() }

// Validate checks the flags.
func (o *ExploreOptions) Validate() error {
	if slices.Contains(o.Input.Filenames, "-") {
		return errors.New("the explorer reads keys from the terminal: -f - cannot be used; save the input to a file")
	}
	return nil
}

// Run signs in on the terminal first (a device-code prompt must be
// visible, not hidden behind the screen), then hands the terminal to the
// explorer.
func (o *ExploreOptions) Run(ctx context.Context) error {
	app, err := o.App(ctx, &o.Input, needs{catalog: true, credential: true, version: true})
	if err != nil {
		return err
	}
	topts := tui.Options{App: app, WriteDir: o.FixDir}
	if app.Live() {
		signIn, err := o.Flags.ToRESTConfig()
		if err != nil {
			return kubeconfigError(err)
		}
		if err := preflight(ctx, signIn, o.Input.Timeout, o.ErrOut); err != nil {
			return err
		}
		notices, err := o.explorerClient(app, signIn)
		if err != nil {
			return err
		}
		topts.Notices = notices
		topts.SignIn = func(ctx context.Context) tea.ExecCommand {
			return &signInCommand{ctx: ctx, cfg: signIn, timeout: o.Input.Timeout}
		}
	}
	err = tui.Run(ctx, topts, o.In, o.Out)
	if errors.Is(err, context.Canceled) {
		return &ExitCodeError{Code: ExitInterrupted}
	}
	return err
}

// preflight asks the API server who we are (SelfSubjectReview) on the
// terminal: the exec plugin (kubelogin) prompts here when it must.
func preflight(ctx context.Context, cfg *rest.Config, timeout time.Duration, w io.Writer) error {
	fmt.Fprintf(w, "Signing in to %s…\n", cfg.Host)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, _, err := auth.Review(ctx, cfg); err != nil && !apierrors.IsNotFound(err) {
		// NotFound: a server before SelfSubjectReview; the load will tell.
		return cluster.Explain(err)
	}
	return nil
}

// explorerEnv marks the exec credential config the explorer's clients use.
// It gives them an authenticator of their own (client-go caches one per
// config), created while stderr is a pipe: whatever the plugin prints while
// the screen is taken (a new device code, an error) reaches the explorer as
// a notice instead of garbling the screen. It never reads the terminal.
const explorerEnv = "KUBECTL_ACCESS_EXPLORER"

func (o *ExploreOptions) explorerClient(app *access.App, signIn *rest.Config) (<-chan string, error) {
	if signIn.ExecProvider == nil {
		return nil, nil
	}
	cfg := rest.CopyConfig(signIn)
	ep := *cfg.ExecProvider
	ep.Env = append(slices.Clone(ep.Env), clientcmdapi.ExecEnvVar{Name: explorerEnv, Value: "1"})
	ep.InteractiveMode = clientcmdapi.NeverExecInteractiveMode
	cfg.ExecProvider = &ep
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// client-go's exec authenticator takes os.Stderr when it is created,
	// which is here, before the explorer starts: nothing else runs yet.
	saved := os.Stderr
	os.Stderr = w
	client, err := cluster.New(cfg)
	os.Stderr = saved
	if err != nil {
		return nil, err
	}
	notices := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case notices <- ep.Command + ": " + sc.Text():
			default:
			}
		}
	}()
	app.Cluster = client
	return notices, nil
}

// signInCommand is the preflight as a tea.ExecCommand: the explorer
// releases the terminal, the plugin prompts on it, the explorer resumes.
type signInCommand struct {
	cfg     *rest.Config
	timeout time.Duration
	stderr  io.Writer
	ctx     context.Context
}

func (s *signInCommand) SetStdin(io.Reader)    {}
func (s *signInCommand) SetStdout(io.Writer)   {}
func (s *signInCommand) SetStderr(w io.Writer) { s.stderr = w }

func (s *signInCommand) Run() error {
	w := s.stderr
	if w == nil {
		w = os.Stderr
	}
	return preflight(s.ctx, s.cfg, s.timeout, w)
}
