// Package localcluster starts a real Kubernetes control plane on loopback:
// etcd, kube-apiserver (Node,RBAC authorization, NodeRestriction admission,
// TLS from a generated CA, the aggregation layer's front proxy),
// kube-controller-manager (for ClusterRole aggregation, default service
// accounts and namespace deletion) and metrics-server behind the
// metrics.k8s.io APIService, as every AKS cluster has it (its pods and
// nodes resources share names with the core group's). The integration
// tests, `make cluster`, the benchmarks and the demo all use it.
//
// The binaries are built from their Go modules by hack/controlplane.sh; the
// launcher finds them through $KUBECTL_ACCESS_CONTROLPLANE_BIN or the
// repository's .cache/bin.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// BinEnv names the environment variable that points at the directory
// holding etcd, kube-apiserver and kube-controller-manager.
const BinEnv = "KUBECTL_ACCESS_CONTROLPLANE_BIN"

// Options configure a cluster. The zero value (with Dir set) is the cluster
// docs/architecture.md's contracts describe (make cluster).
type Options struct {
	// Dir holds certificates, etcd's data, logs and the kubeconfig.
	Dir string
	// BinDir holds the binaries; empty means FindBinDir().
	BinDir string
	// AuthorizationMode is the API server's --authorization-mode; empty
	// means "Node,RBAC".
	AuthorizationMode string
	// AuthorizationConfig is an --authorization-config file (an
	// AuthorizationConfiguration, e.g. from WriteWebhookAuthorization); it
	// replaces AuthorizationMode.
	AuthorizationConfig string
	// AdmissionPlugins is --enable-admission-plugins; nil means
	// NodeRestriction. An empty, non-nil slice enables only the defaults.
	AdmissionPlugins []string
	// DisableAdmissionPlugins is --disable-admission-plugins.
	DisableAdmissionPlugins []string
	// ExtraAPIServerArgs are appended to the API server's flags (a later
	// flag wins), e.g. --authentication-config.
	ExtraAPIServerArgs []string
	// NoControllerManager skips kube-controller-manager: aggregated roles
	// then stay empty and namespaces get no default service account.
	NoControllerManager bool
	// NoMetricsServer skips metrics-server and its APIService.
	NoMetricsServer bool
	// Detach lets the processes outlive the caller (make cluster). Without
	// it they die with the caller, also when it is killed.
	Detach bool
	// Timeout bounds the wait for readiness; zero means two minutes.
	Timeout time.Duration
	// BeforeStart runs in Up after the directory is emptied and before the
	// control plane starts: it may start a helper (StartHelper) and set
	// the options it serves, such as AuthorizationConfig.
	BeforeStart func(context.Context, *Options) error
	// Helper names a helper Up's running cluster must still have, serving
	// HelperKey (StartHelper's key), to be used again.
	Helper, HelperKey string
}

// Cluster is a running control plane.
type Cluster struct {
	Dir        string
	Kubeconfig string // admin kubeconfig (system:masters)
	Server     string // https://127.0.0.1:PORT
	Config     *rest.Config

	procs   []*process
	stopped sync.Once
}

type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process exits (attached mode only)
	err  error
}

// FindBinDir returns $KUBECTL_ACCESS_CONTROLPLANE_BIN, or the .cache/bin of
// the repository that contains the working directory.
func FindBinDir() (string, error) {
	if d := os.Getenv(BinEnv); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", "bin"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("cannot find the control-plane binaries: set %s or run `make controlplane` in the repository", BinEnv)
		}
		dir = parent
	}
}

var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "metrics-server"}

func checkBinaries(dir string) error {
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return fmt.Errorf("control-plane binary %s missing in %s: run `make controlplane` (builds them from their Go modules)", b, dir)
		}
	}
	return nil
}

