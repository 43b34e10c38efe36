package fix

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// The aks family's fixes change the managed cluster's settings: an
// operation on a ManagedCluster (apiVersion Microsoft.ContainerService),
// its name the cluster's resource id, a patch of the settings the tool
// reads (azurerbac.ManagedCluster's JSON). They are checked by the engine
// like every fix (on a copy: the finding gone, nobody gaining access) and
// printed as az aks update commands. ARM updates a managed cluster with a
// PUT of the whole resource, which this tool does not write: --apply
// refuses them and says to run the command.

// AKSAPIVersion and AKSKind name a managed cluster target.
const (
	AKSAPIVersion = "Microsoft.ContainerService"
	AKSKind       = "ManagedCluster"
)

// aksSettings are the settings a fix changes, each with the az aks update
// flag that sets it.
var aksSettings = map[string]string{
	"/disableLocalAccounts":                     "--disable-local-accounts",
	"/apiServerAccessProfile/disableRunCommand": "--disable-run-command",
	"/nodeResourceGroupRestriction":             "--nrg-lockdown-restriction-level ReadOnly",
}

func init() {
	generators["aks-local-accounts"] = []generator{disableLocalAccounts}
	generators["aks-command-invoke"] = []generator{disableRunCommand}
	generators["aks-node-resource-group"] = []generator{lockNodeResourceGroup}
}

// IsAKS says whether the operation changes the managed cluster's settings.
func (op Operation) IsAKS() bool {
	return op.Target.Kind == AKSKind && op.Target.APIVersion == AKSAPIVersion
}

func aksCluster(c *fixContext) (*azurerbac.ManagedCluster, error) {
	if c.snap.Azure == nil || c.snap.Azure.Cluster == nil {
		return nil, errors.New("the managed cluster's settings are not in the view")
	}
	return c.snap.Azure.Cluster, nil
}

func aksOp(mc *azurerbac.ManagedCluster, ops ...PatchOp) Operation {
	return Operation{Action: Patch, Target: rbac.ObjectRef{APIVersion: AKSAPIVersion, Kind: AKSKind, Name: mc.ID}, Patch: ops}
}

func disableLocalAccounts(c *fixContext) (*Fix, error) {
	mc, err := aksCluster(c)
	if err != nil {
		return nil, err
	}
	if !mc.Entra() {
		// AKS refuses it: without Entra integration nobody could sign in.
		return nil, errors.New("AKS disables local accounts only with Entra integration: enable it first (az aks update --enable-aad --aad-admin-group-object-ids GROUP), or nobody could sign in")
	}
	desc := "Turns local accounts off (disableLocalAccounts): the admin credential is refused; rotate the certificates issued before (az aks rotate-certs)"
	if len(mc.AAD.AdminGroups) == 0 {
		desc += "; no Entra admin group is set, so only RBAC bindings to Entra identities give cluster-admin"
	}
	return &Fix{Description: desc, Operations: []Operation{aksOp(mc,
		PatchOp{Op: "test", Path: "/disableLocalAccounts", Value: false},
		PatchOp{Op: "replace", Path: "/disableLocalAccounts", Value: true})}}, nil
}

func disableRunCommand(c *fixContext) (*Fix, error) {
	mc, err := aksCluster(c)
	if err != nil {
		return nil, err
	}
	op := aksOp(mc, PatchOp{Op: "add", Path: "/apiServerAccessProfile", Value: map[string]any{"disableRunCommand": true}})
	if mc.APIServer != nil {
		op = aksOp(mc, PatchOp{Op: "test", Path: "/apiServerAccessProfile/disableRunCommand", Value: false},
			PatchOp{Op: "add", Path: "/apiServerAccessProfile/disableRunCommand", Value: true})
	}
	return &Fix{Description: "Turns command invoke off (apiServerAccessProfile.disableRunCommand)", Operations: []Operation{op}}, nil
}

func lockNodeResourceGroup(c *fixContext) (*Fix, error) {
	mc, err := aksCluster(c)
	if err != nil {
		return nil, err
	}
	op := aksOp(mc, PatchOp{Op: "add", Path: "/nodeResourceGroupRestriction", Value: "ReadOnly"})
	if was := mc.NodeResourceGroupRestriction; was != "" {
		op = aksOp(mc, PatchOp{Op: "test", Path: "/nodeResourceGroupRestriction", Value: was},
			PatchOp{Op: "replace", Path: "/nodeResourceGroupRestriction", Value: "ReadOnly"})
	}
	return &Fix{Description: "Locks the node resource group " + mc.NodeResourceGroup + " (restrictionLevel ReadOnly): only AKS writes its resources",
		Operations: []Operation{op}}, nil
}

// applyAKS patches the copy's managed cluster settings.
func applyAKS(s *rbac.Snapshot, op Operation) error {
	if s.Azure == nil || s.Azure.Cluster == nil || !strings.EqualFold(s.Azure.Cluster.ID, op.Target.Name) {
		return errors.New("not found")
	}
	if op.Action != Patch {
		return fmt.Errorf("a managed cluster's settings are patched, not %s", op.Action)
	}
	b, err := patched(s.Azure.Cluster, op.Patch)
	if err != nil {
		return err
	}
	var mc azurerbac.ManagedCluster
	if err := json.Unmarshal(b, &mc); err != nil {
		return err
	}
	n := s.Azure.Copy()
	n.Cluster = &mc
	s.Azure = n
	return nil
}

// aksObject is the managed cluster's settings as a JSON map, or nil.
func aksObject(s *rbac.Snapshot, id string) (map[string]any, error) {
	if s.Azure == nil || s.Azure.Cluster == nil || !strings.EqualFold(s.Azure.Cluster.ID, id) {
		return nil, nil
	}
	b, err := json.Marshal(s.Azure.Cluster)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// aksCommand is the az aks update command of an operation, every word
// from the cluster quoted for the shell.
func aksCommand(op Operation) string {
	var flags []string
	for _, p := range op.Patch {
		if p.Op == "test" {
			continue
		}
		if f, ok := aksSettings[p.Path]; ok {
			flags = append(flags, f)
		} else if p.Path == "/apiServerAccessProfile" {
			flags = append(flags, aksSettings["/apiServerAccessProfile/disableRunCommand"])
		}
	}
	return "az aks update --ids " + safe.Shell(op.Target.Name) + " " + strings.Join(flags, " ")
}
