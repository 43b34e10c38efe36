package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/azurearm"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/loading"
)

// fleetAnnotation marks the commands that read several clusters.
const fleetAnnotation = "kubectl-access/fleet"

// contextsValue is kubectl's --context made repeatable: each value is
// kept, and the last is what ConfigFlags sees (as a single --context).
type contextsValue struct {
	target *string
	all    *[]string
}

func (v *contextsValue) Set(s string) error {
	*v.target = s
	*v.all = append(*v.all, s)
	return nil
}
func (v *contextsValue) String() string { return *v.target }
func (v *contextsValue) Type() string   { return "string" }

// trackContexts makes --context repeatable on root, and refuses it
// repeated on the commands that read one cluster.
func (r *RootOptions) trackContexts(root *cobra.Command) {
	f := root.PersistentFlags().Lookup("context")
	if f == nil || r.Flags.Context == nil {
		return
	}
	f.Value = &contextsValue{target: r.Flags.Context, all: &r.contexts}
	f.Usage = "The kubeconfig context to use; audit, who-can, can and snapshot take it several times, one cluster each"
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if len(r.contexts) > 1 && c.Annotations[fleetAnnotation] == "" {
			return fmt.Errorf("--context is given %d times: %s reads one cluster (audit, who-can, can and snapshot read several)", len(r.contexts), c.CommandPath())
		}
		if pre != nil {
			return pre(c, args)
		}
		return nil
	}
}

// FleetFlags choose several clusters: --context (repeated), --contexts
// GLOB and --all-contexts, read --parallel at a time; or, with -f, a
// directory `snapshot --all-contexts` wrote.
type FleetFlags struct {
	Contexts    []string
	AllContexts bool
	Parallel    int

	root *RootOptions
}

// addFleetFlags adds the flags and marks c as reading several clusters.
func addFleetFlags(c *cobra.Command, r *RootOptions) *FleetFlags {
	ff := &FleetFlags{root: r}
	c.Flags().StringSliceVar(&ff.Contexts, "contexts", nil, "Read every kubeconfig context matching these globs (e.g. 'prod-*'), one cluster each")
	c.Flags().BoolVar(&ff.AllContexts, "all-contexts", false, "Read every context of the kubeconfig, one cluster each")
	c.Flags().IntVar(&ff.Parallel, "parallel", access.DefaultParallel, "With several clusters: how many are read at once (signing in is done first, one at a time)")
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[fleetAnnotation] = "true"
	return ff
}

// On says whether the command reads several clusters: the fleet flags, a
// repeated --context, or a fleet directory with -f.
func (ff *FleetFlags) On(in *InputOptions) bool {
	return ff.AllContexts || len(ff.Contexts) > 0 || len(ff.root.contexts) > 1 || in.fleet != nil
}

// Validate checks the fleet flags against the rest.
func (ff *FleetFlags) Validate(in *InputOptions) error {
	if ff.Parallel < 1 {
		return fmt.Errorf("--parallel %d: read at least 1 cluster at a time", ff.Parallel)
	}
	live := ff.AllContexts || len(ff.Contexts) > 0 || len(ff.root.contexts) > 1
	if live && in.Offline() {
		return fmt.Errorf("-f reads files, --context/--contexts/--all-contexts read clusters: give one or the other (a fleet's snapshots: -f DIR, as snapshot --all-contexts wrote it)")
	}
	if ff.AllContexts && len(ff.Contexts) > 0 {
		return fmt.Errorf("--all-contexts and --contexts: give one")
	}
	if live {
		f := ff.root.Flags
		for name, set := range map[string]bool{
			"--server": f.APIServer != nil && *f.APIServer != "", "--cluster": f.ClusterName != nil && *f.ClusterName != "",
			"--user": f.AuthInfoName != nil && *f.AuthInfoName != "", "--token": f.BearerToken != nil && *f.BearerToken != "",
		} {
			if set {
				return fmt.Errorf("%s names one cluster or identity; with several contexts each context's own is used", name)
			}
		}
	}
	return nil
}

// contextNames are the contexts the flags choose, in the kubeconfig's
// (sorted) order for globs, as given for --context.
func (ff *FleetFlags) contextNames() ([]string, error) {
	raw, err := ff.root.Flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, kubeconfigError(err)
	}
	var all []string
	for name := range raw.Contexts {
		all = append(all, name)
	}
	slices.Sort(all)
	if len(all) == 0 {
		return nil, kubeconfigError(fmt.Errorf("the kubeconfig has no contexts"))
	}
	var names []string
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if ff.AllContexts {
		return all, nil
	}
	for _, n := range ff.root.contexts {
		if _, ok := raw.Contexts[n]; !ok {
			return nil, kubeconfigError(fmt.Errorf("--context %q: no such context in the kubeconfig (it has %s)", n, quoteList(all)))
		}
		add(n)
	}
	for _, g := range ff.Contexts {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("--contexts %q: %v", g, err)
		}
		matched := false
		for _, n := range all {
			if ok, _ := path.Match(g, n); ok {
				add(n)
				matched = true
			}
		}
		if !matched {
			return nil, kubeconfigError(fmt.Errorf("--contexts %q matches no context of the kubeconfig (it has %s)", g, quoteList(all)))
		}
	}
	return names, nil
}

