package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// The gMSA family (Windows group Managed Service Accounts, the
// kubernetes-sigs/windows-gmsa webhook): which pods use which credential
// spec, whether their service accounts may, who else may, and whether the
// webhook that enforces it is there to do so. A cluster without the CRD
// and without gMSA pods is not using gMSA: no finding, no error.

func init() {
	register(
		Rule{Name: "gmsa-webhook-missing", Category: CategoryGMSA, Severity: High,
			Title: "The gMSA admission webhook is missing or cannot be reached",
			Why: "The validating webhook is what checks that a pod's service account may use the credential spec it names: without it any pod " +
				"runs as any gMSA identity; without the mutating one specs are not inlined; a webhook whose service is gone fails or skips every pod.",
			Fix:   "None as a manifest: install the gMSA webhook (on AKS hybrid, Install-AksHciGMSAWebhook), or restore its service.",
			check: checkGMSAWebhook},
		Rule{Name: "gmsa-use-denied", Category: CategoryGMSA, Severity: Medium,
			Title: "A pod's service account may not use the credential spec it names",
			Why:   "The webhook rejects the pod (or its next replacement) with a LocalSubjectAccessReview for use on the spec: the workload cannot start, or runs only because the webhook is not checking.",
			Fix:   "Grants the service account use on that one credential spec: a ClusterRole with use and resourceNames, bound by a RoleBinding in the pod's namespace.",
			check: checkGMSAUseDenied},
		Rule{Name: "gmsa-spec-missing", Category: CategoryGMSA, Severity: Medium,
			Title: "A pod names a credential spec that does not exist",
			Why:   "The webhook cannot inline a missing spec, so the pod is rejected; whoever later creates a spec of that name decides which AD identity it runs as.",
			Fix:   "None as a manifest: create the credential spec, or correct the name in the workload.",
			check: checkGMSASpecMissing},
		Rule{Name: "gmsa-use-broad", Category: CategoryGMSA, Severity: High,
			Title: "use on credential specs is granted without naming them, or to everyone",
			Why: "use without resourceNames (or with wildcards) lets every pod of the subject run as every gMSA identity in the cluster; " +
				"to system:authenticated or system:serviceaccounts it is every workload.",
			Fix:   "Restricts the rule to resourceNames the subject's pods actually use, or removes the broad group from the binding.",
			check: checkGMSAUseBroad},
		Rule{Name: "gmsa-unchecked-container", Category: CategoryGMSA, Severity: High,
			Title: "gMSA settings in init or ephemeral containers, which the webhook does not check",
			Why: "The webhook checks the pod's and its containers' credential specs; releases before a 2026 fix skipped initContainers, and ephemeralContainers are still skipped: " +
				"a spec named there is used without the use check.",
			Fix:   "None as a manifest: move the setting to the pod or its containers, and upgrade the webhook.",
			check: checkGMSAUnchecked},
		Rule{Name: "gmsa-linux-node", Category: CategoryGMSA, Severity: Medium,
			Title: "A gMSA pod runs on, or may be scheduled onto, a Linux node",
			Why:   "gMSA works only on Windows nodes: on Linux the pod fails or runs without its identity; a pod with no Windows node selector lands wherever the scheduler puts it.",
			Fix:   "None as a manifest: add nodeSelector kubernetes.io/os: windows to the workload.",
			check: checkGMSALinux},
		Rule{Name: "gmsa-namespace-opt-out", Category: CategoryGMSA, Severity: Medium,
			Title: "A namespace is opted out of the gMSA webhook",
			Why:   "Pods in a namespace labelled windows.k8s.io/disabled=true (or gmsa-webhook=disabled) are not checked: any of them may name any credential spec.",
			Fix:   "Removes the opt-out label from the namespace.",
			check: checkGMSAOptOut},
		Rule{Name: "gmsa-credential-secret-readable", Category: CategoryGMSA, Severity: High,
			Title: "A gMSA credential secret is readable through RBAC",
			Why: "On AKS hybrid the domain user that retrieves gMSA passwords is a Secret the gMSA pods mount (the kubelet reads it for them; no one needs RBAC to): " +
				"whoever can read it holds an Active Directory credential.",
			Fix:   "Removes the subject from the binding that grants get, list or watch on the secret.",
			check: checkGMSASecret},
	)
}

