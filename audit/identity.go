package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// The azure-identity family: the way out of the cluster to Azure. A
// service account whose workload identity annotation names a managed
// identity with a federated credential for it (matched as Entra does:
// rbac.Index.WorkloadIdentities) gets the identity's Azure tokens in its
// pods; whoever can run a pod as it, or mint its tokens, acts in Azure
// with the identity's role assignments.

// CategoryAzureIdentity groups the Azure identities reached from the
// cluster.
const CategoryAzureIdentity Category = "azure-identity"

func init() {
	register(Rule{Name: "workload-identity-reach", Category: CategoryAzureIdentity, Severity: Critical,
		Title: "Subject can act as an Azure managed identity through a service account's workload identity",
		Why: "A service account annotated azure.workload.identity/client-id, whose managed identity has a federated credential for it on the cluster's OIDC issuer, " +
			"gets the identity's Azure tokens in its pods: whoever can create pods in its namespace (or a workload whose controller creates them), or mint its tokens, " +
			"acts in Azure with the identity's role assignments. Severity: a role that writes (Owner, Contributor, any */write) at a subscription, management group or the root is critical, at a resource group high; anything else medium.",
		Fix: "Deletes the reached identities' role assignments that write at a resource group or wider (every one, for a medium finding): az role assignment delete --ids ID, applied by fix --apply through ARM. " +
			"One change in Azure ends every path to them and takes no Kubernetes right from the namespace's people; what the identity keeps (a data role on one resource) is said, and reached by design. " +
			"Assign the application what it needs at the resource that needs it. When the assignments cannot be deleted, the subject is taken out of the bindings that let it run a pod as the account or mint its tokens.",
		check: checkWorkloadIdentityReach},
		Rule{Name: "federated-credential-unclaimed", Category: CategoryAzureIdentity, Severity: High,
			Title: "A federated credential names a service account that does not exist",
			Why: "Entra exchanges any token whose issuer and subject a federated credential names: a credential for system:serviceaccount:NS:NAME on the cluster's issuer, " +
				"with no such service account, is the identity for whoever creates that account and a pod that runs as it (the annotation is not needed). " +
				"Severity: as workload-identity-reach's, when someone in the view can create both; low when nobody can yet.",
			Fix: "Deletes the federated credential (az identity federated-credential delete, or az ad app federated-credential delete for an app registration's): no service account uses it, so nothing running loses anything. " +
				"fix --apply deletes a managed identity's through ARM (read, guard checked, a restore script that creates it again); an app registration's lives in Microsoft Graph and is printed only.",
			check: checkUnclaimedCredentials},
		Rule{Name: "kubelet-identity-reach", Category: CategoryAzureIdentity, Severity: High,
			Title: "The kubelet identity holds more than AcrPull, and pods may reach it",
			Why: "The kubelet identity (identityProfile.kubeletidentity) is the nodes' VMs' identity: a pod gets its tokens from the instance metadata service (169.254.169.254) " +
				"unless a NetworkPolicy or AKS's IMDS restriction blocks it. AKS needs it to pull images (AcrPull); whatever else it holds, such pods hold. " +
				"Checked: the NetworkPolicies read (live, or those the files hold), namespace by namespace, as they apply to a new pod whose maker chooses its labels (rbac.IMDSEgressOf), when networkProfile.networkPolicy says they are enforced, and the IMDS restriction (networkProfile.podLinkLocalAccess None); the finding names the namespaces still reaching it. " +
				"Not checked: pods on the host's network, rules on the nodes, a CNI's own policy kinds. Severity as workload-identity-reach's, high at least; medium when only pods on the host's network reach it.",
			Fix: "Deletes the kubelet identity's role assignments other than AcrPull (az role assignment delete --ids ID), applied by fix --apply through ARM: AKS gives it AcrPull only. " +
				"Blocking pods' egress to 169.254.169.254 is the other way, not offered as a fix.",
			check: checkKubeletIdentity})
}

// acrPull is the built-in AcrPull role, all the kubelet identity needs.
const acrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d"

