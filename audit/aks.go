package audit

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// The aks family: the managed cluster's own settings (az aks show, ARM's
// GET) that open it through Azure, each joined to who holds the Azure
// action that uses it. Each rule records a check, passed or failed, so "is
// it in force?" gets a yes as well as a no; unknown when the view holds
// an AKS cluster's Azure data but not its settings.

// CategoryAKS groups the managed cluster's settings.
const CategoryAKS Category = "aks"

func init() {
	register(
		Rule{Name: "aks-local-accounts", Category: CategoryAKS, Severity: Critical,
			Title: "Local accounts are on: whoever may list the admin credential is cluster-admin",
			Why: "With local accounts on (AKS's default) listClusterAdminCredential returns a client certificate of user clusterAdmin in group system:masters, " +
				"which no RBAC binding, Entra sign-in or Conditional Access governs: every Azure principal holding the action (Owner, Contributor, the AKS Cluster Admin Role) is cluster-admin.",
			Fix:   "az aks update --ids CLUSTER --disable-local-accounts (with Entra integration; refused without it), then rotate the certificates (az aks rotate-certs): printed and checked; fix --apply makes it through ARM after confirmation.",
			check: checkAKSLocalAccounts},
		Rule{Name: "aks-rbac-disabled", Category: CategoryAKS, Severity: Critical,
			Title: "Kubernetes RBAC is off",
			Why:   "Without RBAC (enableRbac: false) every authenticated identity is allowed everything; nothing this tool reads of bindings applies.",
			Fix:   "None in place: RBAC can only be chosen when the cluster is created; recreate it with RBAC on.",
			check: checkAKSRBAC},
		Rule{Name: "aks-api-public", Category: CategoryAKS, Severity: Medium,
			Title: "The API server is reachable from anywhere",
			Why:   "A public API server without authorized IP ranges takes sign-in attempts and stolen credentials from the whole internet.",
			Fix:   "None as a manifest: az aks update -g RG -n NAME --api-server-authorized-ip-ranges CIDR,... (or a private cluster).",
			check: checkAKSAPIServer},
		Rule{Name: "aks-command-invoke", Category: CategoryAKS, Severity: Medium,
			Title: "Command invoke is on: Azure principals run commands in the cluster",
			Why:   "az aks command invoke (runCommand) runs a pod in namespace aks-command for whoever holds the action, from anywhere Azure Resource Manager is reachable, a private cluster's API server included.",
			Fix:   "az aks update --ids CLUSTER --disable-run-command: printed and checked; fix --apply makes it through ARM after confirmation.",
			check: checkAKSRunCommand},
		Rule{Name: "aks-node-resource-group", Category: CategoryAKS, Severity: Medium,
			Title: "The node resource group is not locked: whoever writes its VMs is root on the nodes",
			Why:   "The nodes' scale sets live in the node resource group; run-command or an extension on them is root on a node and so its kubelet's rights. nodeResourceGroupProfile.restrictionLevel ReadOnly denies writes to everyone but AKS.",
			Fix:   "az aks update --ids CLUSTER --nrg-lockdown-restriction-level ReadOnly: printed and checked; fix --apply makes it through ARM after confirmation.",
			check: checkAKSNodeResourceGroup},
		Rule{Name: "aks-service-principal", Category: CategoryAKS, Severity: Low,
			Title: "The cluster identity is a service principal with a secret",
			Why: "A service principal's secret expires and can leak; a managed identity has no secret to steal. The finding says when each secret expires (Microsoft Graph with Application.Read.All, or az ad app credential list offline): " +
				"high when every secret has expired (the cluster can no longer reach Azure), medium when the newest expires within 30 days.",
			Fix:   "None as a manifest: az aks update -g RG -n NAME --enable-managed-identity.",
			check: checkAKSIdentity},
		Rule{Name: "aks-ssh", Category: CategoryAKS, Severity: Low,
			Title: "The Linux nodes accept SSH keys",
			Why:   "An SSH key on the nodes is a way onto every node (and its kubelet's credential) that no Kubernetes or Azure RBAC decision governs.",
			Fix:   "None as a manifest: az aks update -g RG -n NAME --ssh-access disabled.",
			check: checkAKSSSH},
		Rule{Name: "aks-kms", Category: CategoryAKS, Severity: Low,
			Title: "Secrets are not encrypted with a key of yours (KMS)",
			Why:   "Without KMS etcd's secrets are encrypted with a platform key only; with it, with a Key Vault key you can revoke.",
			Fix:   "None as a manifest: az aks update -g RG -n NAME --enable-azure-keyvault-kms --azure-keyvault-kms-key-id KEY.",
			check: checkAKSKMS},
		Rule{Name: "aks-defender", Category: CategoryAKS, Severity: Low,
			Title: "Microsoft Defender for Containers is off",
			Why:   "Defender's sensor reports runtime threats (a shell in a pod, a crypto miner) that no access review sees.",
			Fix:   "None as a manifest: az aks update -g RG -n NAME --enable-defender.",
			check: checkAKSDefender},
		Rule{Name: "aks-pod-identity", Category: CategoryAKS, Severity: Medium,
			Title: "The deprecated AAD pod identity is on",
			Why:   "AAD pod identity intercepts IMDS on every node; its exceptions let the pods they name reach the node's identities directly. It is deprecated for workload identity.",
			Fix:   "None as a manifest: move the pods to workload identity, then az aks update -g RG -n NAME --disable-pod-identity.",
			check: checkAKSPodIdentity},
	)
}