// gmsaUse is one place a pod names a credential spec.
type gmsaUse struct {
	where   string // "pod", "container web", "init container setup", ...
	spec    string // "" when only an inlined spec is given
	checked bool   // the webhook checks this place
}

func gmsaUses(p *corev1.Pod) []gmsaUse {
	var out []gmsaUse
	add := func(where string, w *corev1.WindowsSecurityContextOptions, checked bool) {
		if w == nil || (w.GMSACredentialSpecName == nil && w.GMSACredentialSpec == nil) {
			return
		}
		u := gmsaUse{where: where, checked: checked}
		if w.GMSACredentialSpecName != nil {
			u.spec = *w.GMSACredentialSpecName
		}
		out = append(out, u)
	}
	if sc := p.Spec.SecurityContext; sc != nil {
		add("pod", sc.WindowsOptions, true)
	}
	for _, c := range p.Spec.Containers {
		if c.SecurityContext != nil {
			add("container "+c.Name, c.SecurityContext.WindowsOptions, true)
		}
	}
	for _, c := range p.Spec.InitContainers {
		if c.SecurityContext != nil {
			add("init container "+c.Name, c.SecurityContext.WindowsOptions, false)
		}
	}
	for _, c := range p.Spec.EphemeralContainers {
		if c.SecurityContext != nil {
			add("ephemeral container "+c.Name, c.SecurityContext.WindowsOptions, false)
		}
	}
	return out
}

// gmsaPod is a pod (or, offline, a workload's template) that uses gMSA.
type gmsaPod struct {
	pod  *corev1.Pod
	uses []gmsaUse
}

func (g gmsaPod) sa() rbac.Subject {
	return rbac.Subject{Kind: rbac.ServiceAccountKind, Namespace: g.pod.Namespace, Name: cmp.Or(g.pod.Spec.ServiceAccountName, "default")}
}

// ref is the object a finding names: the pod, or offline the workload
// whose template it is.
func (g gmsaPod) ref() rbac.ObjectRef { return podRef(g.pod) }

func podRef(p *corev1.Pod) rbac.ObjectRef {
	if p.Annotations[rbac.TemplateAnnotation] == "true" && len(p.OwnerReferences) > 0 {
		o := p.OwnerReferences[0]
		return rbac.ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, Namespace: p.Namespace}
	}
	return rbac.ObjectRef{APIVersion: "v1", Kind: "Pod", Name: p.Name, Namespace: p.Namespace}
}

func (c *checker) gmsaPods() []gmsaPod {
	var out []gmsaPod
	for i := range c.snap.Pods {
		if uses := gmsaUses(&c.snap.Pods[i]); len(uses) > 0 {
			out = append(out, gmsaPod{pod: &c.snap.Pods[i], uses: uses})
		}
	}
	return out
}

func (c *checker) gmsaInUse() bool {
	return c.snap.GMSAInstalled || len(c.snap.GMSACredentialSpecs) > 0 || len(c.gmsaPods()) > 0
}

// gmsaResource is how a live load names the credential specs in a gap.
const gmsaResource = "gmsacredentialspecs." + rbac.GMSAGroup

func specRef(name string) rbac.ObjectRef {
	return rbac.ObjectRef{APIVersion: rbac.GMSAGroup + "/v1", Kind: "GMSACredentialSpec", Name: name}
}

// useAttributes is the webhook's LocalSubjectAccessReview: use on the
// named spec, in the pod's namespace.
func useAttributes(spec, namespace string) rbac.Attributes {
	return rbac.Attributes{Verb: "use", APIGroup: rbac.GMSAGroup, Resource: "gmsacredentialspecs", Name: spec, Namespace: namespace}
}