// checkKubeletIdentity reports the kubelet identity's role assignments
// beyond AcrPull, among those read.
func checkKubeletIdentity(c *checker) {
	d := c.snap.Azure
	if d == nil || d.Cluster == nil || d.Cluster.KubeletIdentity == "" {
		return
	}
	beyond := KubeletBeyondAcrPull(d)
	if len(beyond) == 0 {
		return
	}
	sev, roles := identitySeverity(d, beyond)
	sev = max(sev, High)
	reach := IMDSReachOf(c.snap)
	if reach.HostNetworkOnly() {
		sev = Medium
	}
	c.add(Finding{Severity: sev,
		Objects:  []rbac.ObjectRef{{APIVersion: "Microsoft.ContainerService", Kind: "KubeletIdentity", Name: d.Cluster.KubeletIdentity}},
		identity: d.Cluster.KubeletIdentity,
		Message: fmt.Sprintf("the kubelet identity (object id %s) holds %s beyond AcrPull: a pod that reaches the instance metadata service (169.254.169.254) acts as it; %s",
			d.Cluster.KubeletIdentity, strings.Join(firstN(roles, 3), ", "), reach)})
}

// KubeletBeyondAcrPull are the kubelet identity's role assignments, among
// those read, other than AcrPull: what kubelet-identity-reach reports and
// its fix deletes.
func KubeletBeyondAcrPull(d *azurerbac.Data) []azurerbac.IdentityAssignment {
	if d == nil || d.Cluster == nil || d.Cluster.KubeletIdentity == "" {
		return nil
	}
	var beyond []azurerbac.IdentityAssignment
	for _, a := range d.AssignmentsOfIdentity(&azurerbac.ManagedIdentity{PrincipalID: d.Cluster.KubeletIdentity}) {
		if !strings.EqualFold(a.RoleDefinitionID[strings.LastIndexByte(a.RoleDefinitionID, '/')+1:], acrPull) {
			beyond = append(beyond, a)
		}
	}
	return beyond
}

// reached is one service account acting as an identity with role
// assignments, and what it is worth.
type reached struct {
	w        rbac.WorkloadIdentity
	sa       rbac.Subject
	severity Severity
	text     string // "managed identity id-orders (Contributor on subscription S)"
}

// Reach steps: how a subject comes to act as a managed identity.
const (
	// StepWorkloadCreate: it runs a pod as the account (creating pods, or
	// a workload whose controller creates them, in its namespace).
	StepWorkloadCreate = "workload-create"
	// StepTokenCreate: it mints the account's tokens.
	StepTokenCreate = "serviceaccount-token-create"
	// StepAccountCreate: it creates the account a federated credential
	// names, which does not exist, and a pod that runs as it.
	StepAccountCreate = "serviceaccount-create"
	// StepPodExec: it execs into a pod that runs as the account, where
	// the account's token (and the identity's, once exchanged) is at hand.
	StepPodExec = "pod-exec"
)

// IdentityReach is one way a subject acts as an Azure managed identity
// through a service account whose tokens the identity's federated
// credential accepts: the step it takes in the cluster, where, and the
// paths that allow it. The azure-identity rules report these, and who-can
// act-as lists them: one computation for both.
type IdentityReach struct {
	Subject rbac.Subject `json:"subject"`
	// Step is workload-create, serviceaccount-token-create, pod-exec or
	// serviceaccount-create; StepText says it in words.
	Step     string `json:"step"`
	StepText string `json:"stepText"`
	// Namespace is where the step is allowed ("" cluster-wide).
	Namespace string      `json:"namespace,omitempty"`
	Evidence  []rbac.Path `json:"via"`
	// Workload is the account -> federated credential -> identity chain
	// (none for an add-on identity's step, secretproviderclass-create).
	Workload rbac.WorkloadIdentity `json:"workloadIdentity,omitzero"`
}

// IdentityReaches are every way a subject of the view acts as a managed
// identity through workload identity (system:masters and the nodes left
// out: they hold everything, or are their own findings).
func IdentityReaches(ix *rbac.Index) []IdentityReach { return newChecker(ix).identityReaches() }

