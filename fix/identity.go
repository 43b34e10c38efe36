package fix

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// The azure-identity family's fixes. The risk of each finding is an Azure
// identity's rights reached from a pod; the fix takes the rights away at
// their source, in Azure, where one change ends every path to them (all
// pod creators, token minters and controllers of the namespace at once)
// and takes no Kubernetes right from the people who work there:
//
//   - workload-identity-reach: delete the identity's role assignments that
//     write at a resource group or wider (what makes the finding high or
//     critical; a medium finding's every assignment). What the identity
//     keeps (a data role on one resource) is said: that is what its app
//     needs, reached by the namespace's pod creators by design. Second,
//     when that cannot be offered: take the subject out of the bindings
//     that let it run a pod as the account or mint its tokens.
//   - kubelet-identity-reach: delete the kubelet identity's assignments
//     other than AcrPull (all AKS gives it).
//   - federated-credential-unclaimed: delete the federated credential: no
//     service account uses it, so nothing running loses anything.
//
// Role assignment deletes are the Azure RBAC fixes' operations (fix/azure.go),
// applied with --apply through ARM. A federated credential delete is an
// operation of its own (FederatedIdentityCredential), printed as an az
// command and refused by --apply, which writes only role assignments.

// CredentialAPIVersion and CredentialKind name a federated identity
// credential target: its name is the credential's resource id (an app
// registration's: /applications/OBJECT-ID/federatedIdentityCredentials/ID).
const (
	CredentialAPIVersion = "Microsoft.ManagedIdentity"
	CredentialKind       = "FederatedIdentityCredential"
)

func init() {
	generators["workload-identity-reach"] = []generator{removeIdentityWrites, removeStepper}
	generators["kubelet-identity-reach"] = []generator{removeKubeletBeyondAcrPull}
	generators["addon-identity-secrets"] = []generator{removeAddonSecretReads}
	generators["federated-credential-unclaimed"] = []generator{deleteCredential}
}

// IsCredential says whether the operation deletes a federated identity
// credential.
func (op Operation) IsCredential() bool {
	return op.Target.Kind == CredentialKind && op.Target.APIVersion == CredentialAPIVersion
}

// removeIdentityWrites deletes the role assignments of the finding's
// identities that make it what it is: those rated high or above
// (audit.AssignmentSeverity: a writing role at a resource group or wider)
// when the finding is high or critical, every one when it is medium.
func removeIdentityWrites(c *fixContext) (*Fix, error) {
	d := c.snap.Azure
	if d == nil {
		return nil, errors.New("the view holds no Azure data")
	}
	threshold := min(c.f.Severity, audit.High)
	fx := &Fix{}
	var deleted, kept []string
	for _, o := range c.f.Objects {
		if o.Kind != "UserAssignedIdentity" {
			continue
		}
		i := slices.IndexFunc(d.Identities, func(m azurerbac.ManagedIdentity) bool { return strings.EqualFold(m.ID, o.Name) })
		if i < 0 {
			return nil, fmt.Errorf("identity %s is not in the view", o.Name)
		}
		m := &d.Identities[i]
		for _, a := range d.AssignmentsOfIdentity(m) {
			what := fmt.Sprintf("%s of %s %s on %s", a.RoleName, m.What(), m.Name, rbac.AzureScopeName(a.Scope))
			if audit.AssignmentSeverity(d, a) < threshold {
				kept = append(kept, what)
				continue
			}
			if slices.ContainsFunc(fx.Operations, func(x Operation) bool { return strings.EqualFold(x.Target.Name, a.Assignment) }) {
				continue
			}
			if err := deleteAssignment(fx, d, a.Assignment); err != nil {
				return nil, err
			}
			deleted = append(deleted, what)
		}
	}
	if len(fx.Operations) == 0 {
		return nil, errors.New("the finding's identities hold no role assignment in the view")
	}
	fx.Description = "Deletes Azure role assignment(s) " + strings.Join(deleted, "; ") +
		": every pod creator and token minter of the namespace loses them at once, and nobody loses a Kubernetes right; the application loses them too, so assign what it needs again at the resource that needs it (az role assignment create --assignee-object-id PRINCIPAL --role ROLE --scope RESOURCE)"
	if len(kept) > 0 {
		fx.Description += "; kept: " + strings.Join(kept, "; ") + " (a lower finding of the same reach remains for it)"
	}
	return fx, nil
}

