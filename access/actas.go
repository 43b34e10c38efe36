package access

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// KindWhoCanActAs is the kind of who-can act-as's document.
const KindWhoCanActAs = "WhoCanActAs"

// ActAsAnswer is the `WhoCanActAs` document: who in the cluster can act
// as one Azure managed identity, through the service accounts whose
// tokens its federated credentials accept.
type ActAsAnswer struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Query      string           `json:"query"`
	Identity   rbac.IdentityRef `json:"identity"`
	// Addon names the add-on whose identity it is
	// (addonProfiles.NAME.identity): assigned to the nodes, it serves a
	// SecretProviderClass naming it in any namespace, and the subjects are
	// who can create one and a pod (step secretproviderclass-create).
	Addon string `json:"addon,omitempty"`
	// Kubelet: the identity is the kubelet's (the nodes'), which any pod
	// reaching the instance metadata service acts as (step pod-imds).
	Kubelet bool `json:"kubelet,omitempty"`
	// RoleAssignments are the identity's, at every scope read: what
	// acting as it gets in Azure.
	RoleAssignments []azurerbac.IdentityAssignment `json:"roleAssignments"`
	// ServiceAccounts are the accounts whose pods act as it (matched:
	// annotation and federated credential, or the credential alone, an
	// account that does not exist included); NotActing the accounts
	// annotated with its client id that no credential of it accepts.
	ServiceAccounts []rbac.WorkloadIdentity `json:"serviceAccounts"`
	NotActing       []rbac.WorkloadIdentity `json:"notActing,omitempty"`
	// Subjects are who act as it: each step (run a pod as an account,
	// mint its token, create the missing account and a pod as it) with
	// the paths that allow it, as the azure-identity audit finds them.
	Subjects   []audit.IdentityReach `json:"subjects"`
	Incomplete bool                  `json:"incomplete"`
	Gaps       []rbac.Gap            `json:"gaps,omitempty"`
	Warnings   []rbac.Warning        `json:"warnings"`
}

// ErrNoIdentities: the view holds no Azure managed identity to ask about.
var ErrNoIdentities = errors.New("who-can act-as needs the Azure identities: give -f the JSON of az identity list and az identity federated-credential list (and az role assignment list --all) with the cluster's az aks show, or read them live with --azure-rbac")

// ActAs answers who can act as the managed identity named by identity:
// its client id, principal (object) id, resource id or name. The session
// must hold the whole cluster (loading.Full).
func (s *Session) ActAs(identity string) (*ActAsAnswer, error) {
	d := s.Index.Snapshot().Azure
	if d == nil || len(d.Identities) == 0 && (d.Cluster == nil || len(d.Cluster.AddonIdentities) == 0 && d.Cluster.KubeletIdentity == "") {
		return nil, ErrNoIdentities
	}
	m, err := findIdentity(d.Identities, identity)
	if err != nil {
		if m = addonIdentity(d, identity); m == nil {
			if m = kubeletIdentity(d, identity); m == nil {
				return nil, err
			}
		}
	}
	ans := &ActAsAnswer{APIVersion: rbac.APIVersion, Kind: KindWhoCanActAs, Query: identity,
		Identity:        rbac.IdentityRef{ID: m.ID, Name: m.Name, ClientID: m.ClientID, PrincipalID: m.PrincipalID},
		RoleAssignments: d.AssignmentsOfIdentity(m), Subjects: []audit.IdentityReach{}, ServiceAccounts: []rbac.WorkloadIdentity{}}
	if ans.Addon = addonOf(d, m.PrincipalID); ans.Addon != "" {
		// The add-on's identity serves every namespace: who can create a
		// SecretProviderClass and a pod somewhere acts as it, as the
		// addon-identity-secrets audit finds them.
		for _, r := range audit.AddonReaches(s.Index) {
			ans.Subjects = append(ans.Subjects, audit.IdentityReach{Subject: r.Subject, Step: audit.StepSecretProviderClass,
				StepText: "create a pod and a SecretProviderClass naming it", Namespace: r.Namespace, Evidence: r.Evidence})
		}
	}
	kubelet := d.Cluster != nil && d.Cluster.KubeletIdentity != "" && strings.EqualFold(m.PrincipalID, d.Cluster.KubeletIdentity)
	if kubelet {
		// The nodes' identity: any pod that reaches the instance metadata
		// service gets its tokens, as kubelet-identity-reach decides it.
		ans.Kubelet = true
		ans.Subjects = append(ans.Subjects, audit.KubeletReaches(s.Index)...)
	}
	same := func(w *rbac.WorkloadIdentity) bool {
		return w.Identity != nil && strings.EqualFold(w.Identity.ID, m.ID) || m.ClientID != "" && strings.EqualFold(w.ClientID, m.ClientID)
	}
	for _, w := range s.Index.WorkloadIdentities() {
		switch {
		case !same(&w):
		case w.Acts():
			ans.ServiceAccounts = append(ans.ServiceAccounts, w)
		default:
			ans.NotActing = append(ans.NotActing, w)
		}
	}
	for _, r := range audit.IdentityReaches(s.Index) {
		if same(&r.Workload) {
			ans.Subjects = append(ans.Subjects, r)
		}
	}
	rank := map[string]int{audit.StepWorkloadCreate: 0, audit.StepTokenCreate: 1, audit.StepPodExec: 2, audit.StepAccountCreate: 3, audit.StepSecretProviderClass: 4, audit.StepIMDS: 5}
	slices.SortStableFunc(ans.Subjects, func(a, b audit.IdentityReach) int {
		return cmp.Or(cmp.Compare(a.Subject.String(), b.Subject.String()), cmp.Compare(a.Workload.ServiceAccount, b.Workload.ServiceAccount), cmp.Compare(rank[a.Step], rank[b.Step]))
	})
	ans.Warnings = s.warnings(nil, s.Index.Warnings())
	if kubelet {
		ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnWorkloadIdentity, "the kubelet identity is the nodes': %s (whether Pod Security admission forbids pods on the host's network was not read)", audit.IMDSReachOf(s.Index.Snapshot())))
	}
	if ans.Addon != "" {
		ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnWorkloadIdentity, "the %s add-on's identity is assigned to the nodes: a pod that reaches the instance metadata service (169.254.169.254) gets its tokens too, whoever created it; the SecretProviderClasses already in the cluster were not read (where one names it, creating a pod is enough)", ans.Addon))
	}
	if len(ans.RoleAssignments) == 0 {
		ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnWorkloadIdentity, "no role assignment of %s was read: what acting as it gets in Azure is not known (az role assignment list --assignee %s --all)", m.Name, cmp.Or(m.PrincipalID, m.ClientID)))
	}
	if gaps := s.Index.Gaps(); len(gaps) > 0 {
		// Who can create pods or tokens may hide in a part not read.
		ans.Incomplete, ans.Gaps = true, gaps
	}
	return ans, nil
}

