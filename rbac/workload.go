package rbac

import (
	"strings"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// The way out to Azure: the Azure identities a service account's pods act
// as through workload identity (annotation -> federated credential ->
// managed identity -> its role assignments), apart from what the
// authorizer grants the account in the cluster.

// PathWorkloadIdentity is the kind of the path annotation -> federated
// credential -> identity -> role assignment.
const PathWorkloadIdentity = "workload-identity"

// WorkloadIdentity is what one service account's client-id annotation
// leads to, or an identity whose federated credential accepts the
// account's tokens without it. Only Status matched is access; the others
// say why not, or that it is not known.
type WorkloadIdentity struct {
	Kind string `json:"kind"` // workload-identity
	// Status: matched, no-matching-credential, credentials-not-read,
	// identity-not-read or issuer-unknown (azurerbac.Workload*).
	Status string `json:"status"`
	// ServiceAccount is the account (sa:NS:NAME); Annotation the
	// annotation's key and ClientID its value, or, for an account a
	// federated credential names without the annotation, "" and the
	// identity's client id.
	ServiceAccount string `json:"serviceAccount"`
	Annotation     string `json:"annotation,omitempty"`
	ClientID       string `json:"clientId"`
	// ServiceAccountMissing: a federated credential names the account,
	// which the input's service accounts do not hold: whoever creates it
	// acts as the identity.
	ServiceAccountMissing bool `json:"serviceAccountMissing,omitempty"`
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

// IdentityRef names a managed identity (or an app registration: Kind
// application).
type IdentityRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ClientID    string `json:"clientId"`
	PrincipalID string `json:"principalId"`
	Kind        string `json:"kind,omitempty"`
}

// What is "managed identity" or "app registration".
func (r *IdentityRef) What() string { return azurerbac.IdentityWhat(r.Kind) }

func identityRef(m *azurerbac.ManagedIdentity) *IdentityRef {
	return &IdentityRef{ID: m.ID, Name: m.Name, ClientID: m.ClientID, PrincipalID: m.PrincipalID, Kind: m.Kind}
}

// Acts says whether the account's pods act as the identity.
func (w *WorkloadIdentity) Acts() bool { return w.Status == azurerbac.WorkloadMatched }

// WorkloadIdentitiesOf are the Azure identities service account
// namespace/name acts as or names: what its client-id annotation leads to
// (matched or not), then every other identity whose federated credential
// accepts its tokens from the cluster's issuer (the annotation is not
// needed for the exchange), also when the account is not in the input.
func (ix *Index) WorkloadIdentitiesOf(namespace, name string) []WorkloadIdentity {
	d := ix.snap.Azure
	if d == nil {
		d = &azurerbac.Data{}
	}
	var out []WorkloadIdentity
	var found bool
	var annotated *WorkloadIdentity
	for i := range ix.snap.ServiceAccounts {
		sa := &ix.snap.ServiceAccounts[i]
		if sa.Namespace != namespace || sa.Name != name {
			continue
		}
		found = true
		if clientID, ok := sa.Annotations[azurerbac.AnnotationClientID]; ok {
			annotated = ix.matchWorkload(namespace, name, clientID)
			out = append(out, *annotated)
		}
		break
	}
	issuer := ""
	if d.Cluster != nil {
		issuer = d.Cluster.OIDCIssuerURL
	}
	seen := map[string]bool{}
	if annotated != nil && annotated.Acts() {
		seen[strings.ToLower(annotated.Identity.ID)] = true
	}
	for _, m := range d.CredentialsAccepting(issuer, namespace, name) {
		if seen[strings.ToLower(m.Identity.ID)] {
			continue
		}
		seen[strings.ToLower(m.Identity.ID)] = true
		out = append(out, federatedOnly(d, issuer, namespace, name, m, !found && len(ix.snap.ServiceAccounts) > 0))
	}
	return out
}

// WorkloadIdentities are WorkloadIdentitiesOf every annotated service
// account of the input and every account a federated credential on the
// cluster's issuer names, in that order.
func (ix *Index) WorkloadIdentities() []WorkloadIdentity {
	var out []WorkloadIdentity
	seen := map[[2]string]bool{}
	add := func(ns, name string) {
		if k := [2]string{ns, name}; !seen[k] {
			seen[k] = true
			out = append(out, ix.WorkloadIdentitiesOf(ns, name)...)
		}
	}
	for i := range ix.snap.ServiceAccounts {
		sa := &ix.snap.ServiceAccounts[i]
		if _, ok := sa.Annotations[azurerbac.AnnotationClientID]; ok {
			add(sa.Namespace, sa.Name)
		}
	}
	if d := ix.snap.Azure; d != nil && d.Cluster != nil {
		for _, k := range d.FederatedAccounts(d.Cluster.OIDCIssuerURL) {
			add(k[0], k[1])
		}
	}
	return out
}

// federatedOnly is an identity whose federated credential accepts the
// account's tokens, the account not annotated with it.
func federatedOnly(d *azurerbac.Data, issuer, namespace, name string, m azurerbac.CredentialMatch, missing bool) WorkloadIdentity {
	c := *m.Credential
	subject := azurerbac.ServiceAccountSubject(namespace, name)
	w := WorkloadIdentity{Kind: PathWorkloadIdentity, Status: azurerbac.WorkloadMatched, ServiceAccount: "sa:" + namespace + ":" + name,
		ClientID: m.Identity.ClientID, Issuer: issuer, ServiceAccountMissing: missing,
		Identity:            identityRef(m.Identity),
		FederatedCredential: &c, RoleAssignments: d.AssignmentsOfIdentity(m.Identity)}
	w.Why = "federated credential " + c.Name + " of " + m.Identity.What() + " " + m.Identity.Name + " accepts " + subject + "'s tokens from the cluster's issuer"
	if missing {
		w.Why += ", and the service account does not exist: whoever creates it, and a pod that runs as it, acts as the identity"
	} else {
		w.Why += "; the account is not annotated with its client id, but any of its pods can mount a token for " + azurerbac.TokenExchangeAudience +
			" and exchange it (the annotation only tells the webhook what to inject)"
	}
	if len(w.RoleAssignments) == 0 {
		w.Why += "; no role assignment of the identity was read"
	}
	return w
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
		w.Identity = identityRef(m.Identity)
	}
	subject := azurerbac.ServiceAccountSubject(namespace, name)
	switch m.Status {
	case azurerbac.WorkloadMatched:
		c := *m.Credential
		w.FederatedCredential = &c
		w.RoleAssignments = d.AssignmentsOfIdentity(m.Identity)
		w.Why = "federated credential " + c.Name + " of " + m.Identity.What() + " " + m.Identity.Name + " accepts " + subject + "'s tokens from the cluster's issuer"
		if len(w.RoleAssignments) == 0 {
			w.Why += "; no role assignment of the identity was read"
		}
	case azurerbac.WorkloadNoCredential:
		w.Misses = m.Misses
		w.Why = "no federated credential of " + m.Identity.What() + " " + m.Identity.Name + " accepts " + subject + "'s tokens from the cluster's issuer: the annotation grants nothing"
	case azurerbac.WorkloadCredentialsUnknown:
		w.Misses = m.Misses
		w.Why = "the federated credentials of " + m.Identity.What() + " " + m.Identity.Name + " could not be read (" + m.Identity.CredentialsUnread +
			"): whether one accepts " + subject + "'s tokens is unknown"
	case azurerbac.WorkloadIssuerUnknown:
		w.Why = "the cluster's OIDC issuer is not known (give the managed cluster: az aks show): whether a federated credential of " +
			m.Identity.Name + " accepts the account's tokens is unknown"
	default:
		what := "no managed identity read has client id " + clientID
		switch {
		case len(d.IdentityGaps) > 0:
			what += ", and not all were read (" + d.IdentityGaps[0] + ")"
		case len(d.Identities) == 0:
			what = "no managed identities were read (az identity list, az identity federated-credential list)"
		}
		w.Why = what + ": whom the annotation names (another identity, or an app registration, not read) and whether it accepts the account's tokens is unknown"
	}
	return w
}