func (c *checker) identityReaches() []IdentityReach {
	d := c.snap.Azure
	if d == nil || len(d.Identities) == 0 {
		return nil
	}
	type acting struct {
		w  rbac.WorkloadIdentity
		sa rbac.Subject
	}
	byNS := map[string][]acting{}
	var namespaces []string
	var missing []acting
	for _, w := range c.ix.WorkloadIdentities() {
		if !w.Acts() {
			continue
		}
		sa, err := rbac.ParseSubject(w.ServiceAccount)
		if err != nil {
			continue
		}
		if w.ServiceAccountMissing {
			missing = append(missing, acting{w, sa})
			continue
		}
		if _, ok := byNS[sa.Namespace]; !ok {
			namespaces = append(namespaces, sa.Namespace)
		}
		byNS[sa.Namespace] = append(byNS[sa.Namespace], acting{w, sa})
	}
	slices.Sort(namespaces)
	var out []IdentityReach
	// Who can create pods (or workloads whose controllers do) where an
	// account acting as an identity lives.
	for _, h := range c.hits(probeRuleNamed("workload-create")) {
		var targets []acting
		if h.scope == "" {
			for _, ns := range namespaces {
				targets = append(targets, byNS[ns]...)
			}
		} else {
			targets = byNS[h.scope]
		}
		for _, t := range targets {
			if t.sa.Key() != h.subject.Key() {
				out = append(out, IdentityReach{Subject: h.subject, Step: StepWorkloadCreate, StepText: workloadStep(h.evidence), Namespace: h.scope, Evidence: h.evidence, Workload: t.w})
			}
		}
	}
	// Who can mint each such account's tokens: asked for that account by
	// name, so grants limited to it by resourceNames count.
	for _, ns := range namespaces {
		for _, t := range byNS[ns] {
			a := rbac.Attributes{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Name: t.sa.Name, Namespace: ns}
			for _, g := range c.ix.WhoCan(a, false).Subjects {
				s := g.Subject()
				if s.Kind == rbac.GroupKind && s.Name == rbac.GroupMasters || isNodeIdentity(s) || s.Key() == t.sa.Key() {
					continue
				}
				out = append(out, IdentityReach{Subject: s, Step: StepTokenCreate, StepText: "mint tokens for " + t.sa.String(), Namespace: ns, Evidence: g.Via, Workload: t.w})
			}
		}
	}
	// Who can exec into a pod the view holds that runs as such an account
	// (a workload's template counts: its pods run as it): asked for each
	// pod by name, so grants limited to it by resourceNames count.
	for _, ns := range namespaces {
		for _, t := range byNS[ns] {
			out = append(out, c.execReaches(ns, t.sa, t.w)...)
		}
	}
	// Who can create the account a credential names, and a pod as it.
	for _, t := range missing {
		ns := t.sa.Namespace
		creators := map[string][]rbac.Path{}
		for _, g := range c.ix.WhoCan(rbac.Attributes{Verb: "create", Resource: "serviceaccounts", Namespace: ns}, false).Subjects {
			s := g.Subject()
			if s.Kind == rbac.GroupKind && s.Name == rbac.GroupMasters || isNodeIdentity(s) {
				continue
			}
			creators[s.Key()] = append(creators[s.Key()], g.Via...)
		}
		var seen []string
		for _, h := range c.hits(probeRuleNamed("workload-create")) {
			if h.scope != "" && h.scope != ns {
				continue
			}
			via, ok := creators[h.subject.Key()]
			if !ok || slices.Contains(seen, h.subject.Key()) {
				continue
			}
			seen = append(seen, h.subject.Key())
			out = append(out, IdentityReach{Subject: h.subject, Step: StepAccountCreate, StepText: "create " + t.sa.String() + " and a pod that runs as it",
				Namespace: ns, Evidence: append(slices.Clone(via), h.evidence...), Workload: t.w})
		}
	}
	return out
}