// aksCluster is the managed cluster read, or nil; with Azure data but no
// cluster, the rule's check is recorded as unknown.
func (c *checker) aksCluster() *azurerbac.ManagedCluster {
	d := c.snap.Azure
	if d == nil {
		return nil // not an AKS view: no check
	}
	if d.Cluster == nil {
		detail := "the managed cluster's settings were not read: give the JSON of az aks show -o json with -f"
		if d.ClusterGap != "" {
			detail = d.ClusterGap
		}
		c.checks = append(c.checks, Check{Rule: c.rule.Name, Status: CheckUnknown, Detail: detail})
		return nil
	}
	if d.Cluster.Arc() {
		c.checks = append(c.checks, Check{Rule: c.rule.Name, Status: CheckUnknown, Detail: "an Azure Arc connected cluster: its settings are not AKS's"})
		return nil
	}
	return d.Cluster
}

// aksCheck records the check and, when it failed, the finding.
func (c *checker) aksCheck(mc *azurerbac.ManagedCluster, failed bool, passed, msg string, sev Severity, subjects []rbac.Subject) {
	if !failed {
		c.checks = append(c.checks, Check{Rule: c.rule.Name, Status: CheckPassed, Detail: passed})
		return
	}
	c.checks = append(c.checks, Check{Rule: c.rule.Name, Status: CheckFailed, Detail: msg})
	c.add(Finding{Severity: sev, Message: msg, Subjects: subjects,
		Objects: []rbac.ObjectRef{{APIVersion: "Microsoft.ContainerService", Kind: "ManagedCluster", Name: mc.ID}}})
}

// holders are the principals whose roles grant action at scope, named.
func (c *checker) holders(action, scope string) ([]rbac.Subject, []string) {
	hs, _ := c.snap.Azure.Holders(action, scope)
	var subs []rbac.Subject
	var names []string
	seen := map[string]bool{}
	for _, h := range hs {
		a := h.Assignment
		s := rbac.AzurePrincipalSubject(&a)
		if seen[s.Key()] {
			continue
		}
		seen[s.Key()] = true
		subs = append(subs, s)
		n := s.String()
		if s.DisplayName != "" {
			n += " (" + s.DisplayName + ")"
		}
		names = append(names, n+" through "+fmt.Sprintf("%q", h.Role.Name)+" at "+rbac.AzureScopeName(a.Scope))
	}
	return subs, names
}

