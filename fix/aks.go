package fix

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
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
// printed as az aks update commands. ARM writes a managed cluster with a
// PUT of the whole resource: --apply does what az aks update does, GET
// it, change the one setting (AKSChanges, SetAKS), PUT it back if its
// ETag is unchanged (access/aks.go).

// AKSAPIVersion and AKSKind name a managed cluster target.
const (
	AKSAPIVersion = "Microsoft.ContainerService"
	AKSKind       = "ManagedCluster"
)

// aksSetting is one setting an aks fix changes, by its path in the tool's
// JSON (the fix's patch): its path in ARM's resource, and the az aks
// update flag that sets a value (its value when ARM gives none is
// AKSValue's).
type aksSetting struct {
	arm []string
	// query reads it from az aks show (JMESPath, its value when ARM
	// gives none included), for the printed command's guard.
	query string
	flag  func(v any) string
}

var aksSettings = map[string]aksSetting{
	"/disableLocalAccounts": {arm: []string{"properties", "disableLocalAccounts"}, query: "disableLocalAccounts || `false`",
		flag: onOff("--disable-local-accounts", "--enable-local-accounts")},
	"/apiServerAccessProfile/disableRunCommand": {arm: []string{"properties", "apiServerAccessProfile", "disableRunCommand"}, query: "apiServerAccessProfile.disableRunCommand || `false`",
		flag: onOff("--disable-run-command", "--enable-run-command")},
	"/nodeResourceGroupRestriction": {arm: []string{"properties", "nodeResourceGroupProfile", "restrictionLevel"}, query: "nodeResourceGroupProfile.restrictionLevel || 'Unrestricted'",
		flag: func(v any) string { return "--nrg-lockdown-restriction-level " + word(fmt.Sprint(v)) }},
}

// word is a value as a shell word: bare when it is letters only (AKS's
// levels), quoted otherwise (a value read from ARM may be anything).
func word(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
		return s
	}
	return safe.Shell(s)
}

func onOff(on, off string) func(v any) string {
	return func(v any) string {
		if v == true {
			return on
		}
		return off
	}
}

// AKSChange is one setting an operation on a managed cluster sets.
type AKSChange struct {
	// Setting is its path in the tool's JSON (azurerbac.ManagedCluster).
	Setting string
	// ARM is its path in ARM's resource (GET and PUT).
	ARM []string
	New any
}

// AKSChanges are the settings op sets (its test operations aside); an
// error when it sets anything else, which this tool never writes.
func AKSChanges(op Operation) ([]AKSChange, error) {
	if !op.IsAKS() || op.Action != Patch {
		return nil, fmt.Errorf("%s %s is not a change of a managed cluster's settings", op.Action, op.Target)
	}
	var out []AKSChange
	add := func(path string, v any) error {
		s, ok := aksSettings[path]
		if !ok {
			return fmt.Errorf("setting %s of a managed cluster is not one a fix writes", path)
		}
		out = append(out, AKSChange{Setting: path, ARM: s.arm, New: v})
		return nil
	}
	for _, p := range op.Patch {
		switch {
		case p.Op == "test":
		case p.Op != "add" && p.Op != "replace":
			return nil, fmt.Errorf("a managed cluster's setting is set, not %s (%s)", p.Op, p.Path)
		case p.Path == "/apiServerAccessProfile":
			// The profile added whole where there was none.
			m, _ := p.Value.(map[string]any)
			if len(m) == 0 {
				return nil, errors.New("an empty apiServerAccessProfile is not a setting")
			}
			for _, k := range slices.Sorted(maps.Keys(m)) {
				if err := add(p.Path+"/"+k, m[k]); err != nil {
					return nil, err
				}
			}
		default:
			if err := add(p.Path, p.Value); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the operation sets no setting")
	}
	return out, nil
}

// AKSValue is a setting's value in the cluster as read (its value when
// ARM gives none: local accounts and command invoke on, the node resource
// group unrestricted).
func AKSValue(mc *azurerbac.ManagedCluster, setting string) any {
	switch setting {
	case "/disableLocalAccounts":
		return mc.DisableLocalAccounts
	case "/apiServerAccessProfile/disableRunCommand":
		return mc.APIServer != nil && mc.APIServer.DisableRunCommand
	case "/nodeResourceGroupRestriction":
		return cmp.Or(mc.NodeResourceGroupRestriction, "Unrestricted")
	}
	return nil
}

func sameSetting(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return strings.EqualFold(as, bs)
	}
	return a == b
}

