package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"golang.org/x/term"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// client-go runs an exec credential plugin (kubelogin, kubectl-adsso, a
// cloud CLI) with exec.Command and no deadline: a plugin that hangs hangs
// every request, past --request-timeout, and Ctrl-C does not reach it.
// Exec runs the plugin itself, by the same protocol
// (client.authentication.k8s.io ExecCredential), bounded by a timeout and
// the request's context, and kills it (and what it started) when either
// ends.

// ExecOptions say how the plugin runs.
type ExecOptions struct {
	// Timeout bounds each run of the plugin; zero is two minutes.
	Timeout time.Duration
	// Stdin and Stderr are the terminal the plugin may prompt on (a device
	// code goes to stderr).
	Stdin  io.Reader
	Stderr io.Writer
}

// Exec is an exec credential plugin run by the tool.
type Exec struct {
	cfg     *clientcmdapi.ExecConfig
	cluster map[string]any // the cluster info KUBERNETES_EXEC_INFO carries, when asked for
	timeout time.Duration

	mu          sync.Mutex
	stdin       io.Reader
	stderr      io.Writer
	interactive bool // prompts allowed (the terminal is ours)
	token       string
	expiry      time.Time
}

// BoundExec replaces cfg's exec plugin by one the tool runs, bounded.
// It runs the plugin once now (the sign-in happens here, on the terminal),
// to learn whether it gives a token (refreshed as it expires) or a client
// certificate (used for the process's life). A config without an exec
// plugin is returned as it is, with a nil Exec.
func BoundExec(ctx context.Context, cfg *rest.Config, o ExecOptions) (*rest.Config, *Exec, error) {
	if cfg.ExecProvider == nil {
		return cfg, nil, nil
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if cfg.Timeout > 0 && cfg.Timeout < o.Timeout {
		o.Timeout = cfg.Timeout // --request-timeout bounds it too
	}
	e := &Exec{cfg: cfg.ExecProvider, timeout: o.Timeout, stdin: o.Stdin, stderr: o.Stderr, interactive: true}
	if e.stderr == nil {
		e.stderr = os.Stderr
	}
	if cfg.ExecProvider.ProvideClusterInfo {
		e.cluster = map[string]any{"server": cfg.Host, "certificate-authority-data": cfg.CAData,
			"insecure-skip-tls-verify": cfg.Insecure, "tls-server-name": cfg.ServerName}
	}
	cred, err := e.run(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := rest.CopyConfig(cfg)
	out.ExecProvider = nil
	if cred.Status.ClientCertificateData != "" {
		out.CertData, out.KeyData = []byte(cred.Status.ClientCertificateData), []byte(cred.Status.ClientKeyData)
		out.CertFile, out.KeyFile = "", ""
		return out, e, nil
	}
	e.keep(cred)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &execRoundTripper{e: e, base: rt} })
	return out, e, nil
}

// Quiet makes later runs (a token that expired while the explorer holds
// the screen) write to w instead of the terminal, and never prompt.
func (e *Exec) Quiet(w io.Writer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stderr, e.interactive = w, false
}

// SignIn runs the plugin again on the terminal, prompts allowed, and keeps
// the new credential (the explorer's L).
func (e *Exec) SignIn(ctx context.Context, stdin io.Reader, stderr io.Writer) error {
	e.mu.Lock()
	prevIn, prevErr, prevInteractive := e.stdin, e.stderr, e.interactive
	e.stdin, e.stderr, e.interactive = stdin, stderr, true
	e.mu.Unlock()
	cred, err := e.run(ctx)
	e.mu.Lock()
	e.stdin, e.stderr, e.interactive = prevIn, prevErr, prevInteractive
	e.mu.Unlock()
	if err != nil {
		return err
	}
	e.keep(cred)
	return nil
}

// Config is the plugin as the kubeconfig gives it.
func (e *Exec) Config() *clientcmdapi.ExecConfig { return e.cfg }

type execCredential struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Interactive bool           `json:"interactive"`
		Cluster     map[string]any `json:"cluster,omitempty"`
	} `json:"spec"`
	Status *struct {
		Token                 string     `json:"token"`
		ClientCertificateData string     `json:"clientCertificateData"`
		ClientKeyData         string     `json:"clientKeyData"`
		ExpirationTimestamp   *time.Time `json:"expirationTimestamp"`
	} `json:"status,omitempty"`
}