// removeKubeletBeyondAcrPull deletes the kubelet identity's role
// assignments other than AcrPull.
func removeKubeletBeyondAcrPull(c *fixContext) (*Fix, error) {
	d := c.snap.Azure
	beyond := audit.KubeletBeyondAcrPull(d)
	if len(beyond) == 0 {
		return nil, errors.New("the kubelet identity holds nothing beyond AcrPull in the view")
	}
	fx := &Fix{}
	var what []string
	for _, a := range beyond {
		if err := deleteAssignment(fx, d, a.Assignment); err != nil {
			return nil, err
		}
		what = append(what, a.RoleName+" on "+rbac.AzureScopeName(a.Scope))
	}
	fx.Description = "Deletes the kubelet identity's role assignment(s) beyond AcrPull (" + strings.Join(what, "; ") +
		"): AKS gives it AcrPull only, and every pod that reaches the instance metadata service holds what it holds; a node add-on that needs more (AAD pod identity's Virtual Machine Contributor on the node resource group) should have its own identity"
	return fx, nil
}

// removeAddonSecretReads deletes the role assignments by which an
// add-on's identity (the Key Vault secrets provider's) reads Key Vault
// secrets: every namespace's pods share it, so each application should
// read its vault through its own workload identity instead.
func removeAddonSecretReads(c *fixContext) (*Fix, error) {
	d := c.snap.Azure
	if d == nil {
		return nil, errors.New("the view holds no Azure data")
	}
	fx := &Fix{}
	var what []string
	for _, o := range c.f.Objects {
		if o.Kind != "AddonIdentity" {
			continue
		}
		name, oid, ok := strings.Cut(o.Name, "/")
		if !ok {
			return nil, fmt.Errorf("add-on identity %s: not NAME/OBJECT-ID", o.Name)
		}
		for _, a := range audit.AddonSecretReads(d, oid) {
			if err := deleteAssignment(fx, d, a.Assignment); err != nil {
				return nil, err
			}
			what = append(what, a.RoleName+" on "+rbac.AzureScopeName(a.Scope)+" ("+name+")")
		}
	}
	if len(fx.Operations) == 0 {
		return nil, errors.New("the add-on's identity reads no Key Vault secret in the view")
	}
	fx.Description = "Deletes the add-on identity's Key Vault secret-reading role assignment(s) (" + strings.Join(what, "; ") +
		"): every namespace's pods share the add-on's identity; give each application its own identity through workload identity " +
		"(a federated credential for its service account, and the SecretProviderClass's clientID) before applying, or its secrets stop mounting"
	return fx, nil
}

// deleteAssignment adds to fx the guarded delete of an assignment of the
// view, and its principal's loss of it.
func deleteAssignment(fx *Fix, d *azurerbac.Data, id string) error {
	for i := range d.Assignments {
		if a := &d.Assignments[i]; strings.EqualFold(a.ID, id) {
			fx.Operations = append(fx.Operations, Operation{Action: Delete, Target: assignmentRef(a.ID), Guard: assignmentGuard(a)})
			fx.azureLost = append(fx.azureLost, Change{Subject: rbac.AzurePrincipalSubject(a), azureRole: true,
				Rule: fmt.Sprintf("Azure role %s on %s (assignment %s)", d.RoleName(a.RoleDefinitionID), rbac.AzureScopeName(a.Scope), a.ID)})
			return nil
		}
	}
	return fmt.Errorf("role assignment %s is not in the view", id)
}

// findingCredential is the federated credential a finding names, and its
// identity.
func findingCredential(c *fixContext) (*azurerbac.ManagedIdentity, *azurerbac.FederatedCredential, error) {
	d := c.snap.Azure
	if d == nil {
		return nil, nil, errors.New("the view holds no Azure data")
	}
	for _, o := range c.f.Objects {
		if o.Kind != CredentialKind {
			continue
		}
		if m, cr := credentialOf(d, o.Name); cr != nil {
			return m, cr, nil
		}
		return nil, nil, fmt.Errorf("federated credential %s is not in the view", o.Name)
	}
	return nil, nil, errors.New("the finding names no federated credential")
}

func credentialOf(d *azurerbac.Data, id string) (*azurerbac.ManagedIdentity, *azurerbac.FederatedCredential) {
	for i := range d.Identities {
		m := &d.Identities[i]
		for j := range m.FederatedCredentials {
			if strings.EqualFold(m.FederatedCredentials[j].ID, id) {
				return m, &m.FederatedCredentials[j]
			}
		}
	}
	return nil, nil
}

// armCredential is a federated credential as ARM's REST API writes it.
func armCredential(c *azurerbac.FederatedCredential) map[string]any {
	auds := make([]any, len(c.Audiences))
	for i, a := range c.Audiences {
		auds[i] = a
	}
	return map[string]any{"id": c.ID, "name": c.Name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
		"properties": map[string]any{"issuer": c.Issuer, "subject": c.Subject, "audiences": auds}}
}