func checkGMSAWebhook(c *checker) {
	pods := c.gmsaPods()
	if len(c.snap.GMSACredentialSpecs) == 0 && len(pods) == 0 {
		return
	}
	services := map[string]bool{}
	for _, s := range c.snap.Services {
		services[s.Namespace+"/"+s.Name] = true
	}
	using := fmt.Sprintf("%d credential specs and %d gMSA pods", len(c.snap.GMSACredentialSpecs), len(pods))
	type hook struct {
		config, name string
		kind         string
		svc          *webhookService
		ignore       bool
	}
	var validating, mutating []hook
	for _, cfg := range c.snap.ValidatingWebhooks {
		for _, w := range cfg.Webhooks {
			if isGMSAHook(cfg.Name, w.Name, w.ClientConfig.Service) {
				validating = append(validating, hook{cfg.Name, w.Name, "ValidatingWebhookConfiguration", serviceOf(w.ClientConfig.Service), w.FailurePolicy != nil && *w.FailurePolicy == "Ignore"})
			}
		}
	}
	for _, cfg := range c.snap.MutatingWebhooks {
		for _, w := range cfg.Webhooks {
			if isGMSAHook(cfg.Name, w.Name, w.ClientConfig.Service) {
				mutating = append(mutating, hook{cfg.Name, w.Name, "MutatingWebhookConfiguration", serviceOf(w.ClientConfig.Service), w.FailurePolicy != nil && *w.FailurePolicy == "Ignore"})
			}
		}
	}
	if len(validating) == 0 && !c.unread("validatingwebhookconfigurations", "") {
		c.add(Finding{Severity: High, Message: fmt.Sprintf("no validating gMSA webhook while the cluster has %s: nothing checks that a pod's service account may use the spec it names", using)})
	}
	if len(mutating) == 0 && !c.unread("mutatingwebhookconfigurations", "") {
		c.add(Finding{Severity: Medium, Message: fmt.Sprintf("no mutating gMSA webhook while the cluster has %s: credential specs are not inlined into pods", using)})
	}
	for _, h := range append(validating, mutating...) {
		if h.svc == nil || services[h.svc.namespace+"/"+h.svc.name] || c.unread("services", h.svc.namespace) {
			continue
		}
		f := Finding{Severity: Medium, Objects: []rbac.ObjectRef{{APIVersion: "admissionregistration.k8s.io/v1", Kind: h.kind, Name: h.config},
			{APIVersion: "v1", Kind: "Service", Name: h.svc.name, Namespace: h.svc.namespace}},
			Message: fmt.Sprintf("%s %s webhook %s calls service %s/%s, which does not exist: with failurePolicy Fail every pod it selects is rejected",
				h.kind, h.config, h.name, h.svc.namespace, h.svc.name)}
		if h.ignore {
			f.Severity = High
			f.Message = fmt.Sprintf("%s %s webhook %s calls service %s/%s, which does not exist, and its failurePolicy is Ignore: every pod it selects is admitted unchecked",
				h.kind, h.config, h.name, h.svc.namespace, h.svc.name)
		}
		c.add(f)
	}
}

type webhookService struct{ namespace, name string }

func serviceOf(r *admissionregistrationv1.ServiceReference) *webhookService {
	if r == nil {
		return nil // a URL webhook: nothing in the cluster to miss
	}
	return &webhookService{r.Namespace, r.Name}
}

// isGMSAName says whether a webhook, configuration or service name is the
// gMSA webhook's (AKS and AKS hybrid install the upstream webhook under
// names containing "gmsa").
func isGMSAName(name string) bool { return strings.Contains(strings.ToLower(name), "gmsa") }

// isGMSAHook recognises the gMSA webhook by its configuration's, its own
// or its service's name (upstream: admission-webhook.windows-gmsa.sigs.k8s.io).
func isGMSAHook(config, hook string, svc *admissionregistrationv1.ServiceReference) bool {
	return isGMSAName(config) || isGMSAName(hook) || (svc != nil && isGMSAName(svc.Name))
}

func checkGMSAUseDenied(c *checker) {
	for _, g := range c.gmsaPods() {
		sa := g.sa()
		for _, u := range g.uses {
			if u.spec == "" || !u.checked {
				continue // inlined only, or unchecked: see gmsa-unchecked-container
			}
			// Not allowed in what could be read is not denied: an unread
			// RoleBinding may grant it.
			if res := c.ix.Can(sa.Identity(), useAttributes(u.spec, g.pod.Namespace)); res.Allowed || res.Incomplete {
				continue
			}
			c.add(Finding{Severity: Medium, Subjects: []rbac.Subject{sa}, Objects: []rbac.ObjectRef{g.ref(), specRef(u.spec)},
				Message: fmt.Sprintf("%s (%s) names credential spec %s, but %s may not use it: the webhook rejects the pod", g.ref(), u.where, u.spec, sa)})
		}
	}
}

