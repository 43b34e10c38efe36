package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
)

// completions asks cobra's __complete, as every shell script does, and
// returns the candidates.
func completions(t *testing.T, args ...string) []string {
	t.Helper()
	out, _, code := run(t, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d", args, code)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, ":") {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return got
}

func TestCompletionFromTheCluster(t *testing.T) {
	c := clustertest.Get(t)
	kc := "--kubeconfig=" + c.Kubeconfig
	for _, tc := range []struct {
		name string
		args []string
		want []string // all present
		not  []string // none present
	}{
		{"verb", []string{kc, "who-can", "cr"}, []string{"create"}, []string{"get"}},
		{"resource from discovery", []string{kc, "who-can", "get", "deployments"}, []string{"deployments.apps", "deployments.apps/scale"}, nil},
		{"subresource", []string{kc, "who-can", "create", "pods/"}, []string{"pods/exec", "pods/log"}, []string{"pods"}},
		{"namespace", []string{kc, "who-can", "get", "secrets", "-n", "kube-"}, []string{"kube-system", "kube-public"}, []string{"default"}},
		{"subject kinds", []string{kc, "what-can", ""}, []string{"user:", "group:", "sa:"}, nil},
		{"subjects the bindings name", []string{kc, "can", "group:system:"}, []string{"group:system:masters", "group:system:authenticated"}, nil},
		{"service accounts", []string{kc, "what-can", "sa:kube-system:"}, []string{"sa:kube-system:bootstrap-signer"}, nil},
		{"can's verb after the subject", []string{kc, "can", "user:x", "imp"}, []string{"impersonate"}, nil},
		{"nothing past the last argument", []string{kc, "what-can", "user:x", ""}, nil, []string{"get"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := completions(t, tc.args...)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("completions %v lack %q", got, w)
				}
			}
			for _, n := range tc.not {
				if slices.Contains(got, n) {
					t.Errorf("completions %v include %q", got, n)
				}
			}
		})
	}
}

// TestBashCompletion sources the generated bash script in a real bash and
// asks its completion function, as a tab press does.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed for the completion test")
	}
	bin, _ := filepath.Abs("../bin/kubectl-access")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: build it first (make test does)", bin)
	}
	// Cobra's bash script, like kubectl's, uses the bash-completion package.
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bashCompletion); err != nil {
		t.Fatalf("%v: install Debian's bash-completion (make testdeps does, as root)", err)
	}
	c := clustertest.Get(t)
	script, _, code := run(t, "completion", "bash")
	if code != 0 || !strings.Contains(script, "__start_kubectl-access") {
		t.Fatalf("completion bash: exit %d, no completion function", code)
	}
	file := filepath.Join(t.TempDir(), "kubectl-access.bash")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	ask := func(line string) []string {
		t.Helper()
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		prog := `source ` + bashCompletion + `; source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; __start_kubectl-access; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, append([]string{"-c", prog, "bash", file}, words...)...)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "KUBECONFIG="+c.Kubeconfig)
		// Outside a real tab press bash's compopt complains on stderr; the
		// candidates are on stdout.
		out, runErr := cmd.Output()
		if runErr != nil {
			t.Fatalf("bash completion of %q: %v", line, runErr)
		}
		return strings.Fields(string(out))
	}
	if got := ask("kubectl-access who-can get secr"); !slices.Equal(got, []string{"secrets"}) {
		t.Errorf("who-can get secr<TAB> = %v, want [secrets]", got)
	}
	if got := ask("kubectl-access who-can get secrets -n kube-sy"); !slices.Equal(got, []string{"kube-system"}) {
		t.Errorf("-n kube-sy<TAB> = %v, want [kube-system]", got)
	}
	if got := ask("kubectl-access wh"); !slices.Contains(got, "who-can") || !slices.Contains(got, "what-can") || !slices.Contains(got, "whoami") {
		t.Errorf("wh<TAB> = %v, want the commands", got)
	}

	// kubectl's plugin completion runs kubectl_complete-access with the
	// words after `kubectl access`.
	helper, _ := filepath.Abs("../completion/kubectl_complete-access")
	cmd := exec.Command(helper, "who-can", "get", "secr")
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "KUBECONFIG="+c.Kubeconfig)
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "secrets\n") {
		t.Errorf("kubectl_complete-access who-can get secr = %q, %v; want secrets", out, err)
	}
}

// TestCompletionOfContexts: --context and a fleet command's --contexts
// complete the kubeconfig's context names, asking no cluster.
func TestCompletionOfContexts(t *testing.T) {
	kc := clientcmdapi.NewConfig()
	for _, name := range []string{"prod-east", "prod-west", "dev"} {
		kc.Clusters[name] = &clientcmdapi.Cluster{Server: "https://" + name + ".invalid:443"}
		kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "x"}
		kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	flag := "--kubeconfig=" + path
	if got := completions(t, flag, "audit", "--contexts", "prod"); !slices.Equal(got, []string{"prod-east", "prod-west"}) {
		t.Errorf("--contexts prod: %v", got)
	}
	if got := completions(t, flag, "who-can", "--context", "d"); !slices.Equal(got, []string{"dev"}) {
		t.Errorf("--context d: %v", got)
	}
}

// TestCompletionOfAFIFOKubeconfig: a FIFO as --kubeconfig (or in
// $KUBECONFIG) neither hangs a completion nor crashes it: every
// completion that reads the kubeconfig checks it with the opener first,
// as the commands do, and completes nothing from it.
func TestCompletionOfAFIFOKubeconfig(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "kubeconfig")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Should a completion open it blocking after all, a writer unblocks
	// it at the end (O_RDWR does not wait).
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_RDWR, 0); err == nil {
			_ = f.Close() // only ever opened to unblock a reader
		}
	})
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"--context", []string{"who-can", "--context", ""}},
		{"a fleet's --contexts", []string{"audit", "--contexts", ""}},
		{"-n", []string{"who-can", "get", "pods", "-n", ""}},
		{"resources", []string{"who-can", "get", ""}},
		{"subjects", []string{"what-can", ""}},
		{"findings", []string{"fix", ""}},
	} {
		for _, how := range []string{"--kubeconfig", "$KUBECONFIG"} {
			t.Run(tc.name+" "+how, func(t *testing.T) {
				args := append([]string{"__complete"}, tc.args...)
				if how == "--kubeconfig" {
					args = append([]string{"__complete", "--kubeconfig", fifo}, tc.args...)
				} else {
					t.Setenv("KUBECONFIG", fifo)
				}
				type result struct {
					out  string
					code int
				}
				done := make(chan result, 1)
				go func() {
					out, _, code := run(t, args...)
					done <- result{out, code}
				}()
				select {
				case r := <-done:
					if r.code != ExitOK || !strings.Contains(r.out, ":") {
						t.Errorf("exit %d, output %q: want cobra's directive and no crash", r.code, r.out)
					}
				case <-time.After(15 * time.Second):
					t.Fatal("the completion hangs on a FIFO kubeconfig")
				}
			})
		}
	}
}
