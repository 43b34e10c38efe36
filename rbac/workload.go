package rbac

import "github.com/kubectl-access/kubectl-access/azurerbac"

// The way out to Azure: the Azure identities a service account's pods act
// as through workload identity (annotation -> federated credential ->
// managed identity -> its role assignments), apart from what the
// authorizer grants the account in the cluster.

// PathWorkloadIdentity is the kind of the path annotation -> federated
// credential -> identity -> role assignment.
const PathWorkloadIdentity = "workload-identity"

// WorkloadIdentity is what one service account's client-id annotation
// leads to. Only Status matched is access; the others say why not, or
// that it is not known.
type WorkloadIdentity struct {
	Kind string `json:"kind"` // workload-identity
	// Status: matched, no-matching-credential, identity-not-read or
	// issuer-unknown (azurerbac.Workload*).
	Status string `json:"status"`
	// ServiceAccount is the account (sa:NS:NAME) and ClientID its
	// annotation's value.
	ServiceAccount string `json:"serviceAccount"`
	Annotation     string `json:"annotation"`
	ClientID       string `json:"clientId"`
	// Issuer is the cluster's OIDC issuer URL ("" when not known).
	Issuer string `json:"issuer,omitempty"`
	// Identity is the managed identity of that client id, when read.
	Identity *IdentityRef `json:"identity,omitempty"`
	// FederatedCredential is the credential that accepts the account's
	// token (matched).
	FederatedCredential *azurerbac.FederatedCredential `json:"federatedCredential,omitempty"`
	// RoleAssignments are the identity's, at every scope read (matched).
	RoleAssignments []azurerbac.IdentityAssignment `json:"roleAssignments,omitempty"`
	// Misses say why each of the identity's credentials does not accept
	// the token (no-matching-credential).
	Misses []azurerbac.CredentialMiss `json:"misses,omitempty"`
	// Why says the outcome in words.
	Why string `json:"why"`
}

// IdentityRef names a managed identity.
type IdentityRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ClientID    string `json:"clientId"`
	PrincipalID string `json:"principalId"`
}

// Acts says whether the account's pods act as the identity.
func (w *WorkloadIdentity) Acts() bool { return w.Status == azurerbac.WorkloadMatched }

// WorkloadIdentityOf is what service account namespace/name's client-id
// annotation leads to; nil when the account is not in the input or has
// no such annotation.
func (ix *Index) WorkloadIdentityOf(namespace, name string) *WorkloadIdentity {
	for i := range ix.snap.ServiceAccounts {
		sa := &ix.snap.ServiceAccounts[i]
		if sa.Namespace != namespace || sa.Name != name {
			continue
		}
		clientID, ok := sa.Annotations[azurerbac.AnnotationClientID]
		if !ok {
			return nil
		}
		return ix.matchWorkload(namespace, name, clientID)
	}
	return nil
}

// WorkloadIdentities are the annotated service accounts of the input,
// each with what its annotation leads to, in the input's order.
func (ix *Index) WorkloadIdentities() []WorkloadIdentity {
	var out []WorkloadIdentity
	for i := range ix.snap.ServiceAccounts {
		sa := &ix.snap.ServiceAccounts[i]
		if clientID, ok := sa.Annotations[azurerbac.AnnotationClientID]; ok {
			out = append(out, *ix.matchWorkload(sa.Namespace, sa.Name, clientID))
		}
	}
	return out
}

func (ix *Index) matchWorkload(namespace, name, clientID string) *WorkloadIdentity {
	w := &WorkloadIdentity{Kind: PathWorkloadIdentity, ServiceAccount: "sa:" + namespace + ":" + name,
		Annotation: azurerbac.AnnotationClientID, ClientID: clientID}
	d := ix.snap.Azure
	if d == nil {
		d = &azurerbac.Data{}
	}
	if d.Cluster != nil {
		w.Issuer = d.Cluster.OIDCIssuerURL
	}
	m := d.MatchWorkload(w.Issuer, namespace, name, clientID)
	w.Status = m.Status
	if m.Identity != nil {
		w.Identity = &IdentityRef{ID: m.Identity.ID, Name: m.Identity.Name, ClientID: m.Identity.ClientID, PrincipalID: m.Identity.PrincipalID}
	}
	subject := azurerbac.ServiceAccountSubject(namespace, name)
	switch m.Status {
	case azurerbac.WorkloadMatched:
		c := *m.Credential
		w.FederatedCredential = &c
		w.RoleAssignments = d.AssignmentsOfIdentity(m.Identity)
		w.Why = "federated credential " + c.Name + " of managed identity " + m.Identity.Name + " accepts " + subject + "'s tokens from the cluster's issuer"
		if len(w.RoleAssignments) == 0 {
			w.Why += "; no role assignment of the identity was read"
		}
	case azurerbac.WorkloadNoCredential:
		w.Misses = m.Misses
		w.Why = "no federated credential of managed identity " + m.Identity.Name + " accepts " + subject + "'s tokens from the cluster's issuer: the annotation grants nothing"
	case azurerbac.WorkloadIssuerUnknown:
		w.Why = "the cluster's OIDC issuer is not known (give the managed cluster: az aks show): whether a federated credential of " +
			m.Identity.Name + " accepts the account's tokens is unknown"
	default:
		what := "no managed identity read has client id " + clientID
		if len(d.Identities) == 0 {
			what = "no managed identities were read (az identity list, az identity federated-credential list)"
		}
		w.Why = what + ": whom the annotation names (another identity, or an app registration, not read) and whether it accepts the account's tokens is unknown"
	}
	return w
}