func deleteCredential(c *fixContext) (*Fix, error) {
	m, cr, err := findingCredential(c)
	if err != nil {
		return nil, err
	}
	how := "fix --apply deletes it through ARM"
	if AppCredential(cr.ID) {
		how = "an app registration's credential lives in Microsoft Graph, which kubectl access does not write: run the az command (fix --apply refuses it)"
	}
	return &Fix{
		Description: fmt.Sprintf("Deletes federated credential %s of %s %s (subject %s): no service account of that name exists, so no running pod uses it; "+
			"if the account is still to be created, create the credential again with it; %s",
			cr.Name, m.What(), m.Name, cr.Subject, how),
		Operations: []Operation{{Action: Delete, Target: rbac.ObjectRef{APIVersion: CredentialAPIVersion, Kind: CredentialKind, Name: cr.ID},
			Guard: []PatchOp{
				{Op: "test", Path: "/properties/issuer", Value: cr.Issuer},
				{Op: "test", Path: "/properties/subject", Value: cr.Subject},
			}}},
	}, nil
}

// applyCredential deletes a federated credential from a copy of the
// snapshot's Azure data.
func applyCredential(s *rbac.Snapshot, op Operation) error {
	d := s.Azure
	if d == nil {
		return errors.New("the view holds no Azure data")
	}
	if op.Action != Delete {
		return fmt.Errorf("a federated credential is deleted here, not %s", op.Action)
	}
	n := d.Copy()
	n.Identities = slices.Clone(d.Identities)
	m, cr := credentialOf(n, op.Target.Name)
	if cr == nil {
		return errors.New("not found")
	}
	if _, err := patched(armCredential(cr), op.Guard); err != nil {
		return fmt.Errorf("%w: %v", ErrChanged, err)
	}
	m.FederatedCredentials = slices.DeleteFunc(slices.Clone(m.FederatedCredentials), func(x azurerbac.FederatedCredential) bool {
		return strings.EqualFold(x.ID, op.Target.Name)
	})
	s.Azure = n
	return nil
}

// credentialObject is a federated credential of the snapshot, as ARM
// writes it, or nil.
func credentialObject(s *rbac.Snapshot, id string) map[string]any {
	if s.Azure == nil {
		return nil
	}
	if _, cr := credentialOf(s.Azure, id); cr != nil {
		return armCredential(cr)
	}
	return nil
}

// AppCredential says whether a federated credential id is an app
// registration's (/applications/OBJECT-ID/federatedIdentityCredentials/ID),
// which lives in Microsoft Graph rather than ARM.
func AppCredential(id string) bool {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	return len(parts) == 4 && strings.EqualFold(parts[0], "applications")
}

// CredentialOf reads a create operation's federated credential (ARM's
// REST shape).
func CredentialOf(op Operation) (issuer, subject string, audiences []string, err error) {
	var body struct {
		Properties struct {
			Issuer    string   `json:"issuer"`
			Subject   string   `json:"subject"`
			Audiences []string `json:"audiences"`
		} `json:"properties"`
	}
	err = json.Unmarshal(op.Object, &body)
	p := body.Properties
	if err == nil && (p.Issuer == "" || p.Subject == "") {
		err = errors.New("the federated credential to create has no issuer or subject")
	}
	return p.Issuer, p.Subject, p.Audiences, err
}

// credentialCommand is the az command that deletes a federated
// credential, every word from the data quoted for the shell: az identity
// federated-credential delete for a managed identity's, az ad app
// federated-credential delete for an app registration's.
func credentialCommand(op Operation) string {
	id := op.Target.Name
	parts := strings.Split(strings.Trim(id, "/"), "/")
	if len(parts) == 4 && strings.EqualFold(parts[0], "applications") {
		return "az ad app federated-credential delete --id " + safe.Shell(parts[1]) + " --federated-credential-id " + safe.Shell(parts[3])
	}
	// /subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID/federatedIdentityCredentials/NAME
	if len(parts) == 10 && strings.EqualFold(parts[0], "subscriptions") && strings.EqualFold(parts[2], "resourceGroups") && op.Action == Create {
		issuer, subject, audiences, _ := CredentialOf(op)
		auds := make([]string, len(audiences))
		for i, a := range audiences {
			auds[i] = safe.Shell(a)
		}
		return fmt.Sprintf("az identity federated-credential create --subscription %s --resource-group %s --identity-name %s --name %s --issuer %s --subject %s --audiences %s",
			safe.Shell(parts[1]), safe.Shell(parts[3]), safe.Shell(parts[7]), safe.Shell(parts[9]), safe.Shell(issuer), safe.Shell(subject), strings.Join(auds, " "))
	}
	if len(parts) == 10 && strings.EqualFold(parts[0], "subscriptions") && strings.EqualFold(parts[2], "resourceGroups") {
		return fmt.Sprintf("az identity federated-credential delete --subscription %s --resource-group %s --identity-name %s --name %s --yes",
			safe.Shell(parts[1]), safe.Shell(parts[3]), safe.Shell(parts[7]), safe.Shell(parts[9]))
	}
	return "az resource delete --ids " + safe.Shell(id)
}
