package auth

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestLogin(t *testing.T) {
	for _, tc := range []struct {
		l       Login
		err     string
		args    []string
		inProc  bool
		pluginI string
	}{
		{l: Login{Mode: "password"}, err: "use one of"},
		{l: Login{Mode: "devicecode"}, err: "--tenant-id"},
		{l: Login{Mode: "spn", TenantID: "t"}, err: "--client-id"},
		{l: Login{Mode: "msi", AuthorityHost: "http://x"}, err: "https"},
		{l: Login{Mode: "devicecode", TenantID: "t"}, args: []string{"get-token", "--login", "devicecode", "--server-id", AKSServerID, "--client-id", AKSClientID, "--tenant-id", "t"}, pluginI: "IfAvailable"},
		{l: Login{Mode: "azurecli"}, args: []string{"get-token", "--login", "azurecli", "--server-id", AKSServerID}, pluginI: "Never"},
		{l: Login{Mode: "spn", TenantID: "t", ClientID: "c", AuthorityHost: "https://login.example"}, inProc: InProcessAvailable,
			args: []string{"get-token", "--login", "spn", "--server-id", AKSServerID, "--client-id", "c", "--tenant-id", "t", "--authority-host", "https://login.example/", "--disable-instance-discovery"}, pluginI: "Never"},
		{l: Login{Mode: "workloadidentity", UseExec: true}, args: []string{"get-token", "--login", "workloadidentity", "--server-id", AKSServerID}, pluginI: "Never"},
	} {
		err := tc.l.Validate()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: %v, want an error about %s", tc.l, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", tc.l, err)
		}
		e := tc.l.Exec()
		if !slices.Equal(e.Args, tc.args) || e.Command != "kubelogin" || string(e.InteractiveMode) != tc.pluginI {
			t.Errorf("%s: exec %s %v (%s), want %v (%s)", tc.l.Mode, e.Command, e.Args, e.InteractiveMode, tc.args, tc.pluginI)
		}
		c := tc.l.Apply(&rest.Config{Host: "https://h", BearerToken: "kubeconfig-token", TLSClientConfig: rest.TLSClientConfig{CertData: []byte("c"), KeyData: []byte("k"), CAData: []byte("ca")}})
		if c.BearerToken != "" || c.CertData != nil || c.KeyData != nil || string(c.CAData) != "ca" || c.Host != "https://h" {
			t.Errorf("%s: the kubeconfig's credentials survived or its cluster did not: %+v", tc.l.Mode, c)
		}
		if inProc := c.ExecProvider == nil; inProc != tc.inProc || tc.l.InProcess() != tc.inProc {
			t.Errorf("%s: in-process %v, want %v", tc.l.Mode, inProc, tc.inProc)
		}
	}
}