func quoteList(names []string) string {
	q := make([]string, 0, min(len(names), 20))
	for _, n := range names[:min(len(names), 20)] {
		q = append(q, fmt.Sprintf("%q", n))
	}
	if len(names) > 20 {
		q = append(q, fmt.Sprintf("and %d more", len(names)-20))
	}
	return strings.Join(q, ", ")
}

// forContext is r reading one context: the kubeconfig flags copied, the
// context set (ConfigFlags caches its loader, so each context gets its
// own).
func (r *RootOptions) forContext(name string) *RootOptions {
	c := *r
	f, src := genericclioptions.NewConfigFlags(false), r.Flags
	f.CacheDir, f.KubeConfig, f.Namespace = src.CacheDir, src.KubeConfig, src.Namespace
	f.ClusterName, f.AuthInfoName, f.APIServer, f.TLSServerName = src.ClusterName, src.AuthInfoName, src.APIServer, src.TLSServerName
	f.Insecure, f.CertFile, f.KeyFile, f.CAFile, f.BearerToken = src.Insecure, src.CertFile, src.KeyFile, src.CAFile, src.BearerToken
	f.Impersonate, f.ImpersonateUID, f.ImpersonateGroup, f.ImpersonateUserExtra = src.Impersonate, src.ImpersonateUID, src.ImpersonateGroup, src.ImpersonateUserExtra
	f.Username, f.Password, f.Timeout, f.DisableCompression, f.ProxyURL = src.Username, src.Password, src.Timeout, src.DisableCompression, src.ProxyURL
	f.WrapConfigFn = src.WrapConfigFn
	f.Context = &name
	c.Flags = f
	c.contexts = nil
	return &c
}

// Fleet is the clusters the flags choose, each signed in (one at a time,
// on the terminal, before any parallel work) and ready to connect; or,
// offline, the fleet directory's snapshots. A context that cannot sign in
// is a member whose Connect says why.
func (ff *FleetFlags) Fleet(ctx context.Context, in *InputOptions, n needs) (*access.Fleet, error) {
	r := ff.root
	fl := &access.Fleet{Parallel: ff.Parallel}
	if terminal(r.ErrOut) {
		fl.Progress = progressLine(r.ErrOut)
	}
	if fx := in.fleet; fx != nil {
		for _, e := range fx.Index.Clusters {
			m := access.Member{Context: e.Context, Server: e.Server}
			switch {
			case e.Error != "":
				msg := e.Error
				m.Connect = func(context.Context) (*access.App, error) {
					return nil, fmt.Errorf("not saved in %s: %s", fx.Dir, msg)
				}
			default:
				file := fx.Path(e)
				m.Connect = func(context.Context) (*access.App, error) { return r.offlineApp(in, []string{file}), nil }
			}
			fl.Members = append(fl.Members, m)
		}
		return fl, nil
	}
	names, err := ff.contextNames()
	if err != nil {
		return nil, err
	}
	// The closure --login installs reads the root's options.
	r.Login.Timeout = in.Timeout
	var azure *access.AzureSource
	if in.AzureRBAC {
		if in.AzureClusterID != "" && len(names) > 1 {
			return nil, fmt.Errorf("--azure-cluster-id names one cluster; with %d contexts each one's AKS cluster is found from its server", len(names))
		}
		// One Azure sign-in for every member, on the terminal first; each
		// member finds its own cluster by its server. The members are read
		// in parallel, under the fleet's own progress lines.
		azure = r.azureSource(ctx, in)
		if c, ok := azure.ARM.(*azurearm.Client); ok {
			quiet := *c
			quiet.Options.Progress = nil
			// Every member's settings from one Azure Resource Graph query.
			quiet.Options.Posture = &azurearm.PostureCache{}
			azure.ARM = &quiet
		}
	}
	if len(in.AzureFrom) > 0 {
		if len(names) > 1 {
			return nil, fmt.Errorf("--azure-rbac-from's files are one cluster's Azure data; with %d contexts read each one's from ARM with --azure-rbac", len(names))
		}
		// Read now: a bad file is an error of the command, not of a member.
		read := in.readAzureFiles(ctx, r.In)
		if _, _, err := read(ctx); err != nil {
			return nil, err
		}
		azure = &access.AzureSource{Files: read}
	}
	for i, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if terminal(r.ErrOut) {
			fmt.Fprintf(r.ErrOut, "[%d/%d] %s: signing in\n", i+1, len(names), safe.Terminal(name))
		}
		m := access.Member{Context: name}
		s, err := r.forContext(name).signIn(ctx, in)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			m.Server = ff.server(name)
			m.Connect = func(context.Context) (*access.App, error) { return nil, err }
		} else {
			m.Server = s.cfg.Host
			if s.exec != nil {
				// A token that expires during the parallel work is renewed
				// without a prompt: the prompts were all shown here.
				s.exec.Quiet(io.Discard)
			}
			m.Connect = func(context.Context) (*access.App, error) {
				app, err := s.connect(n)
				if err == nil && azure != nil {
					z := *azure
					app.Azure = &z
				}
				return app, err
			}
		}
		fl.Members = append(fl.Members, m)
	}
	return fl, nil
}

