package azurerbac

import (
	"testing"
)

// TestParsePodIdentityAndNetwork: podIdentityProfile's exceptions and
// networkProfile's policy engine and IMDS restriction are read from az aks
// show's flat shape and ARM's (under properties) alike.
func TestParsePodIdentityAndNetwork(t *testing.T) {
	const id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
	body := `"podIdentityProfile": {"enabled": true, "userAssignedIdentityExceptions": [{"name": "ex", "namespace": "shop", "podLabels": {"app": "legacy"}}]},
		"networkProfile": {"networkPlugin": "azure", "networkPolicy": "cilium", "podLinkLocalAccess": "None"}`
	for name, doc := range map[string]string{
		"az":  `{"id": "` + id + `", ` + body + `}`,
		"arm": `{"id": "` + id + `", "properties": {` + body + `}}`,
	} {
		m, err := ParseManagedCluster([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !m.PodIdentity || m.PodIdentityExceptions != 1 || len(m.PodIdentityExceptionList) != 1 || m.PodIdentityExceptionList[0].Namespace != "shop" ||
			m.PodIdentityExceptionList[0].PodLabels["app"] != "legacy" || m.NetworkPolicy != "cilium" || m.PodLinkLocalAccess != "None" {
			t.Errorf("%s: %+v", name, m)
		}
	}
}