// Start launches the control plane and returns once the API server is ready
// and the bootstrap ClusterRoles are aggregated. On error nothing is left
// running.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.Dir == "" {
		return nil, errors.New("localcluster: Options.Dir is required")
	}
	if o.BinDir == "" {
		if o.BinDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	if err := checkBinaries(o.BinDir); err != nil {
		return nil, err
	}
	if name, pid, ok := busy(o.Dir); ok {
		return nil, fmt.Errorf("a cluster is already running in %s (%s, pid %d): stop it first (make cluster-down, or Ctrl-C the program that started it)", o.Dir, name, pid)
	}
	if o.AuthorizationMode == "" {
		o.AuthorizationMode = "Node,RBAC"
	}
	if o.AdmissionPlugins == nil {
		o.AdmissionPlugins = []string{"NodeRestriction"}
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	for _, d := range []string{"pki", "logs", "etcd"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	pki, err := writePKI(filepath.Join(o.Dir, "pki"))
	if err != nil {
		return nil, fmt.Errorf("generate certificates: %w", err)
	}
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	c := &Cluster{
		Dir:        o.Dir,
		Kubeconfig: filepath.Join(o.Dir, "kubeconfig"),
		Server:     "https://127.0.0.1:" + strconv.Itoa(ports[2]),
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()

	if err := c.run(o, "etcd",
		"--name=default",
		"--data-dir="+filepath.Join(o.Dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync", "--log-level=warn",
		"--quota-backend-bytes=4294967296",
	); err != nil {
		return nil, err
	}
	apiArgs := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[2]),
		"--tls-cert-file=" + pki.servingCert, "--tls-private-key-file=" + pki.servingKey,
		"--client-ca-file=" + pki.caCert,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + pki.saPub,
		"--service-account-signing-key-file=" + pki.saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		authorizationFlag(o),
		"--enable-admission-plugins=" + strings.Join(o.AdmissionPlugins, ","),
		"--allow-privileged=true",
		// The endpoint reconciler refuses loopback addresses; nothing in
		// the cluster needs the kubernetes Service's endpoints.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		"--v=1",
		// The aggregation layer, as on AKS: kube-apiserver proxies
		// metrics.k8s.io to metrics-server with the front proxy's client
		// certificate, and metrics-server trusts the headers it sets.
		"--requestheader-client-ca-file=" + pki.frontProxyCA,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + pki.proxyClientCert,
		"--proxy-client-key-file=" + pki.proxyClientKey,
	}
	if len(o.DisableAdmissionPlugins) > 0 {
		apiArgs = append(apiArgs, "--disable-admission-plugins="+strings.Join(o.DisableAdmissionPlugins, ","))
	}
	if err := c.run(o, "kube-apiserver", append(apiArgs, o.ExtraAPIServerArgs...)...); err != nil {
		return nil, err
	}
	if err := writeKubeconfig(c.Kubeconfig, c.Server, pki.caPEM, pki.admin, "kubectl-access-local"); err != nil {
		return nil, err
	}
	kcmConfig := filepath.Join(o.Dir, "pki", "controller-manager.kubeconfig")
	if err := writeKubeconfig(kcmConfig, c.Server, pki.caPEM, pki.kcm, "local"); err != nil {
		return nil, err
	}
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return nil, err
	}
	// Tests and loaders create thousands of objects: no client-side
	// throttling (a negative QPS disables client-go's rate limiter).
	c.Config.QPS = -1
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	if !o.NoMetricsServer {
		if err := c.startMetricsServer(ctx, o, pki, ports[3]); err != nil {
			return nil, err
		}
	}
	if o.NoControllerManager {
		return c, nil
	}
	if err := c.run(o, "kube-controller-manager",
		"--kubeconfig="+kcmConfig,
		"--controllers=clusterrole-aggregation-controller,serviceaccount-controller,serviceaccount-token-controller,namespace-controller,garbage-collector-controller",
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=true", // each controller as its own service account, as in real clusters
		"--service-account-private-key-file="+pki.saKey,
		"--root-ca-file="+pki.caCert,
		"--v=1",
	); err != nil {
		return nil, err
	}
	if err := c.waitAggregated(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// run starts one binary with its output in logs/NAME.log.
func (c *Cluster) run(o Options, name string, args ...string) error {
	logPath := filepath.Join(o.Dir, "logs", name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor
	cmd := exec.Command(filepath.Join(o.BinDir, name), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr(o.Detach)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	c.procs = append(c.procs, p)
	if err := os.WriteFile(filepath.Join(o.Dir, name+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		return err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return nil
}

// exited returns an error naming the first process that has died, with the
// tail of its log, so a failed start says why.
func (c *Cluster) exited() error {
	for _, p := range c.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v); last lines of %s:\n%s", p.name, p.err, p.log, tail(p.log, 15))
		default:
		}
	}
	return nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	var last error
	for {
		if err := c.exited(); err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, last = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready: %v (log: %s)", last, filepath.Join(c.Dir, "logs", "kube-apiserver.log"))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitAggregated waits until the controller manager has filled the
// aggregated bootstrap roles and given "default" its service account.
func (c *Cluster) waitAggregated(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	ready := func() (bool, error) {
		for _, name := range []string{"admin", "edit", "view"} {
			r, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
			if err != nil || len(r.Rules) == 0 {
				return false, err
			}
		}
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
	for {
		if err := c.exited(); err != nil {
			return err
		}
		ok, err := ready()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bootstrap roles not aggregated (last error: %v; log: %s)", err, filepath.Join(c.Dir, "logs", "kube-controller-manager.log"))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop ends every process the cluster started (controller manager first,
// etcd last), politely and then by force, and waits until they are gone.
func (c *Cluster) Stop() {
	c.stopped.Do(func() {
		for i := len(c.procs) - 1; i >= 0; i-- {
			p := c.procs[i]
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
			_ = os.Remove(filepath.Join(c.Dir, p.name+".pid"))
		}
	})
}

// Logs returns the tail of each process's log, for a failing test.
func (c *Cluster) Logs(lines int) string {
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "==> %s <==\n%s\n", p.log, tail(p.log, lines))
	}
	return b.String()
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func writeKubeconfig(path, server string, caPEM []byte, kp *keyPair, context string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[context] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.CertPEM, ClientKeyData: kp.KeyPEM}
	cfg.Contexts[context] = &clientcmdapi.Context{Cluster: "local", AuthInfo: context, Namespace: "default"}
	cfg.CurrentContext = context
	// clientcmd.WriteToFile writes 0600.
	return clientcmd.WriteToFile(*cfg, path)
}