func checkWorkloadIdentityReach(c *checker) {
	d := c.snap.Azure
	if d == nil || len(d.Identities) == 0 {
		return
	}
	type group struct {
		step, stepText, scope string
		subject               rbac.Subject
		evidence              []rbac.Path
		targets               []reached
	}
	var groups []*group
	at := map[string]*group{}
	for _, r := range c.identityReaches() {
		if r.Step == StepAccountCreate || len(r.Workload.RoleAssignments) == 0 {
			continue // a missing account: federated-credential-unclaimed
		}
		sa, _ := rbac.ParseSubject(r.Workload.ServiceAccount)
		step := r.Step
		if step == StepTokenCreate || step == StepPodExec {
			step += "\n" + sa.Key()
		}
		k := step + "\n" + r.Subject.Key() + "\n" + r.Namespace
		g := at[k]
		if g == nil {
			g = &group{step: step, stepText: r.StepText, scope: r.Namespace, subject: r.Subject, evidence: r.Evidence}
			at[k] = g
			groups = append(groups, g)
		}
		sev, roles := identitySeverity(d, r.Workload.RoleAssignments)
		g.targets = append(g.targets, reached{w: r.Workload, sa: sa, severity: sev,
			text: fmt.Sprintf("%s %s (%s)", r.Workload.Identity.What(), r.Workload.Identity.Name, strings.Join(firstN(roles, 3), ", "))})
	}
	for _, g := range groups {
		kept := g.targets
		slices.SortStableFunc(kept, func(a, b reached) int { return cmp.Compare(b.severity, a.severity) })
		subjects := []rbac.Subject{g.subject}
		var objects []rbac.ObjectRef
		var chains []string
		for _, t := range kept {
			subjects = append(subjects, t.sa)
			objects = append(objects, rbac.ObjectRef{APIVersion: "Microsoft.ManagedIdentity", Kind: "UserAssignedIdentity", Name: t.w.Identity.ID})
			chains = append(chains, fmt.Sprintf("%s through %s (federated credential %s)", t.text, t.sa, t.w.FederatedCredential.Name))
		}
		more := ""
		if len(chains) > maxChains {
			more = fmt.Sprintf(" and %d more", len(chains)-maxChains)
		}
		// The severity is part of what the finding is: reaching a
		// Contributor on the subscription is another finding than reaching
		// a Reader, so a fix that deletes the writing assignments removes
		// it (what it leaves is a new, lower finding), and a reach that
		// grows is new to a baseline.
		c.add(Finding{Severity: kept[0].severity, Subjects: subjects, Objects: objects, Evidence: g.evidence,
			identity: g.step + "\n" + g.subject.Key() + "\n" + g.scope + "\n" + kept[0].severity.String(),
			Message:  fmt.Sprintf("%s can %s %s, and so act as %s%s", g.subject, g.stepText, where(g.scope), strings.Join(firstN(chains, maxChains), "; "), more)})
	}
}

// identitySeverity is what an identity's role assignments are worth, and
// each said as "ROLE on SCOPE", strongest first.
// IdentityWorth is what a managed identity's role assignments are worth:
// the severity the azure-identity rules give reaching it (write on a
// subscription critical, on a resource group high, else medium) and each
// assignment in words ("Contributor on subscription S"), the most severe
// first.
func IdentityWorth(d *azurerbac.Data, as []azurerbac.IdentityAssignment) (Severity, []string) {
	return identitySeverity(d, as)
}

func identitySeverity(d *azurerbac.Data, as []azurerbac.IdentityAssignment) (Severity, []string) {
	type rated struct {
		sev  Severity
		text string
	}
	if len(as) == 0 {
		return Medium, nil
	}
	var rs []rated
	for _, a := range as {
		_, known := d.RoleWrites(a.RoleDefinitionID)
		text := a.RoleName + " on " + rbac.AzureScopeName(a.Scope)
		if !known {
			text += " (role definition not read)"
		}
		if a.Conditional {
			text += " (conditional)"
		}
		rs = append(rs, rated{AssignmentSeverity(d, a), text})
	}
	slices.SortStableFunc(rs, func(a, b rated) int { return cmp.Compare(b.sev, a.sev) })
	var texts []string
	for _, r := range rs {
		texts = append(texts, r.text)
	}
	return rs[0].sev, texts
}

// AssignmentSeverity is what one role assignment of an identity is worth
// to whoever acts as it: a role that writes (Owner, Contributor, any
// */write) at a subscription, a management group or the root critical, at
// a resource group high, anything else medium. The azure-identity rules
// rate with it, and their fixes delete what it rates high or above.
func AssignmentSeverity(d *azurerbac.Data, a azurerbac.IdentityAssignment) Severity {
	if writes, _ := d.RoleWrites(a.RoleDefinitionID); writes {
		switch scopeLevel(a.Scope) {
		case "subscription":
			return Critical
		case "resource group":
			return High
		}
	}
	return Medium
}

// scopeLevel is "subscription" for a subscription, a management group or
// the root, "resource group" for a resource group, else "resource".
func scopeLevel(scope string) string {
	parts := strings.Split(strings.Trim(scope, "/"), "/")
	n := len(parts)
	switch {
	case scope == "/" || n == 2 && strings.EqualFold(parts[0], "subscriptions"):
		return "subscription"
	case n >= 2 && strings.EqualFold(parts[n-2], "managementGroups"):
		return "subscription"
	case n == 4 && strings.EqualFold(parts[2], "resourceGroups"):
		return "resource group"
	}
	return "resource"
}

