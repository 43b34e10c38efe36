package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// queryOptions are what who-can, what-can, can and snapshot share: where
// the snapshot comes from, the namespace scope and the output format.
type queryOptions struct {
	flags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	Filenames     []string
	AllNamespaces bool
	Output        string
	Timeout       time.Duration
	GroupNames    string

	namespace string // resolved: -n, else the kubeconfig's, else "default"
	offline   bool
	catalog   source.Catalog
	client    kubernetes.Interface
	config    *rest.Config // live: the client's config
	warnings  []string
	locations map[string]source.Location // offline: where each object was read
	names     auth.Names                 // group object id -> display name
}

var outputFormats = []string{"table", "wide", "json", "yaml"}

func (o *queryOptions) addFlags(c *cobra.Command) {
	c.Flags().StringSliceVarP(&o.Filenames, "filename", "f", nil, "Read manifests or a saved snapshot instead of a cluster: files, directories (recursive) or - for stdin")
	c.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Across every namespace")
	c.Flags().StringVarP(&o.Output, "output", "o", "table", "Output format: one of "+strings.Join(outputFormats, ", "))
	c.Flags().DurationVar(&o.Timeout, "timeout", 2*time.Minute, "How long loading from the cluster may take")
	c.Flags().StringVar(&o.GroupNames, "group-names", "", "File of group object id -> display name (JSON or CSV) to show beside Entra group ids")
}

// label renders a subject for a table, a group with its name beside its
// object id when --group-names knows it.
func (o *queryOptions) label(s rbac.Subject) string {
	if s.Kind == rbac.GroupKind {
		return "group:" + o.names.Label(s.Name)
	}
	return s.String()
}

// annotate puts known group names beside group ids in a line of text.
func (o *queryOptions) annotate(text string) string { return o.names.Annotate(text) }

// complete resolves the namespace and, for live use, the client and the
// server's resource catalog.
func (o *queryOptions) complete(needCatalog bool) error {
	o.offline = len(o.Filenames) > 0
	if o.GroupNames != "" {
		names, err := auth.LoadNames(o.GroupNames)
		if err != nil {
			return err
		}
		o.names = names
	}
	ns, _, err := o.flags.ToRawKubeConfigLoader().Namespace()
	switch {
	case err == nil:
		o.namespace = ns
	case o.offline:
		// Offline input needs no kubeconfig; -n still counts.
		o.namespace = "default"
		if o.flags.Namespace != nil && *o.flags.Namespace != "" {
			o.namespace = *o.flags.Namespace
		}
	default:
		return kubeconfigError(err)
	}
	if o.offline {
		o.catalog = source.Builtin()
		return nil
	}
	cfg, err := o.flags.ToRESTConfig()
	if err != nil {
		return kubeconfigError(err)
	}
	cfg = source.ProtobufConfig(cfg)
	o.config = cfg
	if o.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if needCatalog {
		dc, err := o.flags.ToDiscoveryClient()
		if err != nil {
			return kubeconfigError(err)
		}
		cat, warns, err := source.Discover(dc)
		if err != nil {
			return clusterError(err)
		}
		o.catalog, o.warnings = cat, append(o.warnings, warns...)
	}
	return nil
}

func (o *queryOptions) validate() error {
	for _, f := range outputFormats {
		if o.Output == f {
			return nil
		}
	}
	return fmt.Errorf("unknown output format %q: use one of %s", o.Output, strings.Join(outputFormats, ", "))
}

// credential inspects the kubeconfig credential of the context in use.
func (o *queryOptions) credential() (*auth.Credential, error) {
	loader := o.flags.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, kubeconfigError(err)
	}
	context := ""
	if o.flags.Context != nil {
		context = *o.flags.Context
	}
	c, err := auth.Inspect(&raw, context, loader.ConfigAccess().GetLoadingPrecedence())
	if err == nil {
		if l := loginOf(o.flags); l != nil {
			l.Describe(c)
		}
	}
	return c, err
}

// load reads the snapshot a query needs and indexes it.
func (o *queryOptions) load(ctx context.Context, scope source.Scope) (*rbac.Index, error) {
	if o.offline {
		snap, where, err := source.Files(o.Filenames, o.In)
		if err != nil {
			return nil, err
		}
		o.locations = where
		return rbac.NewIndex(snap), nil
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	probes := make(chan *rbac.Probes, 1)
	if scope.Probes {
		go func() { probes <- source.ProbeNodes(ctx, o.config) }()
	} else {
		probes <- nil
	}
	snap, err := source.Live(ctx, o.client, scope)
	if err != nil {
		return nil, clusterError(err)
	}
	snap.Probes = <-probes
	return rbac.NewIndex(snap), nil
}

// checkNamespace warns when the namespace asked about does not exist: the
// answer stands (ClusterRoleBindings still apply) but is likely a typo.
func (o *queryOptions) checkNamespace(ctx context.Context, ix *rbac.Index, ns string) {
	if ns == "" {
		return
	}
	if o.offline {
		s := ix.Snapshot()
		if len(s.Namespaces) == 0 {
			return
		}
		for _, n := range s.Namespaces {
			if n.Name == ns {
				return
			}
		}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := o.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			return
		}
	}
	o.warnings = append(o.warnings, fmt.Sprintf("namespace %q does not exist; only cluster-wide grants apply there", ns))
}