// server is the kubeconfig's server for a context, for the row of one
// that could not sign in; "" when the kubeconfig does not say.
func (ff *FleetFlags) server(context string) string {
	raw, err := ff.root.Flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return ""
	}
	if c := raw.Contexts[context]; c != nil {
		if cl := raw.Clusters[c.Cluster]; cl != nil {
			return cl.Server
		}
	}
	return ""
}

// askFleet asks each cluster of the fleet the flags choose (who-can,
// can), keeping each answer and, apart, a failure to verify it.
func askFleet[A any](ctx context.Context, ff *FleetFlags, in *InputOptions, scope func(*access.App) (loading.Scope, error),
	ask func(context.Context, *access.Session) (A, error, error)) ([]access.Result, []A, []error, error) {
	fl, err := ff.Fleet(ctx, in, needs{catalog: true})
	if err != nil {
		return nil, nil, nil, err
	}
	answers, verrs := make([]A, len(fl.Members)), make([]error, len(fl.Members))
	results := fl.Each(ctx, scope, func(i int, s *access.Session) error {
		var err error
		answers[i], verrs[i], err = ask(ctx, s)
		return err
	})
	if ctx.Err() != nil {
		return nil, nil, nil, ctx.Err()
	}
	return results, answers, verrs, nil
}

// progressLine writes a line as each cluster is read, on a terminal.
func progressLine(w io.Writer) func(access.Progress) {
	var mu sync.Mutex
	done := 0
	return func(p access.Progress) {
		if !p.Done {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		took := p.Took.Round(100 * time.Millisecond)
		if p.Took < time.Second {
			took = p.Took.Round(time.Millisecond) // not "0s"
		}
		status := "read in " + took.String()
		switch {
		case p.Err != nil:
			status = "failed: " + safe.Error(p.Err)
		case p.Incomplete:
			status += ", incomplete (parts could not be read)"
		}
		fmt.Fprintf(w, "[%d/%d] %s: %s\n", done, p.Of, safe.Terminal(p.Context), status)
	}
}

// terminal says whether w is a terminal.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// clusterHeading heads a cluster's part of a fleet's table output.
func clusterHeading(w io.Writer, r access.Result) {
	server := ""
	if r.Server != "" {
		server = " (" + r.Server + ")"
	}
	fmt.Fprintf(w, "== %s ==\n", safe.Terminal(r.Context+server))
}

// docStart begins a cluster's part of a fleet's answers: a heading above
// a table, a document separator between YAML documents (JSON documents
// follow one another, as jq reads them).
func docStart(w io.Writer, format string, r access.Result) {
	switch format {
	case FormatJSON:
	case FormatYAML:
		fmt.Fprintln(w, "---")
	default:
		clusterHeading(w, r)
	}
}

// prefixed writes each line to w headed by the cluster's name, so a
// fleet's warnings on stderr say which cluster they are about.
type prefixed struct {
	w      io.Writer
	prefix string
	mid    bool
}

func (p *prefixed) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		if !p.mid {
			if _, err := io.WriteString(p.w, p.prefix); err != nil {
				return 0, err
			}
		}
		if _, err := io.WriteString(p.w, line); err != nil {
			return 0, err
		}
		p.mid = !strings.HasSuffix(line, "\n")
	}
	return len(b), nil
}

func clusterErrOut(w io.Writer, context string) io.Writer {
	return &prefixed{w: w, prefix: "[" + safe.Terminal(context) + "] "}
}

// fleetNotRead says, on w, which clusters were not read, and whether any
// was: a fleet command's answer is then incomplete (exit 4).
func fleetNotRead(w io.Writer, results []access.Result) bool {
	var failed []string
	for _, r := range results {
		if r.Err != nil {
			failed = append(failed, safe.Terminal(r.Context))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "%d of %d clusters were not read (%s): the answer is incomplete (exit 4)\n", len(failed), len(results), strings.Join(failed, ", "))
	}
	return len(failed) > 0
}
