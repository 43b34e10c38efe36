package fix

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Azure RBAC's fixes change role assignments, not Kubernetes objects: an
// operation on a RoleAssignment (apiVersion Microsoft.Authorization), its
// name the assignment's resource id. They are checked by the engine like
// every fix (applied to a copy of the snapshot's Azure data: the finding
// must go and nobody may gain access) and printed as az commands.

// AzureAPIVersion is the apiVersion of an Azure role assignment target.
const AzureAPIVersion = "Microsoft.Authorization"

// AzureKind is the kind of an Azure role assignment target.
const AzureKind = "RoleAssignment"

func init() {
	for _, r := range []string{"azure-cluster-admin", "azure-secrets-read", "azure-orphaned-assignment", "azure-escalation-path"} {
		generators[r] = []generator{removeAssignment}
	}
	// Assigned above the cluster: the same role at this cluster only is
	// the smaller change for this cluster's users; removing it is next.
	generators["azure-inherited-assignment"] = []generator{assignAtCluster, removeAssignment}
}

// IsAzure says whether the operation changes an Azure role assignment.
func (op Operation) IsAzure() bool {
	return op.Target.Kind == AzureKind && op.Target.APIVersion == AzureAPIVersion
}

// findingAssignment is the role assignment a finding is about.
func findingAssignment(c *fixContext) (*azurerbac.Assignment, error) {
	d := c.snap.Azure
	if d == nil {
		return nil, errors.New("the view holds no Azure RBAC data")
	}
	for _, o := range c.f.Objects {
		if o.Kind != "RoleAssignment" {
			continue
		}
		for i := range d.Assignments {
			if strings.EqualFold(d.Assignments[i].ID, o.Name) {
				return &d.Assignments[i], nil
			}
		}
		return nil, fmt.Errorf("role assignment %s is not in the view", o.Name)
	}
	return nil, errors.New("the finding names no role assignment")
}

func assignmentRef(id string) rbac.ObjectRef {
	return rbac.ObjectRef{APIVersion: AzureAPIVersion, Kind: AzureKind, Name: id}
}

func removeAssignment(c *fixContext) (*Fix, error) {
	a, err := findingAssignment(c)
	if err != nil {
		return nil, err
	}
	desc := fmt.Sprintf("Deletes Azure role assignment %s (role %s to %s %s at %s)", a.ID, roleLabel(c.snap.Azure, a.RoleDefinitionID), strings.ToLower(a.PrincipalType), principalLabel(a), rbac.AzureScopeName(a.Scope))
	if !azurerbac.InScope(c.snap.Azure.ClusterID, a.Scope) && !strings.Contains(strings.ToLower(a.Scope), "/namespaces/") {
		desc += "; it is assigned above the cluster, so every resource below " + rbac.AzureScopeName(a.Scope) + " loses it too, which this check of one cluster cannot see"
	}
	return &Fix{Description: desc, Operations: []Operation{{Action: Delete, Target: assignmentRef(a.ID), Guard: assignmentGuard(a)}}}, nil
}

// assignmentGuard are test operations on what the assignment must still
// be (ARM's REST shape): its scope, role and principal. An assignment is
// never changed in place, but its id may be reused after a delete.
func assignmentGuard(a *azurerbac.Assignment) []PatchOp {
	return []PatchOp{
		{Op: "test", Path: "/properties/scope", Value: a.Scope},
		{Op: "test", Path: "/properties/roleDefinitionId", Value: a.RoleDefinitionID},
		{Op: "test", Path: "/properties/principalId", Value: a.PrincipalID},
	}
}

// assignAtCluster replaces an assignment above the cluster with the same
// role at the cluster's scope (for this cluster's users nothing changes;
// the clusters and resources below the old scope lose it).
func assignAtCluster(c *fixContext) (*Fix, error) {
	a, err := findingAssignment(c)
	if err != nil {
		return nil, err
	}
	d := c.snap.Azure
	if azurerbac.InScope(d.ClusterID, a.Scope) {
		return nil, errors.New("the assignment is at the cluster or below already")
	}
	if a.Condition != "" {
		return nil, errors.New("the assignment carries a condition, which a new assignment would have to repeat")
	}
	n := *a
	n.Scope = d.ClusterID
	n.ID = d.ClusterID + "/providers/Microsoft.Authorization/roleAssignments/" + assignmentGUID(a.PrincipalID, a.RoleDefinitionID, d.ClusterID)
	obj, err := json.Marshal(armAssignment(&n))
	if err != nil {
		return nil, err
	}
	return &Fix{
		Description: fmt.Sprintf("Assigns role %s to %s %s at cluster %s, then deletes assignment %s at %s: this cluster's access is unchanged, every other resource below %s loses it",
			roleLabel(d, a.RoleDefinitionID), strings.ToLower(a.PrincipalType), principalLabel(a), rbac.AzureScopeName(d.ClusterID), a.ID, rbac.AzureScopeName(a.Scope), rbac.AzureScopeName(a.Scope)),
		Operations: []Operation{
			{Action: Create, Target: assignmentRef(n.ID), Object: obj},
			{Action: Delete, Target: assignmentRef(a.ID), Guard: assignmentGuard(a)},
		},
	}, nil
}