// checkUnclaimedCredentials reports the federated credentials on the
// cluster's issuer that name a service account the input does not hold
// (known only when the input holds service accounts), with who can create
// it and run a pod as it: create serviceaccounts in its namespace, and
// create pods or workloads there.
func checkUnclaimedCredentials(c *checker) {
	d := c.snap.Azure
	if d == nil || len(d.Identities) == 0 {
		return
	}
	reaches := c.identityReaches()
	for _, w := range c.ix.WorkloadIdentities() {
		if !w.ServiceAccountMissing {
			continue
		}
		sa, err := rbac.ParseSubject(w.ServiceAccount)
		if err != nil {
			continue
		}
		// Who may create the account there and run a pod as it.
		var subjects []rbac.Subject
		var evidence []rbac.Path
		for _, r := range reaches {
			if r.Step == StepAccountCreate && r.Workload.FederatedCredential != nil && r.Workload.FederatedCredential.ID == w.FederatedCredential.ID && r.Workload.ServiceAccount == w.ServiceAccount {
				subjects = append(subjects, r.Subject)
				evidence = append(evidence, r.Evidence...)
			}
		}
		sev, roles := identitySeverity(d, w.RoleAssignments)
		reach := "no role assignment of it was read"
		if len(roles) > 0 {
			reach = strings.Join(firstN(roles, 3), ", ")
		}
		var names []string
		for _, s := range subjects {
			names = append(names, s.String())
		}
		who := "nobody in the view can create it and a pod that runs as it yet"
		if len(subjects) == 0 {
			sev = Low
		} else {
			more := ""
			if len(names) > maxChains {
				more = fmt.Sprintf(" and %d more", len(names)-maxChains)
			}
			who = strings.Join(firstN(names, maxChains), ", ") + more + " can create it and a pod that runs as it, and so act as the identity"
		}
		c.add(Finding{Severity: sev, Subjects: append([]rbac.Subject{sa}, subjects...), Evidence: evidence,
			Objects:  []rbac.ObjectRef{{APIVersion: "Microsoft.ManagedIdentity", Kind: "FederatedIdentityCredential", Name: w.FederatedCredential.ID}},
			identity: w.FederatedCredential.ID,
			Message: fmt.Sprintf("federated credential %s of managed identity %s (%s) accepts tokens of %s, which does not exist: %s",
				w.FederatedCredential.Name, w.Identity.Name, reach, sa, who)})
	}
}

// execReaches are who can exec into a pod of namespace ns that runs as
// service account sa (not finished: a finished pod runs nothing), each
// once with every path that allows it.
func (c *checker) execReaches(ns string, sa rbac.Subject, w rbac.WorkloadIdentity) []IdentityReach {
	var order []string
	via := map[string][]rbac.Path{}
	who := map[string]rbac.Subject{}
	for i := range c.snap.Pods {
		p := &c.snap.Pods[i]
		if p.Namespace != ns || cmp.Or(p.Spec.ServiceAccountName, "default") != sa.Name ||
			p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		a := rbac.Attributes{Verb: "create", Resource: "pods", Subresource: "exec", Name: p.Name, Namespace: ns}
		for _, g := range c.ix.WhoCan(a, false).Subjects {
			s := g.Subject()
			if s.Kind == rbac.GroupKind && s.Name == rbac.GroupMasters || isNodeIdentity(s) || s.Key() == sa.Key() {
				continue
			}
			k := s.Key()
			if _, ok := who[k]; !ok {
				order, who[k] = append(order, k), s
			}
			for _, q := range g.Via {
				if !slices.ContainsFunc(via[k], func(x rbac.Path) bool { return x.String() == q.String() }) {
					via[k] = append(via[k], q)
				}
			}
		}
	}
	out := make([]IdentityReach, 0, len(order))
	for _, k := range order {
		out = append(out, IdentityReach{Subject: who[k], Step: StepPodExec, StepText: "exec into pods that run as " + sa.String(), Namespace: ns, Evidence: via[k], Workload: w})
	}
	return out
}
