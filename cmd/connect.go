// Connection: how a command reaches what it reads. Live, the kubeconfig's
// context is signed in to (its credential plugin run on the terminal) and
// a client made; offline, the files are read; either way the result is an
// access.App.

package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"golang.org/x/term"
	// The auth providers kubectl still reads: oidc (its id-token), and
	// the removed azure and gcp ones, which say what to use instead.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// needs say what a command needs of the cluster besides its objects.
type needs struct {
	catalog    bool // what the server serves (to resolve resources)
	credential bool // the kubeconfig's credential (the credentials rules)
	version    bool // the server's version (the audit report)
}

// namespace is -n when given.
func (r *RootOptions) namespace() (string, bool) {
	if r.Flags.Namespace != nil && *r.Flags.Namespace != "" {
		return *r.Flags.Namespace, true
	}
	return "", false
}

// requestOf reads VERB RESOURCE [NAME] with -n and -A.
func (r *RootOptions) requestOf(args []string, all bool) access.Request {
	ns, set := r.namespace()
	req := access.Request{Verb: args[0], Resource: args[1], Namespace: ns, NamespaceSet: set, AllNamespaces: all}
	if len(args) > 2 {
		req.Name = args[2]
	}
	return req
}

// App builds the application layer's view of the cluster (or of the
// files) a command works on.
func (r *RootOptions) App(ctx context.Context, in *InputOptions, n needs) (*access.App, error) {
	app, _, err := r.app(ctx, in, n)
	return app, err
}

// restConfig is the kubeconfig's config with its exec credential plugin,
// if any, run by the tool: bounded by --timeout (and --request-timeout),
// stopped by Ctrl-C. The plugin runs once here, on the terminal: a
// device-code prompt shows now, before anything takes the screen.
func (r *RootOptions) restConfig(ctx context.Context, timeout time.Duration) (*rest.Config, *cluster.Exec, error) {
	r.Login.Timeout = timeout
	cfg, err := r.Flags.ToRESTConfig()
	if err != nil {
		return nil, nil, kubeconfigError(err)
	}
	if cfg.Timeout == 0 || cfg.Timeout > timeout {
		// No single request (discovery, a LIST page, a check) outlives
		// --timeout, whatever --request-timeout says.
		cfg.Timeout = timeout
	}
	bound, ex, err := cluster.BoundExec(ctx, cfg, cluster.ExecOptions{Timeout: timeout, Stdin: r.In, Stderr: r.ErrOut})
	if err != nil {
		return nil, nil, err
	}
	return bound, ex, nil
}

