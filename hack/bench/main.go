// Command bench is the live half of `make bench`: it starts the local
// control plane on a kept data directory, loads the LARGE synthetic cluster
// into it the first time, and measures the commands against the floor.
//
//	go run ./hack/bench [-dir .cache/bench] [-runs 5] [-scale 1] [-only REGEXP] [-check]
//	go run ./hack/bench -serve [-azure|-dense]   # load, then keep the cluster up to explore (-azure: with the guard-like webhook; -dense: the dense LARGE)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/internal/testkit/guardhook"
	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
	"github.com/kubectl-access/kubectl-access/internal/testkit/livebench"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
)

func main() {
	dir := flag.String("dir", ".cache/bench", "directory that keeps the loaded cluster between runs")
	bin := flag.String("bin", "bin/kubectl-access", "the kubectl-access binary to measure")
	runs := flag.Int("runs", 5, "timed runs of each command and of the floor (the median counts)")
	scale := flag.Int("scale", 1, "divide LARGE by this (1 is LARGE)")
	seed := flag.Uint64("seed", 1, "generator seed")
	check := flag.Bool("check", false, "exit 1 when a query misses its ceiling")
	only := flag.String("only", "", "measure only the queries whose name matches this regular expression")
	serve := flag.Bool("serve", false, "load, then keep the cluster running until Ctrl-C instead of measuring")
	serveAzure := flag.Bool("azure", false, "with -serve: chain the guard-like webhook deciding from LARGE's Azure RBAC data after RBAC")
	serveDense := flag.Bool("dense", false, "with -serve: serve the dense variant of LARGE instead")
	flag.Parse()
	re, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: -only:", err)
		os.Exit(2)
	}
	if *only == "" {
		re = nil
	}
	if err := run(*dir, *bin, *runs, *scale, *seed, re, *check, *serve, *serveAzure, *serveDense); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(dir, bin string, runs, scale int, seed uint64, only *regexp.Regexp, check, serve, serveAzure, serveDense bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%v (run `make build` first)", err)
	}
	sizes := large.Large
	if scale > 1 {
		sizes = large.Scaled(scale)
	}
	clusterDir := filepath.Join(dir, fmt.Sprintf("scale-%d-seed-%d-%s", scale, seed, large.Version))
	// The dense variant is a cluster of its own, kept beside LARGE's.
	dense := sizes
	dense.Dense = true
	denseDir := clusterDir + "-dense"
	if serve {
		var fx *guardhook.Fixture
		if serveAzure {
			fx = livebench.GuardFixture(seed, sizes)
		}
		if serveDense {
			if serveAzure {
				return fmt.Errorf("-dense and -azure: the dense variant has no Azure RBAC data")
			}
			clusterDir, sizes = denseDir, dense
		}
		c, err := start(ctx, clusterDir, fx)
		if err != nil {
			return err
		}
		defer c.Stop()
		cs, err := kubernetes.NewForConfig(c.Config)
		if err != nil {
			return err
		}
		if _, err := livebench.Ensure(ctx, cs, sizes, seed, os.Stdout); err != nil {
			return err
		}
		fmt.Printf("serving; in another shell:\n  export KUBECONFIG=%s\n", c.Kubeconfig)
		if fx != nil {
			p, err := livebench.WriteAzureData(clusterDir, seed, sizes)
			if err != nil {
				return err
			}
			fmt.Printf("with a guard-like Azure RBAC webhook after RBAC; its data for --azure-rbac-from:\n  --azure-rbac-from %s --azure-cluster-id %s\n", p, large.AzureClusterID)
		}
		fmt.Println("Ctrl-C stops the cluster (the data stays)")
		<-ctx.Done()
		return nil
	}
	// Two phases on the same kept data: the plain cluster (Node, RBAC),
	// then, for the queries that read Azure RBAC's data beside the live
	// RBAC, the cluster again with the guard-like webhook after RBAC, as
	// on AKS with Azure RBAC (each phase with a floor of its own).
	var missed []string
	for _, guard := range []bool{false, true} {
		if guard && !livebench.NeedsGuard(only) || !guard && only != nil && !plainSelected(only) {
			continue
		}
		var fx *guardhook.Fixture
		if guard {
			fx = livebench.GuardFixture(seed, sizes)
		}
		m, err := measure(ctx, clusterDir, fx, livebench.Config{Binary: bin, Sizes: sizes, Seed: seed, Runs: runs, Progress: os.Stdout, Only: only, Guard: guard})
		if err != nil {
			return err
		}
		missed = append(missed, m...)
	}
	// Then the dense variant of LARGE, on its own cluster with its own
	// floor: the audit at about twice LARGE's findings.
	if livebench.NeedsDense(only) {
		m, err := measure(ctx, denseDir, nil, livebench.Config{Binary: bin, Sizes: dense, Seed: seed, Runs: runs, Progress: os.Stdout, Only: only})
		if err != nil {
			return err
		}
		missed = append(missed, m...)
	}
	if check && len(missed) > 0 {
		return fmt.Errorf("ceilings missed: %v", missed)
	}
	return nil
}

// plainSelected says whether only selects a query of the plain phase (or
// the fleet): not the Azure live ones, not the dense LARGE's.
func plainSelected(only *regexp.Regexp) bool {
	if only.MatchString("fleet") {
		return true
	}
	for _, q := range livebench.Queries(large.Scaled(100), [2]string{"get", "pods"}) {
		if !q.AzureLive && !q.Dense && only.MatchString(q.Name) {
			return true
		}
	}
	return false
}

// measure starts the cluster (with the webhook deciding from fx, when
// given), runs one phase and prints its report.
func measure(ctx context.Context, clusterDir string, fx *guardhook.Fixture, cfg livebench.Config) ([]string, error) {
	c, err := start(ctx, clusterDir, fx)
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	cfg.Kubeconfig, cfg.Rest = c.Kubeconfig, c.Config
	rep, err := livebench.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	fmt.Println()
	if fx != nil {
		fmt.Printf("with a guard-like Azure RBAC webhook after RBAC (%d role assignments):\n", len(fx.Assignments))
	}
	rep.Print(os.Stdout)
	return rep.Missed(), nil
}

// start starts the control plane on clusterDir; with fx, its authorizer
// chain is Node, RBAC and a guard-like webhook served by this process.
func start(ctx context.Context, clusterDir string, fx *guardhook.Fixture) (*localcluster.Cluster, error) {
	o := localcluster.Options{Dir: clusterDir, Timeout: 5 * time.Minute}
	if fx != nil {
		if err := os.MkdirAll(clusterDir, 0o700); err != nil {
			return nil, err
		}
		ready, failed := make(chan string, 1), make(chan error, 1)
		go func() {
			failed <- localcluster.ServeWebhook(ctx, clusterDir, guardhook.Handler(fx.Decide), func(p string) error { ready <- p; return nil })
		}()
		select {
		case o.AuthorizationConfig = <-ready:
		case err := <-failed:
			return nil, fmt.Errorf("the guard-like webhook: %w", err)
		}
	}
	fmt.Printf("starting the local control plane on %s\n", clusterDir)
	t0 := time.Now()
	c, err := localcluster.Start(ctx, o)
	if err != nil {
		return nil, err
	}
	fmt.Printf("ready in %s\n", time.Since(t0).Round(100*time.Millisecond))
	return c, nil
}
