package fix

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
)

type (
	rbacCRB  = rbacv1.ClusterRoleBinding
	rbacRB   = rbacv1.RoleBinding
	rbacCR   = rbacv1.ClusterRole
	rbacR    = rbacv1.Role
	corev1NS = corev1.Namespace
)

// generators are each fixable rule's candidate fixes, the smallest first;
// For offers the first that verifies. This map is the one declaration of
// which rules have a fix: the audit marks findings fixable through Has.
var generators = map[string][]generator{
	// escalate, bind and impersonate are verbs a role can lose while the
	// subject keeps the rest of it (a wildcard role in one namespace).
	"escalate-or-bind":         {dropVerbs("escalate", "bind"), removeFindingSubjects},
	"impersonate":              {dropVerbs("impersonate"), removeFindingSubjects},
	"wildcard-grant":           {narrowWildcard, removeFindingSubjects},
	"escalation-path":          {removeStepper},
	"dangling-binding":         {fixDangling},
	"unused-role":              {deleteRole},
	"aggregation-latent-grant": {removeAggregateLabels},
	"gmsa-use-denied":          {grantUse},
	"gmsa-use-broad":           {restrictUse, removeFindingSubjects},
	"gmsa-namespace-opt-out":   {removeOptOutLabel},
}

func init() {
	// Every rule whose finding is "this subject holds this through these
	// bindings": take the subject out of them.
	for _, r := range []string{"cluster-admin-equivalent", "secrets-read", "rbac-write",
		"pod-exec", "workload-create", "nodes-proxy", "serviceaccount-token-create", "csr-approve", "webhook-config-write",
		"persistentvolume-create", "node-write", "gmsa-spec-write", "anonymous-access", "broad-group-grant",
		"system-masters-binding", "default-serviceaccount-grant", "gmsa-credential-secret-readable", "ad-keytab-readable",
		"workload-identity-admin", "node-group-binding"} {
		generators[r] = []generator{removeFindingSubjects}
	}
}

// Has says whether rule has a fix (audit.Options.Fixable).
func Has(rule string) bool { _, ok := generators[rule]; return ok }

