package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// The add-on identities (addonProfiles.NAME.identity): AKS creates them in
// the node resource group and assigns them to the nodes' scale sets, so
// they serve every node. The Key Vault secrets provider's is what the
// Secrets Store CSI driver exchanges for Key Vault tokens when a
// SecretProviderClass says useVMManagedIdentity with its client id: a pod
// in any namespace that mounts such a class gets what the identity reads.

// SecretsStoreGroup is the Secrets Store CSI driver's API group.
const SecretsStoreGroup = "secrets-store.csi.x-k8s.io"

// StepSecretProviderClass: the subject creates a pod and a
// SecretProviderClass naming an add-on identity in a namespace.
const StepSecretProviderClass = "secretproviderclass-create"

func init() {
	register(Rule{Name: "addon-identity-secrets", Category: CategoryAzureIdentity, Severity: High,
		Title: "An add-on identity shared by every namespace reads Key Vault secrets",
		Why: "An add-on identity (addonProfiles.NAME.identity: the Key Vault secrets provider's, the Application Gateway ingress controller's) is assigned to the nodes, not to a namespace: " +
			"a SecretProviderClass with useVMManagedIdentity and its client id, in any namespace, makes the Secrets Store CSI driver fetch secrets with it, and a pod that reaches the instance metadata service gets its tokens too. " +
			"Whatever Key Vault secrets it reads (Microsoft.KeyVault/vaults/secrets/getSecret/action: Key Vault Secrets User, Officer, Administrator), whoever can create a pod and a SecretProviderClass in any namespace reads. " +
			"Not read: Key Vault access policies (vaults in the legacy permission model grant outside role assignments) and the SecretProviderClasses already in the cluster (where one names the identity, creating a pod is enough).",
		Fix:   "Deletes the add-on identity's Key Vault secret-reading role assignments (az role assignment delete --ids ID, applied by fix --apply through ARM, with a restore script); first give each application its own identity through workload identity (a federated credential per service account), or its secrets stop mounting.",
		check: checkAddonSecrets})
}

// AddonSecretReads are an add-on identity's role assignments, among those
// read, that read Key Vault secrets.
func AddonSecretReads(d *azurerbac.Data, principalID string) []azurerbac.IdentityAssignment {
	var out []azurerbac.IdentityAssignment
	for _, a := range d.AssignmentsOfIdentity(&azurerbac.ManagedIdentity{PrincipalID: principalID}) {
		if reads, _ := d.ReadsSecrets(a.RoleDefinitionID); reads {
			out = append(out, a)
		}
	}
	return out
}

// AddonReach is one subject that can create a pod and a
// SecretProviderClass in a namespace: it acts as every add-on identity
// the CSI driver uses.
type AddonReach struct {
	Subject   rbac.Subject `json:"subject"`
	Namespace string       `json:"namespace,omitempty"` // "" cluster-wide
	Evidence  []rbac.Path  `json:"via"`
}

// AddonReaches are the subjects of the view that can create pods (or
// workloads) and SecretProviderClasses in a namespace, with the paths of
// both (system:masters and the nodes left out).
func AddonReaches(ix *rbac.Index) []AddonReach { return newChecker(ix).addonReaches() }

func (c *checker) addonReaches() []AddonReach {
	var out []AddonReach
	for _, h := range c.hits(probeRuleNamed("workload-create")) {
		spc := c.ix.Can(h.subject.Identity(), rbac.Attributes{Verb: "create", APIGroup: SecretsStoreGroup, Resource: "secretproviderclasses", Namespace: h.scope})
		if !spc.Allowed {
			continue
		}
		out = append(out, AddonReach{Subject: h.subject, Namespace: h.scope, Evidence: append(slices.Clone(h.evidence), spc.Via...)})
	}
	return out
}

func checkAddonSecrets(c *checker) {
	d := c.snap.Azure
	if d == nil || d.Cluster == nil || len(d.Cluster.AddonIdentities) == 0 {
		return
	}
	var addons []string
	for name := range d.Cluster.AddonIdentities {
		addons = append(addons, name)
	}
	slices.Sort(addons)
	var reaches []AddonReach
	for _, name := range addons {
		oid := d.Cluster.AddonIdentities[name]
		reads := AddonSecretReads(d, oid)
		if len(reads) == 0 {
			continue
		}
		if reaches == nil {
			reaches = c.addonReaches()
		}
		var roles []string
		for _, a := range reads {
			roles = append(roles, a.RoleName+" on "+rbac.AzureScopeName(a.Scope))
		}
		subjects := []rbac.Subject{}
		var evidence []rbac.Path
		var who []string
		for _, r := range reaches {
			if !slices.ContainsFunc(subjects, func(s rbac.Subject) bool { return s.Key() == r.Subject.Key() }) {
				subjects = append(subjects, r.Subject)
				who = append(who, r.Subject.String()+" "+where(r.Namespace))
			}
			evidence = append(evidence, r.Evidence...)
		}
		sev := High
		if s, _ := identitySeverity(d, d.AssignmentsOfIdentity(&azurerbac.ManagedIdentity{PrincipalID: oid})); s > sev {
			sev = s
		}
		whoText := "nobody in the view can create a pod and a SecretProviderClass in a namespace"
		if len(who) == 0 {
			sev = Medium // the instance metadata service's way stays
		} else {
			more := ""
			if len(who) > maxChains {
				more = fmt.Sprintf(" and %d more", len(who)-maxChains)
			}
			whoText = strings.Join(firstN(who, maxChains), ", ") + more + " can create a pod and a SecretProviderClass naming it, and so read them"
		}
		c.add(Finding{Severity: sev, Subjects: subjects, Evidence: evidence,
			Objects:  []rbac.ObjectRef{{APIVersion: "Microsoft.ContainerService", Kind: "AddonIdentity", Name: name + "/" + oid}},
			identity: name + "\n" + oid,
			Message: fmt.Sprintf("the %s add-on's identity (object id %s), shared by every namespace, reads Key Vault secrets (%s): %s; "+
				"a pod that reaches the instance metadata service gets its tokens too; Key Vault access policies and existing SecretProviderClasses were not read",
				name, oid, strings.Join(firstN(roles, 3), ", "), whoText)})
	}
}
