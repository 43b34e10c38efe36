// Package fix turns an audit finding into the smallest change that removes
// it: JSON patches guarded by test operations on every value they remove
// or replace, creates, and deletes. Before a fix is offered it is applied
// to a copy of the snapshot and checked with the engine: the finding must
// be gone and no subject may gain any permission (except, for a missing
// grant, exactly the grant the fix is for). Who loses what is reported.
package fix

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Kind is the kind of the Fix document.
const Kind = "Fix"

// Fix is the Fix document of docs/architecture.md's contracts, with the
// engine's verification.
type Fix struct {
	APIVersion  string      `json:"apiVersion"`
	Kind        string      `json:"kind"`
	Finding     string      `json:"finding"`
	Rule        string      `json:"rule"`
	Description string      `json:"description"`
	Operations  []Operation `json:"operations"`
	// Verification is what the engine found on a copy of the snapshot
	// with the operations applied.
	Verification Verification `json:"verification"`

	intended []Change // what a missing-grant fix grants on purpose
	// azureLost are the Azure role assignments an identity's fix deletes,
	// as its principal's losses: the engine's diff sees only what they
	// give in the cluster, and these are what the fix takes on purpose.
	azureLost []Change
}

// Action is what an operation does.
type Action string

const (
	Patch  Action = "patch"
	Create Action = "create"
	Delete Action = "delete"
)

// Operation is one change to one object.
type Operation struct {
	Action Action         `json:"action"`
	Target rbac.ObjectRef `json:"target"`
	// Patch is an RFC 6902 JSON patch whose test operations guard every
	// value it removes or replaces (patch only).
	Patch []PatchOp `json:"patch,omitempty"`
	// Object is the object to create (create only).
	Object json.RawMessage `json:"object,omitempty"`
	// Guard, for a delete, are test operations on what the object must
	// still be (its uid and resourceVersion from a live snapshot, else its
	// subjects or rules): applied first as a patch that changes nothing,
	// they make the delete fail cleanly after a concurrent change.
	Guard []PatchOp `json:"guard,omitempty"`
}

// PatchOp is one JSON patch operation.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// Verification is the engine's check of a fix.
type Verification struct {
	// FindingGone: the audit of the fixed copy no longer reports it.
	FindingGone bool `json:"findingGone"`
	// Gained must be empty, but for the grant a missing-grant fix adds
	// (Granted).
	Gained  []Change `json:"gained"`
	Granted []Change `json:"granted,omitempty"`
	// Lost is every permission a subject loses; Others names the subjects
	// other than the finding's who lose something.
	Lost   []Change       `json:"lost"`
	Others []rbac.Subject `json:"others"`
	// Lockout is set when no person or group would be left with
	// cluster-admin-equivalent rights (the fix is then refused unless
	// Options.AllowLockout).
	Lockout *Lockout `json:"lockout,omitempty"`
	// Incomplete: the view the fix was checked on is incomplete, so who
	// else gains or loses access in what could not be read is unknown.
	Incomplete bool `json:"incomplete,omitempty"`
	// DoorsLost are the ways in through Azure's control plane the fix
	// shuts (rbac.AzureDoor: kind, principal, action); one it would open
	// refuses the fix.
	DoorsLost []string `json:"doorsLost,omitempty"`
}

// Change is one rule a subject gains or loses, where.
type Change struct {
	Subject   rbac.Subject `json:"subject"`
	Namespace string       `json:"namespace"` // "" = cluster-wide
	Rule      string       `json:"rule"`

	atoms []rbac.Attributes // the single requests gained or lost
	// azureRole: Rule is an Azure role assignment (its scope in it).
	azureRole bool
}

func (c Change) String() string {
	if c.azureRole {
		return fmt.Sprintf("%s: %s", c.Subject, c.Rule)
	}
	where := "cluster-wide"
	if c.Namespace != "" {
		where = "in " + c.Namespace
	}
	return fmt.Sprintf("%s: %s %s", c.Subject, c.Rule, where)
}

// Options tune the fixes.
type Options struct {
	// Keep are the verbs a wildcard verb is narrowed to; default
	// get, list, watch.
	Keep []string
	// Resources lists the resources of an API group, for narrowing a
	// wildcard resource; nil means the fix cannot narrow resources.
	Resources func(group string) []string
	// Narrow prefers, for a subject that holds a right cluster-wide through
	// ClusterRoleBindings, RoleBindings in the namespaces where it works
	// (a service account's own; a user's or group's namespaces with
	// RoleBindings) over removing it outright.
	Narrow bool
	// AllowLockout lets a fix remove the last person or (Entra) group
	// holding cluster-admin-equivalent rights.
	AllowLockout bool
}

