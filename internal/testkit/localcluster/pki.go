package localcluster

import (
	"net"
	"path/filepath"
)

type pkiFiles struct {
	caCert                  string
	caPEM                   []byte
	servingCert, servingKey string
	saKey, saPub            string
	admin, kcm              *keyPair
	// The aggregation layer: the front proxy's CA and the client
	// certificate kube-apiserver proxies with, and metrics-server's
	// serving certificate.
	frontProxyCA                    string
	proxyClientCert, proxyClientKey string
	metricsCert, metricsKey         string
}

// writePKI generates the cluster's CA, serving certificate, service-account
// signing key and the client certificates of the admin and the controller
// manager.
func writePKI(dir string) (*pkiFiles, error) {
	ca, err := newCA("kubectl-access-local-ca")
	if err != nil {
		return nil, err
	}
	p := &pkiFiles{caPEM: ca.CertPEM}
	if p.caCert, _, err = ca.write(dir, "ca"); err != nil {
		return nil, err
	}
	serving, err := newServing(ca)
	if err != nil {
		return nil, err
	}
	if p.servingCert, p.servingKey, err = serving.write(dir, "apiserver"); err != nil {
		return nil, err
	}
	sa, err := newCA("service-accounts") // only its key is used
	if err != nil {
		return nil, err
	}
	if _, p.saKey, err = sa.write(dir, "sa"); err != nil {
		return nil, err
	}
	p.saPub = filepath.Join(dir, "sa.pub")
	if err := sa.writePublicKey(p.saPub); err != nil {
		return nil, err
	}
	if p.admin, err = newClient(ca, "kubectl-access:admin", "system:masters"); err != nil {
		return nil, err
	}
	if p.kcm, err = newClient(ca, "system:kube-controller-manager"); err != nil {
		return nil, err
	}
	fp, err := newCA("front-proxy-ca")
	if err != nil {
		return nil, err
	}
	if p.frontProxyCA, _, err = fp.write(dir, "front-proxy-ca"); err != nil {
		return nil, err
	}
	proxy, err := newClient(fp, "front-proxy-client")
	if err != nil {
		return nil, err
	}
	if p.proxyClientCert, p.proxyClientKey, err = proxy.write(dir, "front-proxy-client"); err != nil {
		return nil, err
	}
	metrics, err := newMetricsServing(ca)
	if err != nil {
		return nil, err
	}
	if p.metricsCert, p.metricsKey, err = metrics.write(dir, "metrics-server"); err != nil {
		return nil, err
	}
	return p, nil
}

// freePorts asks the kernel for n distinct free loopback ports. They are
// released before use, so another process could take one in between; the
// caller's start then fails loudly rather than silently sharing a port.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close() // the port is all it was for
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