// narrowAssignment (with Options.Narrow) replaces an assignment at the
// cluster or above with assignments of the same role at the scopes of the
// namespaces where its principal works: those where RoleBindings name it
// or other Azure assignments to it are made. They are created first, then
// the wide one deleted, so the principal never lacks what it keeps.
func narrowAssignment(c *fixContext) (*Fix, error) {
	a, err := findingAssignment(c)
	if err != nil {
		return nil, err
	}
	d := c.snap.Azure
	if (&rbac.AzurePath{Scope: a.Scope}).AzureNamespace() != "" {
		return nil, errors.New("the assignment is in a namespace already")
	}
	if a.Condition != "" {
		return nil, errors.New("the assignment carries a condition, which new assignments would have to repeat")
	}
	var namespaces []string
	add := func(ns string) {
		if ns != "" && !slices.ContainsFunc(namespaces, func(n string) bool { return strings.EqualFold(n, ns) }) {
			namespaces = append(namespaces, ns)
		}
	}
	if len(c.f.Subjects) == 1 {
		s := c.f.Subjects[0]
		for _, rb := range c.snap.RoleBindings {
			if slices.ContainsFunc(rb.Subjects, func(w rbacv1.Subject) bool { return matches(w, rb.Namespace, s) }) {
				add(rb.Namespace)
			}
		}
	}
	for _, o := range d.Assignments {
		if strings.EqualFold(o.PrincipalID, a.PrincipalID) && azurerbac.InScope(d.ClusterID, o.Scope) {
			add((&rbac.AzurePath{Scope: o.Scope}).AzureNamespace())
		}
	}
	if len(namespaces) == 0 {
		return nil, fmt.Errorf("%s %s works in no namespace (no RoleBinding or namespace assignment names it) to keep the role in", strings.ToLower(a.PrincipalType), principalLabel(a))
	}
	slices.Sort(namespaces)
	fx := &Fix{}
	for _, ns := range namespaces {
		n := *a
		n.Scope = azurerbac.Scope(d.ClusterID, ns)
		n.ID = n.Scope + "/providers/Microsoft.Authorization/roleAssignments/" + assignmentGUID(a.PrincipalID, a.RoleDefinitionID, n.Scope)
		if slices.ContainsFunc(d.Assignments, func(o azurerbac.Assignment) bool { return strings.EqualFold(o.ID, n.ID) }) {
			return nil, fmt.Errorf("role assignment %s exists", n.ID)
		}
		obj, err := json.Marshal(armAssignment(&n))
		if err != nil {
			return nil, err
		}
		fx.Operations = append(fx.Operations, Operation{Action: Create, Target: assignmentRef(n.ID), Object: obj})
	}
	fx.Operations = append(fx.Operations, Operation{Action: Delete, Target: assignmentRef(a.ID), Guard: assignmentGuard(a)})
	fx.Description = fmt.Sprintf("Assigns role %s to %s %s in namespace(s) %s of %s, then deletes assignment %s at %s",
		roleLabel(d, a.RoleDefinitionID), strings.ToLower(a.PrincipalType), principalLabel(a), strings.Join(namespaces, ", "), rbac.AzureScopeName(d.ClusterID), a.ID, rbac.AzureScopeName(a.Scope))
	if !azurerbac.InScope(d.ClusterID, a.Scope) {
		fx.Description += "; it is assigned above the cluster, so every resource below " + rbac.AzureScopeName(a.Scope) + " loses it too, which this check of one cluster cannot see"
	}
	return fx, nil
}

// assignmentGUID is a stable name for a new assignment (ARM names them
// by GUID): the same fix gives the same name, so applying it twice fails
// as "already exists" instead of assigning twice.
func assignmentGUID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.ToLower(strings.Join(parts, "\x00"))))
	h[6] = h[6]&0x0f | 0x40 // version 4 layout
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// armAssignment is the assignment as ARM's REST API writes it (the body
// of PUT .../roleAssignments/NAME, with its id).
func armAssignment(a *azurerbac.Assignment) map[string]any {
	return map[string]any{"id": a.ID, "name": a.ID[strings.LastIndexByte(a.ID, '/')+1:], "type": "Microsoft.Authorization/roleAssignments",
		"properties": map[string]any{"scope": a.Scope, "roleDefinitionId": a.RoleDefinitionID, "principalId": a.PrincipalID, "principalType": a.PrincipalType}}
}

func roleLabel(d *azurerbac.Data, id string) string {
	if r, ok := d.Role(id); ok {
		return fmt.Sprintf("%q", r.Name)
	}
	return id
}

func principalLabel(a *azurerbac.Assignment) string {
	if a.PrincipalName != "" {
		return a.PrincipalName + " (" + a.PrincipalID + ")"
	}
	return a.PrincipalID
}