// attributes turns VERB RESOURCE [NAME] into a request. Cluster-scoped
// resources are asked cluster-wide whatever -n says, and a named namespace
// is asked in itself, as the API server's request info does.
func (o *queryOptions) attributes(verb, resourceArg, name string) (rbac.Attributes, error) {
	verb = strings.ToLower(verb)
	if strings.HasPrefix(resourceArg, "/") {
		if name != "" {
			return rbac.Attributes{}, fmt.Errorf("a non-resource URL takes no NAME (got %q)", name)
		}
		if !knownURLVerbs[verb] {
			o.warnings = append(o.warnings, fmt.Sprintf("non-resource requests use HTTP verbs (get, post, put, patch, delete, head, options); %q matches only rules that name it or *", verb))
		}
		return rbac.Attributes{Verb: verb, Path: resourceArg}, nil
	}
	r, warns, err := o.catalog.Resolve(resourceArg)
	if err != nil {
		return rbac.Attributes{}, err
	}
	o.warnings = append(o.warnings, warns...)
	if !knownVerbs[verb] {
		hint := ""
		if s := closest(verb, knownVerbList); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		o.warnings = append(o.warnings, fmt.Sprintf("%q is not a standard verb%s; answering for it as written", verb, hint))
	}
	a := rbac.Attributes{Verb: verb, APIGroup: r.Group, Resource: r.Resource, Subresource: r.Subresource, Name: name}
	switch {
	case r.Group == "" && r.Resource == "namespaces" && name != "":
		a.Namespace = name
	case r.Namespaced:
		a.Namespace = o.namespace
	}
	return a, nil
}

var knownVerbList = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
	"use", "bind", "escalate", "impersonate", "approve", "sign", "attest", "proxy", "*"}

var knownVerbs = func() map[string]bool {
	m := map[string]bool{}
	for _, v := range knownVerbList {
		m[v] = true
	}
	return m
}()

var knownURLVerbs = map[string]bool{"get": true, "post": true, "put": true, "patch": true, "delete": true, "head": true, "options": true, "*": true}

// closest returns the candidate within edit distance 2 of s, if any.
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// checkSubject warns about a subject that no binding names and, for a
// service account, one that does not exist: most often a typo.
func (o *queryOptions) checkSubject(ctx context.Context, ix *rbac.Index, s rbac.Subject) {
	if !ix.Names(s) {
		o.warnings = append(o.warnings, fmt.Sprintf("no binding names %s; it holds only what its groups are granted", s))
	}
	if s.Kind != rbac.ServiceAccountKind {
		return
	}
	if o.offline {
		if sas := ix.Snapshot().ServiceAccounts; len(sas) > 0 {
			for _, sa := range sas {
				if sa.Namespace == s.Namespace && sa.Name == s.Name {
					return
				}
			}
			o.warnings = append(o.warnings, fmt.Sprintf("service account %s/%s is not in the input", s.Namespace, s.Name))
		}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := o.client.CoreV1().ServiceAccounts(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		o.warnings = append(o.warnings, fmt.Sprintf("service account %s/%s does not exist", s.Namespace, s.Name))
	}
}

func kubeconfigError(err error) error {
	return fmt.Errorf("%w\n(check --kubeconfig, $KUBECONFIG and --context; or pass -f FILE to work offline)", err)
}

// clusterError explains the failures a user can act on.
func clusterError(err error) error {
	switch {
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w\n(the cluster did not accept your credentials: sign in again, e.g. `kubelogin convert-kubeconfig` / `az login`, or refresh the token)", err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w\n(ask your administrator for `list` on roles, clusterroles, rolebindings and clusterrolebindings)", err)
	}
	return err
}

// parseSubject reads a SUBJECT argument and adds the --group memberships,
// which only a user or service account can have.
func parseSubject(arg string, groups []string) (rbac.Subject, error) {
	s, err := rbac.ParseSubject(arg)
	if err != nil {
		return s, err
	}
	if s.Kind == rbac.GroupKind && len(groups) > 0 {
		return s, fmt.Errorf("--group adds memberships to a user or service account, not to group %s", s.Name)
	}
	s.Groups = groups
	return s, nil
}
