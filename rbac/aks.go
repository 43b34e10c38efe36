package rbac

import (
	"path"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// The ways into an AKS cluster through Azure's control plane, beside what
// the API server's authorizer decides: an Azure principal that can fetch
// a credential of the cluster acts as the identity it names
// (azure-credential); one that can change who may do so can grant itself
// that (azure-reconfigure). They need the managed cluster's settings
// (az aks show, ARM's GET) and the role assignments at or above it.

// Door kinds.
const (
	DoorCredential  = "azure-credential"
	DoorReconfigure = "azure-reconfigure"
)

// Local accounts of an AKS cluster.
const (
	UserClusterAdmin = "clusterAdmin"
	UserClusterUser  = "clusterUser"
)

// AzureDoor is one principal's way into the cluster through one role
// assignment.
type AzureDoor struct {
	Kind    string  `json:"kind"` // azure-credential or azure-reconfigure
	Subject Subject `json:"subject"`
	// Action is the control-plane action the role grants; What says what
	// it lets the principal do.
	Action string `json:"action"`
	What   string `json:"what"`
	// As is the identity an azure-credential door signs in as.
	As *DoorIdentity `json:"as,omitempty"`
	// The assignment and role that grant the action.
	Assignment       string `json:"assignment"`
	Scope            string `json:"scope"`
	RoleName         string `json:"roleName"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	// BuiltinRole: the role's definition was not in the input; the
	// built-in role's documented actions decided.
	BuiltinRole bool `json:"builtinRole,omitempty"`
	// Conditional: the assignment's ABAC condition is not evaluated; it
	// may not apply.
	Conditional bool `json:"conditional,omitempty"`
	// Via are the paths by which the identity the door yields is allowed
	// the request asked (who-can, can).
	Via []Path `json:"via,omitempty"`
}

// DoorIdentity is the Kubernetes identity a credential signs in as.
type DoorIdentity struct {
	User   string   `json:"user"`
	Groups []string `json:"groups"`
}

// Identity is the door's identity as the authorizer sees it.
func (d *DoorIdentity) Identity() Identity { return Identity{Name: d.User, Groups: d.Groups} }

// door is one control-plane action that opens the cluster.
type door struct {
	kind, action, what string
	as                 *DoorIdentity
	scope              string
}

// doors are the managed cluster's ways in, given its settings.
func (ix *Index) doors() []door {
	d := ix.snap.Azure
	if d == nil || d.Cluster == nil {
		return nil
	}
	mc := d.Cluster
	var out []door
	if !mc.Arc() && mc.LocalAccounts() {
		out = append(out, door{kind: DoorCredential, action: azurerbac.ActionAdminCredential, scope: d.ClusterID,
			what: "fetches the admin credential (az aks get-credentials --admin): a client certificate of user clusterAdmin in group system:masters",
			as:   &DoorIdentity{User: UserClusterAdmin, Groups: []string{GroupMasters, GroupAuthenticated}}})
		if !mc.Entra() {
			out = append(out, door{kind: DoorCredential, action: azurerbac.ActionUserCredential, scope: d.ClusterID,
				what: "fetches the user credential (az aks get-credentials): a client certificate of the local user clusterUser",
				as:   &DoorIdentity{User: UserClusterUser, Groups: []string{GroupAuthenticated}}})
		}
	}
	// AKS Arc: the certificate-based admin kubeconfig (az aksarc
	// get-credentials --admin; learn.microsoft.com/azure/aks/hybrid/
	// retrieve-admin-kubeconfig), granted at the provisioned cluster
	// instance. Its certificate's user is not documented: it is the
	// cluster administrator's, taken as group system:masters. The
	// connected cluster's listClusterUserCredential (az connectedk8s
	// proxy) is no door: cluster connect signs in as the caller's own
	// Entra identity, or with a service account token the caller brings.
	if mc.Arc() && mc.ProvisionedCluster {
		out = append(out, door{kind: DoorCredential, action: azurerbac.ActionArcAdminKubeconfig, scope: mc.ProvisionedInstance(),
			what: "fetches the certificate-based admin kubeconfig (az aksarc get-credentials --admin): a client certificate of the cluster administrator, which no Entra sign-in governs",
			as:   &DoorIdentity{Groups: []string{GroupMasters, GroupAuthenticated}}})
	}
	// Command invoke runs kubectl in a pod AKS creates (namespace
	// aks-command). On a cluster with AKS-managed Entra the Azure CLI
	// passes the caller's own token ("so the command execution also
	// using current user identity", azure-cli's aks_runcommand), so it is
	// no way in; elsewhere it passes none and the command runs with a
	// credential AKS holds, on a cluster without Entra an admin-level one:
	// taken as the admin credential's identity.
	if !mc.Arc() && (mc.AAD == nil || !mc.AAD.Managed) && (mc.APIServer == nil || !mc.APIServer.DisableRunCommand) {
		out = append(out, door{kind: DoorCredential, action: azurerbac.ActionRunCommand, scope: d.ClusterID,
			what: "runs commands in the cluster (az aks command invoke): without AKS-managed Entra the caller's token is not passed, and the command pod runs with AKS's own admin-level credential",
			as:   &DoorIdentity{User: UserClusterAdmin, Groups: []string{GroupMasters, GroupAuthenticated}}})
	}
	out = append(out,
		door{kind: DoorReconfigure, action: azurerbac.ActionWriteCluster, scope: d.ClusterID,
			what: "writes the managed cluster: can turn local accounts on, change the Entra admin groups, turn Azure RBAC off"},
		door{kind: DoorReconfigure, action: azurerbac.ActionWriteAssignment, scope: d.ClusterID,
			what: "writes role assignments at the cluster's scope: can grant itself any role there, the credentials' included"})
	if mc.NodeResourceGroup != "" && !strings.EqualFold(mc.NodeResourceGroupRestriction, "ReadOnly") {
		if sub, ok := SubscriptionOf(d.ClusterID); ok {
			rg := sub + "/resourceGroups/" + mc.NodeResourceGroup
			out = append(out,
				door{kind: DoorReconfigure, action: azurerbac.ActionVMRunCommand, scope: rg,
					what: "runs commands on the nodes' VMs (node resource group " + mc.NodeResourceGroup + "): root on a node, and so its kubelet's rights"},
				door{kind: DoorReconfigure, action: azurerbac.ActionVMWrite, scope: rg,
					what: "writes the nodes' scale sets (node resource group " + mc.NodeResourceGroup + "): root on a node through an extension, and so its kubelet's rights"})
		}
	}
	return out
}

// SubscriptionOf is "/subscriptions/SUB" of a resource id.
func SubscriptionOf(id string) (string, bool) {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	if len(parts) < 2 || !strings.EqualFold(parts[0], "subscriptions") {
		return "", false
	}
	return "/subscriptions/" + parts[1], true
}

// AzureDoors are the principals that reach the request through Azure's
// control plane: the azure-credential doors whose identity the cluster
// allows it (with those paths), then the azure-reconfigure doors of
// principals with no credential door, each principal once per kind.
func (ix *Index) AzureDoors(a Attributes) ([]AzureDoor, []Warning) {
	return ix.azureDoors(func(dr door) ([]Path, bool) {
		if dr.as == nil {
			return nil, true
		}
		res := ix.Can(dr.as.Identity(), a)
		return res.Via, res.Allowed
	}, nil)
}

// AllAzureDoors are every door of the cluster, whatever the request (what
// a fix's check compares before and after).
func (ix *Index) AllAzureDoors() []AzureDoor {
	if ix.snap.Azure == nil {
		return nil
	}
	ds, _ := ix.azureDoors(func(door) ([]Path, bool) { return nil, true }, nil, true)
	return ds
}

// AzureDoorsOf are the doors subject's object id or groups hold (what-can,
// can).
func (ix *Index) AzureDoorsOf(id Identity) ([]AzureDoor, []Warning) {
	d := ix.snap.Azure
	if d == nil {
		return nil, nil
	}
	p, ok := azurePrincipalOf(d, id)
	if !ok {
		return nil, nil
	}
	return ix.azureDoors(func(door) ([]Path, bool) { return nil, true }, &p)
}

// azurePrincipalOf is the Azure principal an identity is, as Azure's
// control plane sees it: its object id (given, its name when one, or the
// one assignments give its UPN) and its groups that are object ids; false
// when it has neither.
func azurePrincipalOf(d *azurerbac.Data, id Identity) (azurerbac.Principal, bool) {
	var p azurerbac.Principal
	for _, g := range id.Groups {
		if IsGUID(g) {
			p.Groups = append(p.Groups, g)
		}
	}
	switch {
	case id.ObjectID != "":
		p.ObjectID = id.ObjectID
	case IsGUID(id.Name):
		p.ObjectID = id.Name
	case id.Name != "":
		p.ObjectID = d.ObjectID(id.Name)
	}
	return p, p.ObjectID != "" || len(p.Groups) > 0
}

func (ix *Index) azureDoors(allowed func(door) ([]Path, bool), only *azurerbac.Principal, raw ...bool) ([]AzureDoor, []Warning) {
	d := ix.snap.Azure
	var out []AzureDoor
	var ws []Warning
	if d == nil {
		return nil, nil // no Azure data: no doors to speak of
	}
	// What was not read may hold more doors: said, never a silent none.
	if d.Cluster == nil && d.ClusterGap != "" {
		ws = append(ws, Warnf(WarnAzureRBAC, "%s: who gets in through Azure's control plane (the cluster's credentials, writing it) is not answered", d.ClusterGap))
	}
	if gaps := slices.Concat(d.Gaps, d.DoorGaps); d.Cluster != nil && len(gaps) > 0 {
		ws = append(ws, Warnf(WarnAzureRBAC, "some of Azure's data could not be read (%s): more principals may get in through Azure's control plane", gaps[0]))
	}
	credential := map[string]bool{} // principals with a credential door
	seen := map[string]bool{}
	unknown := map[string]bool{}
	for _, dr := range ix.doors() {
		holders, missing := d.Holders(dr.action, dr.scope)
		for _, r := range missing {
			if !unknown[strings.ToLower(r)] {
				unknown[strings.ToLower(r)] = true
				ws = append(ws, Warnf(WarnAzureRBAC, "an Azure role assignment names role definition %s, which was not read and is not a built-in role the tool knows: whether it opens the cluster through Azure (its credentials, writing it) is unknown", r))
			}
		}
		if len(holders) == 0 {
			continue
		}
		via, ok := allowed(dr)
		if !ok {
			continue
		}
		for _, h := range holders {
			a := h.Assignment
			if only != nil && !only.Is(a.PrincipalID) {
				continue
			}
			key := strings.ToLower(a.PrincipalID)
			if dr.kind == DoorReconfigure && credential[key] && len(raw) == 0 || seen[dr.kind+"|"+key+"|"+dr.action] {
				continue
			}
			seen[dr.kind+"|"+key+"|"+dr.action] = true
			if dr.kind == DoorCredential {
				credential[key] = true
			}
			out = append(out, AzureDoor{Kind: dr.kind, Subject: AzurePrincipalSubject(&a), Action: dr.action, What: dr.what, As: dr.as,
				Assignment: a.ID, Scope: a.Scope, RoleName: cmpName(h.Role), RoleDefinitionID: a.RoleDefinitionID,
				BuiltinRole: h.Builtin, Conditional: h.Conditional, Via: via})
		}
	}
	if len(raw) > 0 {
		return out, ws // every door, each action of each principal
	}
	// One entry per principal and kind: the first door (the strongest).
	var kept []AzureDoor
	one := map[string]bool{}
	for _, x := range out {
		k := x.Kind + "|" + strings.ToLower(x.Subject.Key())
		if !one[k] {
			one[k] = true
			kept = append(kept, x)
		}
	}
	return kept, ws
}

func cmpName(r azurerbac.RoleDefinition) string {
	if r.Name != "" {
		return r.Name
	}
	return path.Base(r.ID)
}

// AzurePrincipalSubject is the subject an assignment's principal is, as
// who-can names Azure principals.
func AzurePrincipalSubject(a *azurerbac.Assignment) Subject {
	s := azureSubject(a)
	sub := Subject{Kind: s.Kind, Name: s.Name, ObjectID: a.PrincipalID}
	if s.Kind == ServicePrincipalKind || s.Kind == ManagedIdentityKind {
		// Kubernetes sees its object id as a user name.
		sub.Kind, sub.PrincipalType = UserKind, s.Kind
	}
	if sub.Kind == GroupKind {
		sub.ObjectID, sub.DisplayName = "", a.PrincipalName
	}
	return sub
}

// AKSCluster is the managed cluster's settings, when read.
func (ix *Index) AKSCluster() *azurerbac.ManagedCluster {
	if ix.snap.Azure == nil {
		return nil
	}
	return ix.snap.Azure.Cluster
}