func (e *Exec) keep(c *execCredential) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.token = c.Status.Token
	e.expiry = time.Time{}
	if c.Status.ExpirationTimestamp != nil {
		e.expiry = *c.Status.ExpirationTimestamp
	}
}

// bearer returns a token that has not expired, running the plugin when
// the last one has.
func (e *Exec) bearer(ctx context.Context) (string, error) {
	e.mu.Lock()
	tok, exp := e.token, e.expiry
	e.mu.Unlock()
	if tok != "" && (exp.IsZero() || time.Now().Add(10*time.Second).Before(exp)) {
		return tok, nil
	}
	cred, err := e.run(ctx)
	if err != nil {
		return "", err
	}
	e.keep(cred)
	return cred.Status.Token, nil
}

// forget drops the token the server refused, so the next request runs the
// plugin again.
func (e *Exec) forget(tok string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token == tok {
		e.token = ""
	}
}

// run runs the plugin once, bounded by the timeout and ctx.
func (e *Exec) run(ctx context.Context) (*execCredential, error) {
	e.mu.Lock()
	stdin, stderr, interactive := e.stdin, e.stderr, e.interactive
	e.mu.Unlock()
	switch e.cfg.InteractiveMode {
	case clientcmdapi.NeverExecInteractiveMode:
		interactive = false
	case clientcmdapi.AlwaysExecInteractiveMode:
		if !interactive || !isTerminal(stdin) {
			return nil, fmt.Errorf("%w: exec plugin %s needs a terminal to sign in (interactiveMode Always), and there is none", access.ErrSignIn, e.cfg.Command)
		}
	default: // IfAvailable, or unset
		interactive = interactive && isTerminal(stdin)
	}
	path, err := exec.LookPath(e.cfg.Command)
	if err != nil {
		msg := fmt.Sprintf("exec plugin %s is not installed or not on PATH", e.cfg.Command)
		if e.cfg.InstallHint != "" {
			msg += ": " + e.cfg.InstallHint
		}
		return nil, fmt.Errorf("%w: %s", access.ErrSignIn, msg)
	}
	in := execCredential{APIVersion: e.cfg.APIVersion, Kind: "ExecCredential"}
	in.Spec.Interactive = interactive
	in.Spec.Cluster = e.cluster
	info, _ := json.Marshal(in)
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, e.cfg.Args...)
	cmd.Env = os.Environ()
	for _, v := range e.cfg.Env {
		cmd.Env = append(cmd.Env, v.Name+"="+v.Value)
	}
	cmd.Env = append(cmd.Env, "KUBERNETES_EXEC_INFO="+string(info))
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if interactive {
		cmd.Stdin = stdin
	}
	killGroup(cmd)
	cmd.WaitDelay = 2 * time.Second // a child holding the pipes open cannot hang us
	err = cmd.Run()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("%w: exec plugin %s did not answer within %s (stopped; --timeout bounds it)", access.ErrSignIn, e.cfg.Command, e.timeout)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return nil, fmt.Errorf("%w: exec plugin %s failed: %v", access.ErrSignIn, e.cfg.Command, err)
	}
	var out execCredential
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.Status == nil {
		return nil, fmt.Errorf("%w: exec plugin %s printed no ExecCredential status", access.ErrSignIn, e.cfg.Command)
	}
	if out.APIVersion != e.cfg.APIVersion {
		return nil, fmt.Errorf("%w: exec plugin %s answered %s, the kubeconfig asks for %s", access.ErrSignIn, e.cfg.Command, safe.Terminal(out.APIVersion), e.cfg.APIVersion)
	}
	if out.Status.Token == "" && (out.Status.ClientCertificateData == "" || out.Status.ClientKeyData == "") {
		return nil, fmt.Errorf("%w: exec plugin %s returned neither a token nor a certificate and key", access.ErrSignIn, e.cfg.Command)
	}
	return &out, nil
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// execRoundTripper adds the plugin's token to each request, and drops a
// token the server refuses (401) so the next request signs in again.
type execRoundTripper struct {
	e    *Exec
	base http.RoundTripper
}

func (t *execRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		return t.base.RoundTrip(req)
	}
	tok, err := t.e.bearer(req.Context())
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	res, err := t.base.RoundTrip(r)
	if err == nil && res.StatusCode == http.StatusUnauthorized {
		t.e.forget(tok)
	}
	return res, err
}