// addonIdentity is the enabled add-on identity q names (its object id, or
// the add-on's name), when the identities read do not hold it.
func addonIdentity(d *azurerbac.Data, q string) *azurerbac.ManagedIdentity {
	if d.Cluster == nil {
		return nil
	}
	for name, oid := range d.Cluster.AddonIdentities {
		if strings.EqualFold(oid, q) || strings.EqualFold(name, q) {
			return &azurerbac.ManagedIdentity{Name: name + " add-on identity", PrincipalID: oid}
		}
	}
	return nil
}

// kubeletIdentity is the kubelet identity when q names it ("kubelet", or
// its object id) and the identities read do not hold it.
func kubeletIdentity(d *azurerbac.Data, q string) *azurerbac.ManagedIdentity {
	if d.Cluster == nil || d.Cluster.KubeletIdentity == "" {
		return nil
	}
	if strings.EqualFold(q, "kubelet") || strings.EqualFold(q, d.Cluster.KubeletIdentity) {
		return &azurerbac.ManagedIdentity{Name: "kubelet identity", PrincipalID: d.Cluster.KubeletIdentity}
	}
	return nil
}

// addonOf is the add-on whose identity principalID is, or "".
func addonOf(d *azurerbac.Data, principalID string) string {
	if d.Cluster == nil || principalID == "" {
		return ""
	}
	for name, oid := range d.Cluster.AddonIdentities {
		if strings.EqualFold(oid, principalID) {
			return name
		}
	}
	return ""
}

// findIdentity is the identity named by a client id, principal id,
// resource id or name; a name two identities share is an error naming
// both.
func findIdentity(ids []azurerbac.ManagedIdentity, q string) (*azurerbac.ManagedIdentity, error) {
	var byName []*azurerbac.ManagedIdentity
	for i := range ids {
		m := &ids[i]
		if strings.EqualFold(m.ClientID, q) || strings.EqualFold(m.PrincipalID, q) || strings.EqualFold(m.ID, q) {
			return m, nil
		}
		if strings.EqualFold(m.Name, q) {
			byName = append(byName, m)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		var names []string
		for _, m := range ids {
			names = append(names, m.Name)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("no managed identity %q among the %d read (%s): give its client id, principal id, resource id or name", q, len(ids), strings.Join(names[:min(5, len(names))], ", "))
	}
	var which []string
	for _, m := range byName {
		which = append(which, m.ID)
	}
	return nil, fmt.Errorf("%d managed identities are named %q (%s): give the resource id or client id", len(byName), q, strings.Join(which, ", "))
}