// ErrNotFixable says the rule has no fix as a manifest.
var ErrNotFixable = errors.New("this rule has no fix as a manifest")

// ErrLockout says a fix would leave no person or group (only system
// identities: system:masters certificates, service accounts) with
// cluster-admin-equivalent rights. On AKS with local accounts disabled
// that locks every person out of the cluster.
var ErrLockout = errors.New("the fix would lock every person out of cluster-admin rights")

// For builds the fix for finding f of the snapshot behind ix, verified.
// It returns an error when no candidate fix both removes the finding and
// widens nobody's access, saying why.
func For(ix *rbac.Index, f *audit.Finding, o Options) (*Fix, error) {
	gens, ok := generators[f.Rule]
	if !ok {
		return nil, fmt.Errorf("%s: %w", f.Rule, ErrNotFixable)
	}
	if len(o.Keep) == 0 {
		o.Keep = []string{"get", "list", "watch"}
	}
	if o.Narrow {
		narrow := narrowToNamespaces
		if strings.HasPrefix(f.Rule, "azure-") {
			narrow = narrowAssignment
		}
		gens = append([]generator{narrow}, gens...)
	}
	var reasons []string
	var lockout error
	for _, gen := range gens {
		fx, err := gen(&fixContext{ix: ix, snap: ix.Snapshot(), f: f, o: o})
		if err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		fx.APIVersion, fx.Kind, fx.Finding, fx.Rule = rbac.APIVersion, Kind, f.ID, f.Rule
		if err := verify(ix, f, fx); err != nil {
			reasons = append(reasons, fx.Description+": "+err.Error())
			continue
		}
		if l := fx.Verification.Lockout; l != nil && !o.AllowLockout {
			lockout = fmt.Errorf("%w: %s; %s. Pass --allow-lockout if that is intended (and a break-glass path exists)", ErrLockout, fx.Description, l)
			reasons = append(reasons, lockout.Error())
			continue
		}
		return fx, nil
	}
	if lockout != nil {
		return nil, lockout
	}
	return nil, fmt.Errorf("no fix for %s can be offered: %s", f.ID, strings.Join(reasons, "; "))
}

// fixContext is what a generator works from.
type fixContext struct {
	ix   *rbac.Index
	snap *rbac.Snapshot
	f    *audit.Finding
	o    Options
}

type generator func(*fixContext) (*Fix, error)

// metaOf returns the ObjectMeta of an RBAC object in the snapshot.
func metaOf(s *rbac.Snapshot, r rbac.ObjectRef) *metav1.ObjectMeta {
	switch r.Kind {
	case "ClusterRoleBinding":
		if i := slices.IndexFunc(s.ClusterRoleBindings, func(o rbacCRB) bool { return o.Name == r.Name }); i >= 0 {
			return &s.ClusterRoleBindings[i].ObjectMeta
		}
	case "RoleBinding":
		if i := slices.IndexFunc(s.RoleBindings, func(o rbacRB) bool { return o.Name == r.Name && o.Namespace == r.Namespace }); i >= 0 {
			return &s.RoleBindings[i].ObjectMeta
		}
	case "ClusterRole":
		if i := slices.IndexFunc(s.ClusterRoles, func(o rbacCR) bool { return o.Name == r.Name }); i >= 0 {
			return &s.ClusterRoles[i].ObjectMeta
		}
	case "Role":
		if i := slices.IndexFunc(s.Roles, func(o rbacR) bool { return o.Name == r.Name && o.Namespace == r.Namespace }); i >= 0 {
			return &s.Roles[i].ObjectMeta
		}
	case "Namespace":
		if i := slices.IndexFunc(s.Namespaces, func(o corev1NS) bool { return o.Name == r.Name }); i >= 0 {
			return &s.Namespaces[i].ObjectMeta
		}
	}
	return nil
}

// pointer escapes a JSON pointer token (RFC 6901).
func pointer(s string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(s) }

// ErrChanged says an object changed since the fix was computed: a guard
// (a test operation, a delete's preconditions) refused the change.
var ErrChanged = errors.New("the object changed since the audit, so the guarded change was refused")