func checkGMSASpecMissing(c *checker) {
	pods := c.gmsaPods()
	if len(pods) == 0 || c.unread(gmsaResource, "") {
		return // the specs that could not be read may be there
	}
	specs := map[string]bool{}
	for _, s := range c.snap.GMSACredentialSpecs {
		specs[s.Name] = true
	}
	for _, g := range pods {
		for _, u := range g.uses {
			if u.spec == "" || specs[u.spec] {
				continue
			}
			msg := fmt.Sprintf("%s (%s) names credential spec %s, which does not exist", g.ref(), u.where, u.spec)
			if !c.snap.GMSAInstalled {
				msg += " (the GMSACredentialSpec CRD is not installed)"
			}
			c.add(Finding{Severity: Medium, Subjects: []rbac.Subject{g.sa()}, Objects: []rbac.ObjectRef{g.ref(), specRef(u.spec)}, Message: msg})
		}
	}
}

// broadGroups are the implicit groups that are "everyone" of some kind.
func broadGroup(s rbac.Subject) bool {
	if s.Kind != rbac.GroupKind {
		return false
	}
	switch s.Name {
	case "system:authenticated", "system:unauthenticated", "system:serviceaccounts":
		return true
	}
	return strings.HasPrefix(s.Name, "system:serviceaccounts:")
}

// grantsUse says whether a rule grants use on credential specs by naming
// them (its group or resource), not only through a full wildcard, which
// cluster-admin-equivalent reports.
func grantsUse(r *rbacv1.PolicyRule) bool {
	a := useAttributes("", "")
	if len(r.ResourceNames) > 0 {
		a.Name = r.ResourceNames[0] // a named rule allows use of that name
	}
	if !rbac.RuleAllows(&a, r) {
		return false
	}
	return slices.Contains(r.APIGroups, rbac.GMSAGroup) || slices.Contains(r.Resources, "gmsacredentialspecs")
}

func checkGMSAUseBroad(c *checker) {
	c.grantsBySubject(func(g *rbac.Grant, s rbac.Subject) bool {
		if !grantsUse(&g.Path.Rule) {
			return false
		}
		r := &g.Path.Rule
		unnamed := len(r.ResourceNames) == 0
		wild := slices.Contains(r.Verbs, "*") || slices.Contains(r.Resources, "*") || slices.Contains(r.APIGroups, "*")
		return unnamed || wild || broadGroup(s)
	}, func(s rbac.Subject, ns string, paths []rbac.Path) {
		why := "every credential spec"
		if named := paths[0].Rule.ResourceNames; len(named) > 0 && broadGroup(s) {
			why = "credential specs " + strings.Join(named, ", ") + ", for every member of the group"
		}
		c.add(Finding{Severity: High, Subjects: []rbac.Subject{s}, Evidence: paths,
			Message: fmt.Sprintf("%s may use %s %s (%s)", s, why, where(ns), rulesText(paths))})
	})
}

func checkGMSAUnchecked(c *checker) {
	for _, g := range c.gmsaPods() {
		sa := g.sa()
		for _, u := range g.uses {
			if u.checked {
				continue
			}
			f := Finding{Severity: Low, Subjects: []rbac.Subject{sa}, Objects: []rbac.ObjectRef{g.ref()},
				Message: fmt.Sprintf("%s sets a gMSA credential spec in its %s, which the webhook does not check", g.ref(), u.where)}
			if u.spec != "" {
				f.Objects = append(f.Objects, specRef(u.spec))
				if res := c.ix.Can(sa.Identity(), useAttributes(u.spec, g.pod.Namespace)); !res.Allowed && !res.Incomplete {
					f.Severity = High
					f.Message = fmt.Sprintf("%s sets credential spec %s in its %s, which the webhook does not check, and %s may not use it: the container runs as that identity unchecked",
						g.ref(), u.spec, u.where, sa)
				}
			} else {
				f.Message += " (an inlined spec)"
			}
			c.add(f)
		}
	}
}