func whoList(names []string) string {
	if len(names) == 0 {
		return "no principal in the role assignments read holds it"
	}
	const most = 5
	if len(names) > most {
		return strings.Join(names[:most], "; ") + fmt.Sprintf("; and %d more", len(names)-most)
	}
	return strings.Join(names, "; ")
}

func checkAKSLocalAccounts(c *checker) {
	mc := c.aksCluster()
	if mc == nil {
		return
	}
	subs, names := c.holders(azurerbac.ActionAdminCredential, c.snap.Azure.ClusterID)
	sev := Critical
	if len(subs) == 0 {
		sev = High // no holder read, but anyone granted the action later is cluster-admin
	}
	c.aksCheck(mc, mc.LocalAccounts(), "local accounts are off (disableLocalAccounts): the admin credential is refused",
		fmt.Sprintf("local accounts are on: %d Azure principal(s) can fetch the admin credential (user clusterAdmin, group system:masters): %s",
			len(subs), whoList(names)), sev, subs)
}

func checkAKSRBAC(c *checker) {
	mc := c.aksCluster()
	if mc == nil {
		return
	}
	c.aksCheck(mc, !mc.RBAC(), "Kubernetes RBAC is on", "Kubernetes RBAC is off (enableRbac: false): every authenticated identity is allowed everything", Critical, nil)
}

func checkAKSAPIServer(c *checker) {
	mc := c.aksCluster()
	if mc == nil {
		return
	}
	private := mc.APIServer != nil && mc.APIServer.PrivateCluster
	ranges := mc.APIServer != nil && len(mc.APIServer.AuthorizedIPRanges) > 0
	public := !private && !strings.EqualFold(mc.PublicNetworkAccess, "Disabled")
	passed := "the API server is private"
	if ranges {
		passed = "the API server takes requests from its authorized IP ranges only: " + strings.Join(mc.APIServer.AuthorizedIPRanges, ", ")
	}
	c.aksCheck(mc, public && !ranges, passed, "the API server is public and has no authorized IP ranges: anyone on the internet can reach it", Medium, nil)
}

func checkAKSRunCommand(c *checker) {
	mc := c.aksCluster()
	if mc == nil {
		return
	}
	on := mc.APIServer == nil || !mc.APIServer.DisableRunCommand
	subs, names := c.holders(azurerbac.ActionRunCommand, c.snap.Azure.ClusterID)
	c.aksCheck(mc, on, "command invoke is off (disableRunCommand)",
		fmt.Sprintf("command invoke is on: %d Azure principal(s) hold runCommand: %s", len(subs), whoList(names)), Medium, subs)
}

func checkAKSNodeResourceGroup(c *checker) {
	mc := c.aksCluster()
	if mc == nil {
		return
	}
	locked := strings.EqualFold(mc.NodeResourceGroupRestriction, "ReadOnly")
	var subs []rbac.Subject
	var names []string
	if !locked && mc.NodeResourceGroup != "" {
		if sub, ok := rbac.SubscriptionOf(c.snap.Azure.ClusterID); ok {
			subs, names = c.holders(azurerbac.ActionVMRunCommand, sub+"/resourceGroups/"+mc.NodeResourceGroup)
		}
	}
	c.aksCheck(mc, !locked, "the node resource group is ReadOnly (nodeResourceGroupProfile.restrictionLevel)",
		fmt.Sprintf("the node resource group %s is not locked (restrictionLevel %s): %d Azure principal(s) in the assignments read can run commands on its VMs: %s",
			mc.NodeResourceGroup, cmp.Or(mc.NodeResourceGroupRestriction, "Unrestricted"), len(subs), whoList(names)), Medium, subs)
}