// CheckAKS says whether op still applies to the cluster as read now: its
// guards hold (ErrChanged when not) and it changes something (ErrChanged
// when every setting has its new value already).
func CheckAKS(mc *azurerbac.ManagedCluster, op Operation) error {
	changes, err := AKSChanges(op)
	if err != nil {
		return err
	}
	if _, err := patched(mc, op.Patch); err != nil {
		return fmt.Errorf("%w: %v", ErrChanged, err)
	}
	for _, c := range changes {
		if c.Setting == "/disableLocalAccounts" && c.New == true && !mc.Entra() {
			return errLocalAccounts
		}
	}
	for _, c := range changes {
		if !sameSetting(AKSValue(mc, c.Setting), c.New) {
			return nil
		}
	}
	return fmt.Errorf("%w: every setting it changes has its new value already", ErrChanged)
}

// SetAKS is ARM's resource with op's settings set and nothing else
// changed: the body of the PUT (a copy; body is left as it was).
func SetAKS(body map[string]any, op Operation) (map[string]any, error) {
	changes, err := AKSChanges(op)
	if err != nil {
		return nil, err
	}
	out := deepCopy(body).(map[string]any)
	for _, c := range changes {
		m := out
		for _, k := range c.ARM[:len(c.ARM)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				if m[k] != nil {
					return nil, fmt.Errorf("ARM's %s is not an object", strings.Join(c.ARM, "."))
				}
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[c.ARM[len(c.ARM)-1]] = c.New
	}
	return out, nil
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// UndoAKS is the operation that puts back what op changed, given the
// cluster just before: each setting set to its value then, guarded by the
// value op left.
func UndoAKS(op Operation, before *azurerbac.ManagedCluster) (Operation, error) {
	changes, err := AKSChanges(op)
	if err != nil {
		return Operation{}, err
	}
	u := Operation{Action: Patch, Target: op.Target}
	for _, c := range changes {
		u.Patch = append(u.Patch, PatchOp{Op: "test", Path: c.Setting, Value: c.New},
			PatchOp{Op: "add", Path: c.Setting, Value: AKSValue(before, c.Setting)})
	}
	return u, nil
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

// errLocalAccounts: AKS refuses it, as without Entra integration nobody
// could sign in.
var errLocalAccounts = errors.New("AKS disables local accounts only with Entra integration: enable it first (az aks update --enable-aad --aad-admin-group-object-ids GROUP), or nobody could sign in")

func disableLocalAccounts(c *fixContext) (*Fix, error) {
	mc, err := aksCluster(c)
	if err != nil {
		return nil, err
	}
	if !mc.Entra() {
		return nil, errLocalAccounts
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
		// The profile as read guards it (disableRunCommand false is left
		// out of the tool's JSON, so a test of it alone would fail).
		was := *mc.APIServer
		op = aksOp(mc, PatchOp{Op: "test", Path: "/apiServerAccessProfile", Value: &was},
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

// aksCommand is the az aks update command of an operation, guarded as
// the operation is: each setting is read first (az aks show) and must
// still be the value its test operation says, or at least not the new
// one, so a concurrent change makes the command fail. Every word from
// the cluster is quoted for the shell.
func aksCommand(op Operation) string {
	changes, err := AKSChanges(op)
	if err != nil {
		return "# " + safe.ShellComment(err.Error())
	}
	id := safe.Shell(op.Target.Name)
	var guards, flags []string
	for _, c := range changes {
		st := aksSettings[c.Setting]
		cmpOp, want := "!=", c.New
		for _, p := range op.Patch {
			if p.Op == "test" && p.Path == c.Setting {
				cmpOp, want = "=", p.Value
			}
		}
		guards = append(guards, fmt.Sprintf(`[ "$(az aks show --ids %s --query %s -o tsv)" %s %s ]`, id, safe.Shell(st.query), cmpOp, safe.Shell(tsv(want))))
		flags = append(flags, st.flag(c.New))
	}
	return strings.Join(guards, " && ") + " && az aks update --ids " + id + " " + strings.Join(flags, " ")
}

// tsv is a value as az -o tsv prints it (booleans in lower case).
func tsv(v any) string {
	if b, ok := v.(bool); ok {
		return fmt.Sprint(b)
	}
	return fmt.Sprint(v)
}
