package cmd

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// completionTimeout bounds what a completion may ask the cluster: a shell
// waiting on tab must not hang on an unreachable server.
const completionTimeout = 5 * time.Second

// completer completes verbs, resources (from discovery, else the built-in
// catalog), namespaces and subjects (those the cluster's bindings name)
// for `kubectl access completion` and kubectl's plugin completion.
type completer struct {
	flags *genericclioptions.ConfigFlags
}

// client signs in without prompting (a shell's tab is no place for a
// device code) and asks nothing that takes longer than completionTimeout.
func (c *completer) client() (kubernetes.Interface, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cluster.ProtobufConfig(cfg))
}

func (c *completer) config() (*rest.Config, error) {
	if err := checkKubeconfigFiles(c.flags); err != nil {
		return nil, err
	}
	cfg, err := c.flags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cfg.Timeout = completionTimeout
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	cfg, _, err = cluster.BoundExec(ctx, cfg, cluster.ExecOptions{Timeout: completionTimeout, Stderr: io.Discard})
	return cfg, err
}

// findings are the ids of the findings that have a fix, each described by
// its message (escaped: a newline in an object name must not add a
// candidate), from the cluster or, with -f, from the files.
func (c *completer) findings(cmd *cobra.Command) []string {
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	app := &access.App{Catalog: loading.Builtin(), Timeout: completionTimeout, Namespace: metav1.NamespaceDefault}
	app.Resolver = cluster.NewResolver(app.Catalog)
	if files, _ := cmd.Flags().GetStringSlice("filename"); len(files) > 0 {
		app.Files = files
	} else {
		cfg, err := c.config()
		if err != nil {
			return nil
		}
		if app.Cluster, err = cluster.New(cfg); err != nil {
			return nil
		}
	}
	sess, err := app.Open(ctx, loading.Full)
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range sess.Audit(access.AuditOptions{}).Findings {
		if f.Fixable {
			out = append(out, f.ID+"\t"+safe.Terminal(f.Severity.String()+": "+fitCell(f.Message, 70)))
		}
	}
	return out
}

func (c *completer) resources() []string {
	cat := loading.Builtin()
	if cs, err := c.client(); err == nil {
		if live, _, err := cluster.Discover(cs.Discovery()); err == nil {
			cat = live
		}
	}
	return cat.Names()
}

func (c *completer) namespaces() []string {
	cs, err := c.client()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	l, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(l.Items))
	for _, n := range l.Items {
		out = append(out, n.Name)
	}
	return out
}

// subjects are user:, group: and sa: subjects the bindings name, and the
// three prefixes themselves.
func (c *completer) subjects() []string {
	out := []string{"user:", "group:", "sa:"}
	cs, err := c.client()
	if err != nil {
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	snap, err := cluster.Live(ctx, cs, loading.Scope{ClusterRBAC: true, AllNamespaces: true})
	if err != nil {
		return out
	}
	add := func(s rbacv1.Subject, bindingNamespace string) {
		if sub, ok := rbac.BindingSubject(s, bindingNamespace); ok {
			out = append(out, sub.String())
		}
	}
	for _, b := range snap.ClusterRoleBindings {
		for _, s := range b.Subjects {
			add(s, "")
		}
	}
	for _, b := range snap.RoleBindings {
		for _, s := range b.Subjects {
			add(s, b.Namespace)
		}
	}
	slices.Sort(out[3:])
	return slices.Compact(out)
}

// complete keeps the candidates that start with what is typed.
func complete(cands []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, toComplete) {
			out = append(out, c)
		}
	}
	directive := cobra.ShellCompDirectiveNoFileComp
	if len(out) == 1 && strings.HasSuffix(out[0], ":") {
		directive |= cobra.ShellCompDirectiveNoSpace // user: wants its name next
	}
	return out, directive
}

// addCompletions gives the commands' arguments and -n their completions.
// Each position of each command says what it takes.
func addCompletions(root *cobra.Command, r *RootOptions) {
	c := &completer{flags: r.Flags}
	verbs := func() []string {
		return slices.DeleteFunc(access.KnownVerbs(), func(v string) bool { return v == "*" })
	}
	positions := map[string][]func() []string{
		"who-can":  {verbs, c.resources},
		"can":      {c.subjects, verbs, c.resources},
		"what-can": {c.subjects},
	}
	for _, sub := range root.Commands() {
		if sub.Name() == "fix" {
			sub.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return complete(c.findings(cmd), toComplete)
			}
			continue
		}
		pos, ok := positions[sub.Name()]
		if !ok {
			continue
		}
		sub.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) >= len(pos) {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return complete(pos[len(args)](), toComplete)
		}
	}
	_ = root.RegisterFlagCompletionFunc("namespace", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return complete(c.namespaces(), toComplete)
	})
	// Contexts come from the kubeconfig alone: nothing is asked of a
	// cluster.
	contexts := func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return complete(c.contexts(), toComplete)
	}
	_ = root.RegisterFlagCompletionFunc("context", contexts)
	for _, sub := range root.Commands() {
		if sub.Annotations[fleetAnnotation] != "" {
			_ = sub.RegisterFlagCompletionFunc("contexts", contexts)
		}
	}
}

// contexts are the kubeconfig's context names, sorted.
func (c *completer) contexts() []string {
	if checkKubeconfigFiles(c.flags) != nil {
		return nil
	}
	raw, err := c.flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil
	}
	var out []string
	for name := range raw.Contexts {
		out = append(out, safe.Terminal(name))
	}
	slices.Sort(out)
	return out
}