func (r *RootOptions) app(ctx context.Context, in *InputOptions, n needs) (*access.App, *cluster.Exec, error) {
	if in.Offline() {
		if f := in.fleet; f != nil {
			return nil, nil, fmt.Errorf("%s is a fleet of %d clusters' snapshots (%s): audit, who-can and can read it as a fleet; for one cluster give its snapshot, e.g. -f %s",
				f.Dir, len(f.Index.Clusters), source.FleetIndexFile, f.Path(firstSaved(f)))
		}
		return r.offlineApp(in, in.Filenames), nil, nil
	}
	var azureFiles func(context.Context) (*azurerbac.Data, []rbac.Warning, error)
	if len(in.AzureFrom) > 0 && !slices.Contains(in.AzureFrom, "-") {
		// Read while signing in and loading: the load waits for it.
		azureFiles = in.readAzureFiles(ctx, r.In)
	}
	s, err := r.signIn(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	app, err := s.connect(n)
	if err != nil {
		return nil, nil, err
	}
	if in.AzureRBAC {
		app.Azure = r.azureSource(ctx, in)
	}
	if slices.Contains(in.AzureFrom, "-") {
		// Stdin is the terminal a credential plugin may prompt on: read
		// it only once signed in.
		read := in.readAzureFiles(ctx, r.In)
		if _, _, err := read(ctx); err != nil {
			return nil, nil, err
		}
		azureFiles = read
	}
	if azureFiles != nil {
		app.Azure = &access.AzureSource{Files: azureFiles}
	}
	return app, s.exec, nil
}

// firstSaved is the fleet's first cluster with a snapshot.
func firstSaved(f *source.Fleet) source.FleetEntry {
	for _, e := range f.Index.Clusters {
		if e.File != "" {
			return e
		}
	}
	return source.FleetEntry{File: "NAME.yaml"}
}

// offlineApp is the app over files.
func (r *RootOptions) offlineApp(in *InputOptions, files []string) *access.App {
	app := &access.App{Names: in.names, Timeout: in.Timeout, Stdin: r.In, FileLimit: in.MaxInputSize << 20, AzureClusterID: in.AzureClusterID}
	if in.directory != nil {
		app.People = in.directory
	}
	ns, explicit := r.namespace()
	app.NamespaceSet = explicit
	app.Files = files
	app.Origin = access.Origin{Files: files}
	app.Namespace = ns
	if !explicit {
		// Offline input needs no kubeconfig; when there is one, its
		// namespace is the default, as kubectl apply would use it.
		app.Namespace = "default"
		if kns, _, err := r.Flags.ToRawKubeConfigLoader().Namespace(); err == nil && kns != "" {
			app.Namespace = kns
		}
	}
	app.Catalog = loading.Builtin()
	app.Resolver = cluster.NewResolver(app.Catalog)
	app.NewResolver = func(c *loading.Catalog) access.Resolver { return cluster.NewResolver(c) }
	return app
}

// signedIn is a context whose credential plugin has run: what connecting
// to it needs, with no call to the cluster made yet.
type signedIn struct {
	app     *access.App
	cfg     *rest.Config
	exec    *cluster.Exec
	cred    *identity.Credential
	credErr error
}

// signIn reads the kubeconfig's context and runs its credential plugin,
// on the terminal (a device-code prompt shows now).
func (r *RootOptions) signIn(ctx context.Context, in *InputOptions) (*signedIn, error) {
	app := &access.App{Names: in.names, Timeout: in.Timeout, Stdin: r.In, FileLimit: in.MaxInputSize << 20}
	ns, explicit := r.namespace()
	app.NamespaceSet = explicit
	loader := r.Flags.ToRawKubeConfigLoader()
	kns, _, err := loader.Namespace()
	if err != nil {
		return nil, kubeconfigError(err)
	}
	app.Namespace = kns
	if explicit {
		app.Namespace = ns
	}
	cred, credErr := r.credential()
	if credErr == nil {
		if err := unusable(cred); err != nil && r.login() == nil {
			return nil, err
		}
	}
	cfg, ex, err := r.restConfig(ctx, in.Timeout)
	if err != nil {
		return nil, err
	}
	app.Origin = access.Origin{Server: cfg.Host}
	app.People = r.people(in, cred)
	if raw, err := loader.RawConfig(); err == nil {
		app.Origin.Context = raw.CurrentContext
	}
	if r.Flags.Context != nil && *r.Flags.Context != "" {
		app.Origin.Context = *r.Flags.Context
	}
	return &signedIn{app: app, cfg: cfg, exec: ex, cred: cred, credErr: credErr}, nil
}

// connect makes the client and asks the cluster what n needs.
func (s *signedIn) connect(n needs) (*access.App, error) {
	app := s.app
	client, err := cluster.New(s.cfg)
	if err != nil {
		return nil, kubeconfigError(err)
	}
	app.Cluster = client
	if n.credential {
		if s.credErr != nil {
			app.Warnings = append(app.Warnings, rbac.Warnf(access.WarnCredentialUnchecked, "the credentials rules were not checked: %v", s.credErr))
		} else {
			app.Credential = s.cred
		}
	}
	if n.catalog {
		cat, warns, err := cluster.Discover(client.CS.Discovery())
		if err != nil {
			return nil, cluster.Explain(err)
		}
		app.Catalog, app.Warnings = cat, append(app.Warnings, warns...)
	} else {
		app.Catalog = loading.Builtin()
	}
	app.Resolver = cluster.NewResolver(app.Catalog)
	if n.version {
		app.Origin.Version = client.Version()
	}
	return app, nil
}

// credential inspects the kubeconfig credential of the context in use.
func (r *RootOptions) credential() (*identity.Credential, error) {
	loader := r.Flags.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, kubeconfigError(err)
	}
	context := ""
	if r.Flags.Context != nil {
		context = *r.Flags.Context
	}
	c, err := auth.Inspect(&raw, context, loader.ConfigAccess().GetLoadingPrecedence())
	if err == nil {
		if l := r.login(); l != nil {
			l.Describe(c)
		}
	}
	return c, err
}

// unusable says why client-go cannot sign in with a credential the
// inspection recognises, with the inspection's advice, before client-go
// fails with a bare message.
func unusable(c *identity.Credential) error {
	switch c.Method {
	case identity.AzureAuthProvider:
		return safe.Hint(fmt.Errorf("the kubeconfig user %q signs in with the azure auth-provider, which kubectl and client-go removed in 1.26", c.User),
			"convert the kubeconfig with `kubelogin convert-kubeconfig -l azurecli` (or the login mode you use), or pass --login azurecli to sign in without changing the file")
	}
	return nil
}

func kubeconfigError(err error) error {
	return safe.Hint(err, "check --kubeconfig, $KUBECONFIG and --context; or pass -f FILE to work offline")
}

// isTerminal says whether the streams are an interactive terminal.
func isTerminal(in io.Reader, out io.Writer) bool {
	fi, ok1 := in.(*os.File)
	fo, ok2 := out.(*os.File)
	return ok1 && ok2 && term.IsTerminal(int(fi.Fd())) && term.IsTerminal(int(fo.Fd()))
}
