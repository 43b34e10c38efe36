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
func StartHelper(ctx context.Context, dir, name, readyFile string, argv []string) error {
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o700); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "logs", name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
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
	if err := os.WriteFile(filepath.Join(dir, name+".helper"), fmt.Appendf(nil, "%d\n%s\n", cmd.Process.Pid, comm), 0o600); err != nil {
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

// helpers returns the helpers' pid files in dir with their pids and
// program names.
func helpers(dir string) (files []string, pids []int, comms []string) {
	matches, _ := filepath.Glob(filepath.Join(dir, "*.helper"))
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		pid, comm, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		n, err := strconv.Atoi(pid)
		if err != nil || n <= 0 {
			continue
		}
		files, pids, comms = append(files, m), append(pids, n), append(comms, comm)
	}
	return files, pids, comms
}

// helperAlive says whether the helper NAME of dir is running.
func helperAlive(dir, name string) bool {
	files, pids, comms := helpers(dir)
	for i, f := range files {
		if filepath.Base(f) == name+".helper" {
			return alive(pids[i], comms[i])
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
		ln.Close()
		return err
	}
	if err := ready(authz); err != nil {
		ln.Close()
		return err
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
