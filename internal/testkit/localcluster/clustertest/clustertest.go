// Package clustertest gives a test package one real local cluster, started
// on first use and stopped when the package's tests end, also on Ctrl-C.
//
//	func TestMain(m *testing.M) { clustertest.Main(m) }
//	func TestX(t *testing.T) { c := clustertest.Get(t); ... }
package clustertest

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
)

var (
	once    sync.Once
	shared  *localcluster.Cluster
	dir     string
	errOnce error
	mu      sync.Mutex
)

// Main runs the package's tests and then stops the shared cluster. A
// SIGINT or SIGTERM stops it too before the process exits.
func Main(m *testing.M) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "clustertest: %v: stopping the local cluster\n", s)
		cleanup()
		os.Exit(130)
	}()
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.Stop()
		shared = nil
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
		dir = ""
	}
}

// Get returns the package's cluster, starting it on first use (see Require
// for -short).
func Get(t testing.TB) *localcluster.Cluster {
	t.Helper()
	Require(t)
	once.Do(func() {
		mu.Lock()
		defer mu.Unlock()
		dir, errOnce = os.MkdirTemp("", "kubectl-access-cluster-")
		if errOnce != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		shared, errOnce = localcluster.Start(ctx, localcluster.Options{Dir: dir})
	})
	if errOnce != nil {
		t.Fatalf("start the local cluster: %v", errOnce)
	}
	return shared
}

// Start starts a separate cluster with the given options (Dir is filled in)
// for a test that needs a differently configured API server; it is stopped
// when the test ends.
func Start(t testing.TB, o localcluster.Options) *localcluster.Cluster {
	t.Helper()
	Require(t)
	o.Dir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, o)
	if err != nil {
		t.Fatalf("start a local cluster: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// Require marks t as an integration test. Under -short it skips, saying so,
// except when CI=true, where it fails: CI must never pass by skipping the
// tests that matter.
func Require(t testing.TB) {
	t.Helper()
	if !testing.Short() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("integration test run with -short under CI=true: run `make test`")
	}
	t.Skip("integration test: needs the local control plane; `make test` runs it")
}

// StopOnSignal stops c when the process gets SIGINT or SIGTERM, then exits.
func StopOnSignal(c *localcluster.Cluster) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		c.Stop()
		os.Exit(130)
	}()
}
