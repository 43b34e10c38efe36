package azurerbac

import "strings"

// Control-plane (Azure Resource Manager) actions that are ways into a
// cluster, or around its RBAC.
const (
	// ActionAdminCredential lists the admin credential: a client
	// certificate of user clusterAdmin in group system:masters, while
	// local accounts are on.
	ActionAdminCredential = "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action"
	// ActionUserCredential lists the user credential: without Entra
	// integration, a certificate of the local user clusterUser; with it,
	// a kubeconfig that signs in with Entra and carries no rights.
	ActionUserCredential = "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"
	// ActionRunCommand runs a command in the cluster (az aks command
	// invoke): a pod in namespace aks-command.
	ActionRunCommand = "Microsoft.ContainerService/managedClusters/runCommand/action"
	// ActionWriteCluster writes the managed cluster: local accounts back
	// on, other admin groups, Azure RBAC off.
	ActionWriteCluster = "Microsoft.ContainerService/managedClusters/write"
	// ActionWriteAssignment writes role assignments: any of the above,
	// granted to oneself.
	ActionWriteAssignment = "Microsoft.Authorization/roleAssignments/write"
	// ActionArcUserCredential lists an Arc connected cluster's user
	// credential (cluster connect).
	ActionArcUserCredential = "Microsoft.Kubernetes/connectedClusters/listClusterUserCredential/action"
	// ActionArcAdminKubeconfig lists an AKS Arc cluster's certificate-based
	// admin kubeconfig (az aksarc get-credentials --admin), at its
	// provisioned cluster instance (CONNECTED_CLUSTER/providers/
	// Microsoft.HybridContainerService/provisionedClusterInstances/default).
	ActionArcAdminKubeconfig = "Microsoft.HybridContainerService/provisionedClusterInstances/listAdminKubeconfig/action"
	// ActionVMRunCommand and ActionVMWrite are root on a node: a command
	// run on, or an extension written to, the scale set's VMs.
	ActionVMRunCommand = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action"
	ActionVMWrite      = "Microsoft.Compute/virtualMachineScaleSets/write"
)

// Holder is one role assignment whose role grants a control-plane action
// at a scope.
type Holder struct {
	Assignment Assignment
	Role       RoleDefinition
	// Builtin: the input held no definition of the role; it is decided
	// with the built-in role's actions (builtinRoles).
	Builtin bool
	// Conditional: the assignment carries an ABAC condition, not
	// evaluated: it may not apply.
	Conditional bool
}

// Holders are the assignments whose roles grant action at scope (its own,
// or inherited from the resource group, subscription or a management
// group), less those a deny assignment without a condition stops for
// their principal. unknown are the role ids named whose definitions are
// neither in the data nor built in: what they grant is not known.
func (d *Data) Holders(action, scope string) (holders []Holder, unknown []string) {
	d.prepare()
	return d.holders(d.Assignments, action, scope)
}

func (d *Data) holders(as []Assignment, action, scope string) (holders []Holder, unknown []string) {
	for _, a := range as {
		if !d.reaches(a.Scope, scope) {
			continue
		}
		r, builtin := d.controlRole(a.RoleDefinitionID)
		if r == nil {
			unknown = append(unknown, a.RoleDefinitionID)
			continue
		}
		if !AllowsAction(r.Permissions, action) {
			continue
		}
		p := Principal{ObjectID: a.PrincipalID}
		if strings.EqualFold(a.PrincipalType, "Group") {
			p = Principal{Groups: []string{a.PrincipalID}}
		}
		if d.actionDenied(p, action, scope) {
			continue
		}
		holders = append(holders, Holder{Assignment: a, Role: *r, Builtin: builtin, Conditional: a.Condition != ""})
	}
	return holders, unknown
}

// controlRole is an assignment's role definition for control-plane
// actions: the data's, else the built-in role of that id.
func (d *Data) controlRole(id string) (*RoleDefinition, bool) {
	if r := d.roles[roleKey(id)]; r != nil && hasActions(r) {
		return r, false
	}
	if r, ok := builtinRoles[roleKey(id)]; ok {
		return &r, true
	}
	if r := d.roles[roleKey(id)]; r != nil {
		return r, false
	}
	return nil, false
}

// hasActions says whether a definition carries control-plane actions (a
// definition read from guard's data alone may have kept dataActions only).
func hasActions(r *RoleDefinition) bool {
	for _, p := range r.Permissions {
		if len(p.Actions) > 0 || len(p.NotActions) > 0 {
			return true
		}
	}
	return false
}

// actionDenied says whether a deny assignment without a condition stops
// p's action at scope.
func (d *Data) actionDenied(p Principal, action, scope string) bool {
	for i := range d.Denies {
		x := &d.Denies[i]
		if x.Condition != "" || !d.reaches(x.Scope, scope) || !x.Names(p) {
			continue
		}
		if x.DoNotApplyToChildScopes && !strings.EqualFold(strings.TrimSuffix(x.Scope, "/"), strings.TrimSuffix(scope, "/")) {
			continue
		}
		if AllowsAction(x.Permissions, action) {
			return true
		}
	}
	return false
}

// builtinRoles are Azure's built-in roles whose actions open a cluster,
// by their stable ids, with the actions Azure documents for them (the
// ones these decisions read; `az role definition list --name ID` gives
// the full lists, and a definition in the input takes precedence).
var builtinRoles = func() map[string]RoleDefinition {
	m := map[string]RoleDefinition{}
	add := func(id, name string, actions, notActions []string) {
		m[id] = RoleDefinition{ID: "/providers/Microsoft.Authorization/roleDefinitions/" + id, Name: name,
			Permissions: []Permission{{Actions: actions, NotActions: notActions}}}
	}
	add("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", []string{"*"}, nil)
	add("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor", []string{"*"},
		[]string{"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"})
	add("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", []string{"*/read"}, nil)
	add("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator", []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}, nil)
	add("0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8", "Azure Kubernetes Service Cluster Admin Role", []string{
		"Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action",
		"Microsoft.ContainerService/managedClusters/accessProfiles/listCredential/action",
		"Microsoft.ContainerService/managedClusters/read",
		"Microsoft.ContainerService/managedClusters/runcommand/action"}, nil)
	// AcrPull: all the kubelet identity needs (kubelet-identity-reach).
	add("7f951dda-4ed3-4680-a7ca-43fe172d538d", "AcrPull", []string{"Microsoft.ContainerRegistry/registries/pull/read"}, nil)
	add("4abbcc35-e782-43d8-92c5-2d3f1bd2253f", "Azure Kubernetes Service Cluster User Role", []string{
		"Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
		"Microsoft.ContainerService/managedClusters/read"}, nil)
	return m
}()
