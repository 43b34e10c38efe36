package localcluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A helper is a process of ours that a detached cluster needs beside the
// control plane, such as the authorization webhook its API server calls
// (make demo-azure). Its pid and program name are in DIR/NAME.helper, so
// Down stops it with the cluster and Up starts the cluster again when it
// has died.

// StartHelper starts argv detached (it outlives the caller), with its
// output in DIR/logs/NAME.log, and waits until it creates readyFile; it
// fails, with the log's tail, when the process exits first or ctx ends.
// key says what the helper serves (a digest of its input): Up uses the
// cluster again only while its helper serves the key it asks for.
func StartHelper(ctx context.Context, dir, name, key, readyFile string, argv []string) error {
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o700); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "logs", name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr(true)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	comm := filepath.Base(argv[0])
	if len(comm) > 15 {
		comm = comm[:15]
	}
	if err := os.WriteFile(filepath.Join(dir, name+".helper"), fmt.Appendf(nil, "%d\n%s\n%s\n", cmd.Process.Pid, comm, key), 0o600); err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		if _, err := os.Stat(readyFile); err == nil {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("%s exited (%v); last lines of %s:\n%s", name, err, logPath, tail(logPath, 15))
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return fmt.Errorf("%s did not get ready: %w (log: %s)", name, ctx.Err(), logPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// helper is one helper's pid file.
type helper struct {
	file, comm, key string
	pid             int
}

// helpers reads the helpers' pid files in dir.
func helpers(dir string) []helper {
	var out []helper
	matches, _ := filepath.Glob(filepath.Join(dir, "*.helper"))
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		n, err := strconv.Atoi(lines[0])
		if err != nil || n <= 0 || len(lines) < 2 {
			continue
		}
		h := helper{file: m, pid: n, comm: lines[1]}
		if len(lines) > 2 {
			h.key = lines[2]
		}
		out = append(out, h)
	}
	return out
}

// helperServes says whether the helper NAME of dir is running and serves
// key.
func helperServes(dir, name, key string) bool {
	for _, h := range helpers(dir) {
		if filepath.Base(h.file) == name+".helper" {
			return h.key == key && alive(h.pid, h.comm)
		}
	}
	return false
}

// ServeWebhook serves h as the API server's authorization webhook on
// loopback TLS, with a certificate of a CA of its own, until ctx ends. It
// first writes, in dir, the AuthorizationConfiguration that chains it
// after Node and RBAC (WriteWebhookAuthorization), then calls ready with
// its path.
func ServeWebhook(ctx context.Context, dir string, h http.Handler, ready func(authzConfig string) error) error {
	ca, err := newCA("authorization-webhook-ca")
	if err != nil {
		return err
	}
	serving, err := newServing(ca)
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, ReadHeaderTimeout: 10 * time.Second}
	authz, err := WriteWebhookAuthorization(dir, "https://"+ln.Addr().String(), ca.CertPEM)
	if err != nil {
		_ = ln.Close() // never served; the error returned says why
		return err
	}
	if err := ready(authz); err != nil {
		_ = ln.Close() // as above
		return err
	}
	go func() {
		<-ctx.Done() // then the shutdown needs a deadline of its own
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
