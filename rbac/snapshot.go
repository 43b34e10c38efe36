package rbac

import (
	"encoding/json"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// SnapshotKind is the kind of a saved snapshot document.
const SnapshotKind = "Snapshot"

// Snapshot is everything the engine knows of a cluster: the RBAC objects,
// the service accounts and namespaces they refer to, and what could not be
// read. `kubectl access snapshot` writes it; `-f` reads it back.
type Snapshot struct {
	metav1.TypeMeta `json:",inline"`
	// Source says where the objects came from: a context and server, or
	// the files read.
	Source string `json:"source,omitempty"`
	// RulesAggregated is true when ClusterRoles carry the rules the
	// aggregation controller wrote (a live cluster). When false, the index
	// computes aggregated roles from their aggregationRule, as the
	// controller would.
	RulesAggregated bool `json:"rulesAggregated"`

	Namespaces          []corev1.Namespace          `json:"namespaces,omitempty" document:"stream"`
	ServiceAccounts     []corev1.ServiceAccount     `json:"serviceAccounts,omitempty" document:"stream"`
	Roles               []rbacv1.Role               `json:"roles,omitempty" document:"stream"`
	ClusterRoles        []rbacv1.ClusterRole        `json:"clusterRoles,omitempty" document:"stream"`
	RoleBindings        []rbacv1.RoleBinding        `json:"roleBindings,omitempty" document:"stream"`
	ClusterRoleBindings []rbacv1.ClusterRoleBinding `json:"clusterRoleBindings,omitempty" document:"stream"`

	// The objects the gMSA and workload checks read (whole-cluster loads
	// only). Pods are slimmed to identity, placement, Windows options and
	// secret volumes; offline, a workload's pod template becomes a pod
	// named after the workload (see PodFromTemplate). Services are only
	// those admission webhooks point at.
	Pods                []corev1.Pod                                             `json:"pods,omitempty" document:"stream"`
	Nodes               []corev1.Node                                            `json:"nodes,omitempty" document:"stream"`
	GMSAInstalled       bool                                                     `json:"gmsaInstalled,omitempty"`
	GMSACredentialSpecs []GMSACredentialSpec                                     `json:"gmsaCredentialSpecs,omitempty"`
	MutatingWebhooks    []admissionregistrationv1.MutatingWebhookConfiguration   `json:"mutatingWebhookConfigurations,omitempty"`
	ValidatingWebhooks  []admissionregistrationv1.ValidatingWebhookConfiguration `json:"validatingWebhookConfigurations,omitempty"`
	Services            []corev1.Service                                         `json:"services,omitempty"`
	// PodIdentityExceptions are AAD pod identity's
	// AzurePodIdentityException resources, when the input holds them.
	PodIdentityExceptions []AzurePodIdentityException `json:"azurePodIdentityExceptions,omitempty"`
	// NetworkPolicies are those the input holds (files, or a live load's
	// LIST): whether pods reach the instance metadata service
	// (IMDSEgressOf). NetworkPoliciesListed says the cluster's were
	// listed whole (live), so none means the cluster has none.
	NetworkPolicies       []networkingv1.NetworkPolicy `json:"networkPolicies,omitempty"`
	NetworkPoliciesListed bool                         `json:"networkPoliciesListed,omitempty"`

	// ADAuth is AKS hybrid's AD authentication webhook, when the live load
	// found its pods (nil otherwise, and for files: the audit then reads
	// the pods' secret volumes by name).
	ADAuth *ADAuth `json:"adAuth,omitempty"`

	// Probes are what the live API server answered to questions its
	// objects cannot: whether the Node authorizer and NodeRestriction are
	// in force. Nil when the snapshot was read from files.
	Probes *Probes `json:"probes,omitempty"`

	// AzureRBAC is whether Azure RBAC for Kubernetes authorization (AKS's
	// guard webhook) decides after RBAC, as the live load's probe found it;
	// nil when not probed (files). While active and its role assignments
	// are not read, an answer that could involve an Entra identity is
	// incomplete.
	AzureRBAC *Probe `json:"azureRBAC,omitempty"`

	// Azure is what Azure RBAC decides with (role assignments reaching the
	// cluster, role definitions, deny assignments), when read: the chain
	// then ends with guard's decision.
	Azure *azurerbac.Data `json:"azure,omitempty"`

	// Discovery is what the server served when the snapshot was taken
	// (every resource's group, version, kind and scope): offline answers
	// resolve resource names with it, as live ones with the server's. Nil
	// for files, which are answered over what every server serves.
	Discovery *Discovery `json:"discovery,omitempty"`

	// Gaps are the parts that could not be read; any gap makes every
	// answer incomplete.
	Gaps []Gap `json:"gaps,omitempty"`
}

// Discovery is a server's discovery: its API groups in priority order and
// every group version's resources (loading.Catalog reads it).
type Discovery struct {
	Groups    []metav1.APIGroup        `json:"groups"`
	Resources []metav1.APIResourceList `json:"resources"`
}

// GMSAGroup is the API group of GMSACredentialSpec (kubernetes-sigs/windows-gmsa).
const GMSAGroup = "windows.k8s.io"

// GMSACredentialSpec is a Windows gMSA credential spec: cluster-scoped,
// its one field the credential spec document.
type GMSACredentialSpec struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Credspec          json.RawMessage `json:"credspec,omitempty"`
}