func checkAKSIdentity(c *checker) {
	mc := c.aksCluster()
	if mc == nil {
		return
	}
	now := c.opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	sev, expiry := spSecretExpiry(mc, now)
	c.aksCheck(mc, mc.UsesServicePrincipal(), "the cluster identity is a managed identity ("+cmp.Or(mc.IdentityType, "managed")+")",
		"the cluster identity is service principal "+mc.ServicePrincipal+", with a secret that expires and can leak: "+expiry, sev, nil)
}

// spSecretSoon is how far ahead an expiring secret is said.
const spSecretSoon = 30 * 24 * time.Hour

// spSecretExpiry says when the service principal's secrets expire, as
// far as they were read, and the finding's severity: high when the
// newest has expired (the cluster can no longer reach Azure), medium when
// it expires within 30 days, low otherwise.
func spSecretExpiry(mc *azurerbac.ManagedCluster, now time.Time) (Severity, string) {
	s := mc.ServicePrincipalSecrets
	switch {
	case s == nil:
		return Low, "its secrets' expiry was not read (sign in with --azure-rbac and Application.Read.All on Microsoft Graph, or give -f the JSON of az ad app credential list --id " + mc.ServicePrincipal + ")"
	case s.Unread != "":
		return Low, "its secrets' expiry was not read: " + s.Unread
	case len(s.Secrets) == 0:
		return Low, "its app registration has no secret (" + s.From + "): the cluster's credential may be a certificate, or the app another tenant's"
	}
	var latest *azurerbac.AppSecret
	var parts []string
	for i := range s.Secrets {
		x := &s.Secrets[i]
		name := x.KeyID
		if x.DisplayName != "" {
			name = fmt.Sprintf("%q (%s)", x.DisplayName, x.KeyID)
		}
		switch {
		case x.End == nil:
			parts = append(parts, "secret "+name+" never expires")
		case x.End.Before(now):
			parts = append(parts, "secret "+name+" expired on "+x.End.UTC().Format(time.DateOnly))
		case x.End.Sub(now) < spSecretSoon:
			parts = append(parts, "secret "+name+" expires within 30 days, on "+x.End.UTC().Format(time.DateOnly))
		default:
			parts = append(parts, "secret "+name+" expires on "+x.End.UTC().Format(time.DateOnly))
		}
		if latest == nil || latest.End != nil && (x.End == nil || x.End.After(*latest.End)) {
			latest = x
		}
	}
	msg := strings.Join(parts, "; ") + " (" + s.From + ")"
	switch {
	case latest.End == nil:
		return Low, msg
	case latest.End.Before(now):
		return High, "every secret has expired: " + msg
	case latest.End.Sub(now) < spSecretSoon:
		return Medium, "its newest secret expires within 30 days: " + msg
	}
	return Low, msg
}

func checkAKSSSH(c *checker) {
	mc := c.aksCluster()
	if mc == nil {
		return
	}
	c.aksCheck(mc, mc.SSHKeys > 0, "the Linux nodes accept no SSH key", fmt.Sprintf("the Linux nodes accept %d SSH public key(s)", mc.SSHKeys), Low, nil)
}

func checkAKSKMS(c *checker) {
	mc := c.aksCluster()
	if mc == nil {
		return
	}
	c.aksCheck(mc, !mc.KMS, "secrets are encrypted with a Key Vault key (KMS)", "secrets are not encrypted with a key of yours (securityProfile.azureKeyVaultKms is off)", Low, nil)
}

func checkAKSDefender(c *checker) {
	mc := c.aksCluster()
	if mc == nil {
		return
	}
	c.aksCheck(mc, !mc.Defender, "Microsoft Defender for Containers is on", "Microsoft Defender for Containers is off (securityProfile.defender)", Low, nil)
}

func checkAKSPodIdentity(c *checker) {
	mc := c.aksCluster()
	if mc == nil {
		return
	}
	c.aksCheck(mc, mc.PodIdentity, "the deprecated AAD pod identity is off",
		fmt.Sprintf("the deprecated AAD pod identity is on, with %d exception(s)", mc.PodIdentityExceptions), Medium, nil)
}