// applyAzure applies an operation to a copy of the snapshot's Azure data
// (a new Data: its look-ups are built once).
func applyAzure(s *rbac.Snapshot, op Operation) error {
	d := s.Azure
	if d == nil {
		return errors.New("the view holds no Azure RBAC data")
	}
	n := d.Copy()
	i := slices.IndexFunc(n.Assignments, func(a azurerbac.Assignment) bool { return strings.EqualFold(a.ID, op.Target.Name) })
	switch op.Action {
	case Delete:
		if i < 0 {
			return errors.New("not found")
		}
		if err := checkGuard(&n.Assignments[i], op.Guard); err != nil {
			return err
		}
		n.Assignments = slices.Delete(n.Assignments, i, i+1)
	case Create:
		if i >= 0 {
			return errors.New("already exists")
		}
		scope, role, principal, typ, err := AssignmentOf(op)
		if err != nil {
			return err
		}
		n.Assignments = append(n.Assignments, azurerbac.Assignment{ID: op.Target.Name, Scope: scope, RoleDefinitionID: role, PrincipalID: principal, PrincipalType: typ})
	default:
		return fmt.Errorf("an Azure role assignment is created or deleted, not %s", op.Action)
	}
	s.Azure = n
	return nil
}

// checkGuard applies a delete's guard to the assignment as ARM writes it.
func checkGuard(a *azurerbac.Assignment, guard []PatchOp) error {
	return CheckAssignment(armAssignment(a), guard)
}

// CheckAssignment applies a delete's guard (test operations) to a role
// assignment as ARM gives it: ErrChanged when it is no longer what the
// fix was computed for.
func CheckAssignment(assignment map[string]any, guard []PatchOp) error {
	if _, err := patched(assignment, guard); err != nil {
		return fmt.Errorf("%w: %v", ErrChanged, err)
	}
	return nil
}

// AssignmentOf reads a create operation's assignment (ARM's REST shape).
func AssignmentOf(op Operation) (scope, roleDefinitionID, principalID, principalType string, err error) {
	var body struct {
		Properties struct {
			Scope, RoleDefinitionID, PrincipalID, PrincipalType string
		} `json:"properties"`
	}
	err = json.Unmarshal(op.Object, &body)
	p := body.Properties
	return p.Scope, p.RoleDefinitionID, p.PrincipalID, p.PrincipalType, err
}

// azureAffected are the principals of the assignments the fix touches,
// as subjects the engine decides for.
func azureAffected(s *rbac.Snapshot, fx *Fix) []rbac.Subject {
	if s.Azure == nil {
		return nil
	}
	var out []rbac.Subject
	for _, op := range fx.Operations {
		if !op.IsAzure() {
			continue
		}
		var a *azurerbac.Assignment
		for i := range s.Azure.Assignments {
			if strings.EqualFold(s.Azure.Assignments[i].ID, op.Target.Name) {
				a = &s.Azure.Assignments[i]
			}
		}
		if a == nil {
			continue
		}
		switch {
		case strings.EqualFold(a.PrincipalType, rbac.AzureGroup):
			out = append(out, rbac.Subject{Kind: rbac.GroupKind, Name: a.PrincipalID})
		default:
			out = append(out, rbac.Subject{Kind: rbac.UserKind, Name: cmpOr(a.PrincipalName, a.PrincipalID), ObjectID: a.PrincipalID})
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// azureUncovered says whether an Azure grant r is not covered by the
// grants by (in its namespace or cluster-wide): covered by the same
// dataAction with no more carve-outs, or by the cluster's every action.
// A grant this cannot prove covered counts as changed, so a fix it
// cannot check is refused rather than passed.
func azureUncovered(r rbac.GrantedRule, by []rbac.GrantedRule, prefix string) bool {
	for _, x := range by {
		if len(x.DataActions) == 0 || x.Namespace != "" && x.Namespace != r.Namespace {
			continue
		}
		all := len(x.NotDataActions) == 0 && strings.EqualFold(x.DataActions[0], prefix+"/*")
		same := strings.EqualFold(x.DataActions[0], r.DataActions[0]) && !slices.ContainsFunc(x.NotDataActions, func(n string) bool {
			return !slices.ContainsFunc(r.NotDataActions, func(m string) bool { return strings.EqualFold(m, n) })
		})
		if all || same {
			return false
		}
	}
	return true
}

// azureRule names an Azure grant in a Change.
func azureRule(r rbac.GrantedRule) string {
	s := "Azure dataAction " + r.DataActions[0]
	if len(r.NotDataActions) > 0 {
		s += " except " + strings.Join(r.NotDataActions, ",")
	}
	return s
}

// azCommand renders an Azure operation as an az command, every word
// quoted for the shell.
func azCommand(op Operation) string {
	if op.Action == Delete {
		return "az role assignment delete --ids " + safe.Shell(op.Target.Name)
	}
	scope, role, principal, typ, _ := AssignmentOf(op)
	return fmt.Sprintf("az role assignment create --assignee-object-id %s --assignee-principal-type %s --role %s --scope %s --name %s",
		safe.Shell(principal), safe.Shell(typ), safe.Shell(role), safe.Shell(scope), safe.Shell(op.Target.Name[strings.LastIndexByte(op.Target.Name, '/')+1:]))
}

var _ = audit.CategoryAzure