// PodIdentityGroup is AAD pod identity's API group.
const PodIdentityGroup = "aadpodidentity.k8s.io"

// AzurePodIdentityException is AAD pod identity's exception resource: the
// pods of its namespace whose labels hold all of spec.podLabels bypass
// NMI and reach the instance metadata service directly.
type AzurePodIdentityException struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		PodLabels map[string]string `json:"podLabels"`
	} `json:"spec"`
}

// TemplateAnnotation marks a pod made offline from a workload's pod
// template; its owner reference names the workload.
const TemplateAnnotation = "access.kubectl.io/from-template"

// Probes are the results of the live probes.
type Probes struct {
	NodeAuthorizer  Probe `json:"nodeAuthorizer"`
	NodeRestriction Probe `json:"nodeRestriction"`
}

// ProbeState is what a probe found.
type ProbeState string

const (
	ProbeActive   ProbeState = "active"
	ProbeInactive ProbeState = "inactive"
	// ProbeUnknown means the probe could not decide; Detail says why (the
	// permission it lacked, or what it could not find to probe with).
	ProbeUnknown ProbeState = "unknown"
)

// Probe is one probe's result and what the server said.
type Probe struct {
	State  ProbeState `json:"state"`
	Detail string     `json:"detail"`
}

// Gap is one part of the cluster the snapshot lacks, and why: a whole
// collection (a forbidden LIST), or one object (Name set: a role that
// offline input references but does not hold).
type Gap struct {
	Resource  string `json:"resource"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Reason    string `json:"reason"`
}

func (g Gap) String() string {
	where := g.Resource
	if g.Name != "" {
		where += " " + g.Name
	}
	if g.Namespace != "" {
		where += " in namespace " + g.Namespace
	}
	return "could not read " + where + ": " + g.Reason
}

// rbacResources are the collections the authorizer reads.
var rbacResources = map[string]bool{"roles": true, "rolebindings": true, "clusterroles": true, "clusterrolebindings": true}

// IsRBAC says whether the gap is in the RBAC objects the authorizer reads
// (it then touches every answer of the engine in its scope).
func (g Gap) IsRBAC() bool { return rbacResources[g.Resource] }

// Reaches says whether a collection gap can hide a grant for a request in
// namespace ("" = cluster-scoped; "*" = any namespace).
func (g Gap) Reaches(namespace string) bool {
	switch {
	case !g.IsRBAC() || g.Name != "":
		return false
	case g.Resource == "clusterroles" || g.Resource == "clusterrolebindings":
		return true
	case namespace == "":
		return false // RoleBindings never grant cluster-scoped requests
	}
	return namespace == "*" || g.Namespace == "" || g.Namespace == namespace
}

// NewSnapshot returns an empty snapshot with its type set.
func NewSnapshot() *Snapshot {
	return &Snapshot{TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: SnapshotKind}}
}