func checkGMSALinux(c *checker) {
	nodesRead := !c.unread("nodes", "")
	os := map[string]string{}
	for _, n := range c.snap.Nodes {
		os[n.Name] = cmp.Or(n.Labels[corev1.LabelOSStable], n.Status.NodeInfo.OperatingSystem)
	}
	for _, g := range c.gmsaPods() {
		p := g.pod
		if n := p.Spec.NodeName; n != "" {
			if nodesRead && os[n] == "linux" {
				c.add(Finding{Severity: Medium, Subjects: []rbac.Subject{g.sa()}, Objects: []rbac.ObjectRef{g.ref(), {APIVersion: "v1", Kind: "Node", Name: n}},
					Message: fmt.Sprintf("%s uses gMSA but runs on Linux node %s", g.ref(), n)})
			}
			continue
		}
		if !pinnedToWindows(p) {
			c.add(Finding{Severity: Low, Subjects: []rbac.Subject{g.sa()}, Objects: []rbac.ObjectRef{g.ref()},
				Message: fmt.Sprintf("%s uses gMSA but nothing keeps it off Linux nodes (no nodeSelector kubernetes.io/os: windows, no required node affinity, no spec.os)", g.ref())})
		}
	}
}

// pinnedToWindows says whether the scheduler can only place p on Windows
// nodes.
func pinnedToWindows(p *corev1.Pod) bool {
	if p.Spec.OS != nil && p.Spec.OS.Name == corev1.Windows {
		return true
	}
	if p.Spec.NodeSelector[corev1.LabelOSStable] == "windows" {
		return true
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return false
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) == 0 {
		return false
	}
	for _, t := range terms { // terms are ORed: every one must pin
		pinned := false
		for _, e := range t.MatchExpressions {
			if e.Key == corev1.LabelOSStable && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 && e.Values[0] == "windows" {
				pinned = true
			}
		}
		if !pinned {
			return false
		}
	}
	return true
}

func checkGMSAOptOut(c *checker) {
	if !c.gmsaInUse() {
		return
	}
	using := map[string]int{}
	for _, g := range c.gmsaPods() {
		using[g.pod.Namespace]++
	}
	for _, n := range c.snap.Namespaces {
		label := ""
		switch {
		case n.Labels["windows.k8s.io/disabled"] == "true":
			label = "windows.k8s.io/disabled=true"
		case n.Labels["gmsa-webhook"] == "disabled":
			label = "gmsa-webhook=disabled"
		default:
			continue
		}
		f := Finding{Severity: Medium, Objects: []rbac.ObjectRef{{APIVersion: "v1", Kind: "Namespace", Name: n.Name}},
			Message: fmt.Sprintf("namespace %s is labelled %s: the gMSA webhook checks none of its pods", n.Name, label)}
		if k := using[n.Name]; k > 0 {
			f.Severity = High
			f.Message += fmt.Sprintf(", and %d of them use gMSA", k)
		}
		c.add(f)
	}
}

func checkGMSASecret(c *checker) {
	type secret struct{ namespace, name string }
	users := map[secret][]rbac.ObjectRef{}
	var order []secret
	for _, g := range c.gmsaPods() {
		for _, n := range rbac.MountedSecrets(g.pod) {
			k := secret{g.pod.Namespace, n}
			if _, ok := users[k]; !ok {
				order = append(order, k)
			}
			users[k] = append(users[k], g.ref())
		}
	}
	if len(order) == 0 {
		return
	}
	for _, k := range order {
		for _, r := range c.secretReaders(k.namespace, k.name) {
			c.add(Finding{Severity: High, Subjects: []rbac.Subject{r.subject}, Evidence: r.evidence,
				Objects: append([]rbac.ObjectRef{{APIVersion: "v1", Kind: "Secret", Name: k.name, Namespace: k.namespace}}, users[k][0]),
				Message: fmt.Sprintf("%s can read secret %s/%s, the credential gMSA pods such as %s mount", r.subject.Key(), k.namespace, k.name, users[k][0])})
		}
	}
}