// Rules returns the names of the rules with a fix.
func Rules() []string {
	var out []string
	for r := range generators {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

func ref(apiVersion, kind, name, namespace string) rbac.ObjectRef {
	return rbac.ObjectRef{APIVersion: apiVersion, Kind: kind, Name: name, Namespace: namespace}
}

func rbacRef(r rbac.ObjectRef) rbac.ObjectRef { return r.WithAPIVersion(rbac.RBACAPIVersion) }

func isBinding(kind string) bool { return kind == "RoleBinding" || kind == "ClusterRoleBinding" }

// findingBindings are the bindings a finding's evidence runs through, and
// those it names as objects, once each.
func findingBindings(f *audit.Finding) []rbac.ObjectRef {
	var out []rbac.ObjectRef
	add := func(r rbac.ObjectRef) {
		if isBinding(r.Kind) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, p := range f.Evidence {
		if p.Binding != nil {
			add(rbacRef(*p.Binding))
		}
	}
	for _, o := range f.Objects {
		add(o)
	}
	return out
}

// bindingSubjects returns the subjects written in a binding, and its
// metadata.
func bindingSubjects(s *rbac.Snapshot, r rbac.ObjectRef) ([]rbacv1.Subject, *metav1.ObjectMeta, error) {
	switch r.Kind {
	case "ClusterRoleBinding":
		for i := range s.ClusterRoleBindings {
			if b := &s.ClusterRoleBindings[i]; b.Name == r.Name {
				return b.Subjects, &b.ObjectMeta, nil
			}
		}
	case "RoleBinding":
		for i := range s.RoleBindings {
			if b := &s.RoleBindings[i]; b.Name == r.Name && b.Namespace == r.Namespace {
				return b.Subjects, &b.ObjectMeta, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("%s is not in the snapshot", r)
}

// matches says whether a subject as written in a binding is s.
func matches(w rbacv1.Subject, bindingNS string, s rbac.Subject) bool {
	if w.Kind != s.Kind || w.Name != s.Name {
		return false
	}
	return w.Kind != rbacv1.ServiceAccountKind || cmp.Or(w.Namespace, bindingNS) == s.Namespace
}

// removeSubjects removes every subject of who from each binding: one
// test and one remove per subject (highest index first, so the indexes
// stay right), or a guarded delete when none would be left.
func removeSubjects(c *fixContext, bindings []rbac.ObjectRef, who []rbac.Subject) (*Fix, error) {
	fx := &Fix{}
	var names []string
	for _, b := range bindings {
		subjects, meta, err := bindingSubjects(c.snap, b)
		if err != nil {
			return nil, err
		}
		var idx []int
		for i, w := range subjects {
			if slices.ContainsFunc(who, func(s rbac.Subject) bool { return matches(w, b.Namespace, s) }) {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			continue
		}
		names = append(names, b.String())
		if len(idx) == len(subjects) {
			fx.Operations = append(fx.Operations, Operation{Action: Delete, Target: b, Guard: guard(meta, "/subjects", subjects)})
			continue
		}
		var ops []PatchOp
		for _, i := range slices.Backward(idx) {
			p := fmt.Sprintf("/subjects/%d", i)
			ops = append(ops, PatchOp{Op: "test", Path: p, Value: subjects[i]}, PatchOp{Op: "remove", Path: p})
		}
		fx.Operations = append(fx.Operations, Operation{Action: Patch, Target: b, Patch: ops})
	}
	if len(fx.Operations) == 0 {
		return nil, errors.New("no binding names the finding's subjects")
	}
	whoNames := make([]string, len(who))
	for i, s := range who {
		whoNames[i] = s.String()
	}
	fx.Description = fmt.Sprintf("remove %s from %s", strings.Join(whoNames, ", "), strings.Join(names, ", "))
	return fx, nil
}

// guard is what a delete checks first: the object's uid and
// resourceVersion when the snapshot has them (live), else the content the
// fix was computed from.
func guard(meta *metav1.ObjectMeta, path string, content any) []PatchOp {
	if meta.UID != "" && meta.ResourceVersion != "" {
		return []PatchOp{{Op: "test", Path: "/metadata/uid", Value: string(meta.UID)},
			{Op: "test", Path: "/metadata/resourceVersion", Value: meta.ResourceVersion}}
	}
	return []PatchOp{{Op: "test", Path: path, Value: content}}
}

func removeFindingSubjects(c *fixContext) (*Fix, error) {
	if len(c.f.Subjects) == 0 {
		return nil, errors.New("the finding names no subject")
	}
	return removeSubjects(c, findingBindings(c.f), c.f.Subjects)
}

// removeStepper takes the escalating subject (the finding's first) out of
// the bindings that let it create pods or mint tokens; the powerful
// service accounts keep their rights.
func removeStepper(c *fixContext) (*Fix, error) {
	who := c.f.Subjects[:1]
	var steps []rbac.ObjectRef
	for _, b := range findingBindings(c.f) {
		subjects, _, err := bindingSubjects(c.snap, b)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(subjects, func(w rbacv1.Subject) bool { return matches(w, b.Namespace, who[0]) }) {
			steps = append(steps, b)
		}
	}
	return removeSubjects(c, steps, who)
}

func fixDangling(c *fixContext) (*Fix, error) {
	if len(c.f.Objects) == 0 {
		return nil, errors.New("the finding names no binding")
	}
	b := c.f.Objects[0]
	if len(c.f.Subjects) > 0 {
		return removeSubjects(c, []rbac.ObjectRef{b}, c.f.Subjects)
	}
	subjects, meta, err := bindingSubjects(c.snap, b)
	if err != nil {
		return nil, err
	}
	return &Fix{Description: "delete " + b.String() + ", whose role does not exist",
		Operations: []Operation{{Action: Delete, Target: b, Guard: guard(meta, "/subjects", subjects)}}}, nil
}

func deleteRole(c *fixContext) (*Fix, error) {
	r := c.f.Objects[0]
	m := metaOf(c.snap, r)
	if m == nil {
		return nil, fmt.Errorf("%s is not in the snapshot", r)
	}
	rules, _ := roleRules(c.snap, r)
	return &Fix{Description: "delete " + r.String() + ", which nothing binds",
		Operations: []Operation{{Action: Delete, Target: r, Guard: guard(m, "/rules", rules)}}}, nil
}

// roleRules returns a role's rules as written, and whether it aggregates.
func roleRules(s *rbac.Snapshot, r rbac.ObjectRef) ([]rbacv1.PolicyRule, bool) {
	switch r.Kind {
	case "ClusterRole":
		for _, o := range s.ClusterRoles {
			if o.Name == r.Name {
				return o.Rules, o.AggregationRule != nil
			}
		}
	case "Role":
		for _, o := range s.Roles {
			if o.Name == r.Name && o.Namespace == r.Namespace {
				return o.Rules, false
			}
		}
	}
	return nil, false
}

// replaceRules patches each evidence path's rule in its role with what
// narrow makes of it, guarded by a test of the whole old rule.
func replaceRules(c *fixContext, narrow func(rbacv1.PolicyRule) (rbacv1.PolicyRule, error)) (*Fix, error) {
	fx := &Fix{}
	done := map[string]bool{}
	var what []string
	for _, p := range c.f.Evidence {
		r := rbacRef(p.Role)
		rules, aggregated := roleRules(c.snap, r)
		if aggregated {
			return nil, fmt.Errorf("%s is aggregated: its rules come from the roles it selects", r)
		}
		i := slices.IndexFunc(rules, func(x rbacv1.PolicyRule) bool { return reflect.DeepEqual(x, p.Rule) })
		if i < 0 {
			return nil, fmt.Errorf("%s has no rule %s", r, rbac.RuleString(p.Rule))
		}
		key := fmt.Sprintf("%s#%d", r, i)
		if done[key] {
			continue
		}
		done[key] = true
		nr, err := narrow(rules[i])
		if err != nil {
			return nil, err
		}
		path := fmt.Sprintf("/rules/%d", i)
		fx.Operations = append(fx.Operations, Operation{Action: Patch, Target: r,
			Patch: []PatchOp{{Op: "test", Path: path, Value: rules[i]}, {Op: "replace", Path: path, Value: nr}}})
		what = append(what, fmt.Sprintf("%s rule %q to %q", r, rbac.RuleString(rules[i]), rbac.RuleString(nr)))
	}
	if len(fx.Operations) == 0 {
		return nil, errors.New("no rule to narrow")
	}
	fx.Description = "narrow " + strings.Join(what, ", ")
	return fx, nil
}

// allVerbs are the verbs a wildcard verb stands for in practice: every
// verb the API server and the bundled authorizers check.
var allVerbs = rbac.Verbs()

// KnownVerb says whether v is a verb the API server checks (--keep takes
// only these).
func KnownVerb(v string) bool { return rbac.KnownVerb(v) }

// dropVerbs narrows each rule of the finding's evidence to lose verbs:
// named ones are removed, a wildcard becomes every other verb. A role
// Kubernetes reconciles is not narrowed (the change would be undone).
func dropVerbs(verbs ...string) generator {
	return func(c *fixContext) (*Fix, error) {
		for _, p := range c.f.Evidence {
			if m := metaOf(c.snap, rbacRef(p.Role)); m != nil && m.Annotations["rbac.authorization.kubernetes.io/autoupdate"] == "true" {
				return nil, fmt.Errorf("%s is reconciled by Kubernetes: narrowing it would be undone", p.Role)
			}
		}
		return replaceRules(c, func(r rbacv1.PolicyRule) (rbacv1.PolicyRule, error) {
			n := *r.DeepCopy()
			var kept []string
			for _, v := range r.Verbs {
				switch {
				case v == "*":
					for _, all := range allVerbs {
						if !slices.Contains(verbs, all) && !slices.Contains(kept, all) {
							kept = append(kept, all)
						}
					}
				case !slices.Contains(verbs, v) && !slices.Contains(kept, v):
					kept = append(kept, v)
				}
			}
			if len(kept) == 0 {
				return n, errors.New("the rule holds nothing else: remove the subject instead")
			}
			n.Verbs = kept
			return n, nil
		})
	}
}

func narrowWildcard(c *fixContext) (*Fix, error) {
	return replaceRules(c, func(r rbacv1.PolicyRule) (rbacv1.PolicyRule, error) {
		n := *r.DeepCopy()
		if len(r.NonResourceURLs) > 0 {
			return n, errors.New("a non-resource URL rule: remove the subject instead")
		}
		if slices.Contains(r.APIGroups, "*") {
			return n, errors.New("apiGroups * cannot be listed: remove the subject instead")
		}
		if slices.Contains(r.Verbs, "*") {
			n.Verbs = slices.Clone(c.o.Keep)
		}
		if slices.Contains(r.Resources, "*") {
			if c.o.Resources == nil {
				return n, errors.New("resources * cannot be listed without the server's resources")
			}
			var res []string
			for _, g := range r.APIGroups {
				res = append(res, c.o.Resources(g)...)
			}
			for _, x := range r.Resources {
				if x != "*" && !slices.Contains(res, x) {
					res = append(res, x)
				}
			}
			if len(res) == 0 {
				return n, fmt.Errorf("no resources known in groups %v", r.APIGroups)
			}
			slices.Sort(res)
			n.Resources = slices.Compact(res)
		}
		return n, nil
	})
}

func removeAggregateLabels(c *fixContext) (*Fix, error) {
	r := c.f.Objects[0]
	m := metaOf(c.snap, r)
	if m == nil {
		return nil, fmt.Errorf("%s is not in the snapshot", r)
	}
	var ops []PatchOp
	var labels []string
	for _, k := range sortedKeys(m.Labels) {
		if strings.HasPrefix(k, "rbac.authorization.k8s.io/aggregate-to-") {
			p := "/metadata/labels/" + pointer(k)
			ops = append(ops, PatchOp{Op: "test", Path: p, Value: m.Labels[k]}, PatchOp{Op: "remove", Path: p})
			labels = append(labels, k)
		}
	}
	if len(ops) == 0 {
		return nil, errors.New("no aggregate-to label")
	}
	return &Fix{Description: fmt.Sprintf("remove %s from %s", strings.Join(labels, ", "), r),
		Operations: []Operation{{Action: Patch, Target: r, Patch: ops}}}, nil
}

func removeOptOutLabel(c *fixContext) (*Fix, error) {
	r := c.f.Objects[0]
	m := metaOf(c.snap, r)
	if m == nil {
		return nil, fmt.Errorf("%s is not in the snapshot", r)
	}
	var ops []PatchOp
	for _, k := range []string{"windows.k8s.io/disabled", "gmsa-webhook"} {
		if v, ok := m.Labels[k]; ok {
			p := "/metadata/labels/" + pointer(k)
			ops = append(ops, PatchOp{Op: "test", Path: p, Value: v}, PatchOp{Op: "remove", Path: p})
		}
	}
	if len(ops) == 0 {
		return nil, errors.New("no opt-out label")
	}
	return &Fix{Description: "remove the gMSA webhook opt-out label from " + r.String(),
		Operations: []Operation{{Action: Patch, Target: r, Patch: ops}}}, nil
}

// grantUse adds the missing grant the AKS documentation prescribes: a
// ClusterRole allowing use of the one credential spec, bound by a
// RoleBinding in the pod's namespace to its service account.
func grantUse(c *fixContext) (*Fix, error) {
	if len(c.f.Subjects) == 0 || len(c.f.Objects) < 2 {
		return nil, errors.New("the finding names no service account and spec")
	}
	sa, spec := c.f.Subjects[0], c.f.Objects[1].Name
	rule := rbacv1.PolicyRule{APIGroups: []string{rbac.GMSAGroup}, Resources: []string{"gmsacredentialspecs"}, ResourceNames: []string{spec}, Verbs: []string{"use"}}
	fx := &Fix{Description: fmt.Sprintf("let %s use credential spec %s in namespace %s", sa, spec, sa.Namespace)}
	role := "gmsa-use-" + spec
	rules, _ := roleRules(c.snap, ref("", "ClusterRole", role, ""))
	switch {
	case rules == nil:
		cr := rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: role}, Rules: []rbacv1.PolicyRule{rule}}
		fx.Operations = append(fx.Operations, createOp(rbacRef(rbac.ObjectRef{Kind: "ClusterRole", Name: role}), cr))
	case !reflect.DeepEqual(rules, []rbacv1.PolicyRule{rule}):
		return nil, fmt.Errorf("ClusterRole %s exists with other rules", role)
	}
	name := role + "-" + sa.Name
	rb := rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: sa.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: sa.Namespace}}}
	if s, _, _ := bindingSubjects(c.snap, ref("", "RoleBinding", name, sa.Namespace)); s != nil {
		return nil, fmt.Errorf("RoleBinding %s/%s exists", sa.Namespace, name)
	}
	fx.Operations = append(fx.Operations, createOp(rbacRef(rbac.ObjectRef{Kind: "RoleBinding", Name: name, Namespace: sa.Namespace}), rb))
	fx.intended = []Change{{Subject: sa, Namespace: sa.Namespace, Rule: rbac.RuleString(rule)}}
	return fx, nil
}

func createOp(target rbac.ObjectRef, obj any) Operation {
	b, _ := json.Marshal(obj)
	return Operation{Action: Create, Target: target, Object: b}
}

// restrictUse narrows a use grant to the credential specs the service
// account's pods name.
func restrictUse(c *fixContext) (*Fix, error) {
	s := c.f.Subjects[0]
	if s.Kind != rbac.ServiceAccountKind {
		return nil, errors.New("not a service account: remove it instead")
	}
	var used []string
	for _, p := range c.snap.Pods {
		if p.Namespace != s.Namespace || cmp.Or(p.Spec.ServiceAccountName, "default") != s.Name {
			continue
		}
		for _, n := range specNames(&p) {
			if !slices.Contains(used, n) {
				used = append(used, n)
			}
		}
	}
	if len(used) == 0 {
		return nil, errors.New("no pod of the service account names a credential spec")
	}
	slices.Sort(used)
	return replaceRules(c, func(r rbacv1.PolicyRule) (rbacv1.PolicyRule, error) {
		return rbacv1.PolicyRule{APIGroups: []string{rbac.GMSAGroup}, Resources: []string{"gmsacredentialspecs"}, ResourceNames: used, Verbs: []string{"use"}}, nil
	})
}

func specNames(p *corev1.Pod) []string {
	var out []string
	add := func(w *corev1.WindowsSecurityContextOptions) {
		if w != nil && w.GMSACredentialSpecName != nil {
			out = append(out, *w.GMSACredentialSpecName)
		}
	}
	if p.Spec.SecurityContext != nil {
		add(p.Spec.SecurityContext.WindowsOptions)
	}
	for _, c := range slices.Concat(p.Spec.InitContainers, p.Spec.Containers) {
		if c.SecurityContext != nil {
			add(c.SecurityContext.WindowsOptions)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// narrowToNamespaces replaces a subject's ClusterRoleBindings (those of
// the finding) with RoleBindings of the same roles in the namespaces where
// it works: the RoleBindings are created first, then the subject removed
// from the ClusterRoleBindings, so it never lacks what it keeps.
func narrowToNamespaces(c *fixContext) (*Fix, error) {
	if len(c.f.Subjects) != 1 {
		return nil, errors.New("narrowing takes a finding about one subject")
	}
	s := c.f.Subjects[0]
	var crbs []rbac.ObjectRef
	for _, b := range findingBindings(c.f) {
		if b.Kind != "ClusterRoleBinding" {
			return nil, errors.New("the finding is not cluster-wide")
		}
		crbs = append(crbs, b)
	}
	if len(crbs) == 0 {
		return nil, errors.New("no ClusterRoleBinding to narrow")
	}
	var namespaces []string
	if s.Kind == rbac.ServiceAccountKind {
		namespaces = []string{s.Namespace}
	} else {
		for _, rb := range c.snap.RoleBindings {
			if slices.ContainsFunc(rb.Subjects, func(w rbacv1.Subject) bool { return matches(w, rb.Namespace, s) }) && !slices.Contains(namespaces, rb.Namespace) {
				namespaces = append(namespaces, rb.Namespace)
			}
		}
		slices.Sort(namespaces)
	}
	if len(namespaces) == 0 {
		return nil, fmt.Errorf("%s has no namespace of its own to keep the grant in", s)
	}
	fx := &Fix{}
	subject := rbacv1.Subject{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace}
	if s.Kind != rbac.ServiceAccountKind {
		subject.APIGroup = rbacv1.GroupName
	}
	for _, b := range crbs {
		var roleRef rbacv1.RoleRef
		for _, o := range c.snap.ClusterRoleBindings {
			if o.Name == b.Name {
				roleRef = o.RoleRef
			}
		}
		for _, ns := range namespaces {
			name := b.Name + "-" + strings.ToLower(strings.NewReplacer(":", "-", "@", "-", "/", "-").Replace(s.Name))
			if len(name) > 253 {
				name = name[:253]
			}
			if sub, _, _ := bindingSubjects(c.snap, ref("", "RoleBinding", name, ns)); sub != nil {
				return nil, fmt.Errorf("RoleBinding %s/%s exists", ns, name)
			}
			rb := rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, RoleRef: roleRef, Subjects: []rbacv1.Subject{subject}}
			fx.Operations = append(fx.Operations, createOp(rbacRef(rbac.ObjectRef{Kind: "RoleBinding", Name: name, Namespace: ns}), rb))
		}
	}
	rm, err := removeSubjects(c, crbs, c.f.Subjects)
	if err != nil {
		return nil, err
	}
	fx.Operations = append(fx.Operations, rm.Operations...)
	fx.Description = fmt.Sprintf("%s, keeping the grant in namespace(s) %s through RoleBindings", rm.Description, strings.Join(namespaces, ", "))
	return fx, nil
}
