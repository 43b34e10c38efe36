// Command bench is the live half of `make bench`: it starts the local
// control plane on a kept data directory, loads the LARGE synthetic cluster
// into it the first time, and measures the commands against the floor.
//
//	go run ./hack/bench [-dir .cache/bench] [-runs 5] [-scale 1] [-only REGEXP] [-check]
//	go run ./hack/bench -serve   # load, then keep the cluster up to explore
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
	flag.Parse()
	re, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: -only:", err)
		os.Exit(2)
	}
	if *only == "" {
		re = nil
	}
	if err := run(*dir, *bin, *runs, *scale, *seed, re, *check, *serve); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(dir, bin string, runs, scale int, seed uint64, only *regexp.Regexp, check, serve bool) error {
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
	fmt.Printf("starting the local control plane on %s\n", clusterDir)
	t0 := time.Now()
	c, err := localcluster.Start(ctx, localcluster.Options{Dir: clusterDir, Timeout: 5 * time.Minute})
	if err != nil {
		return err
	}
	defer c.Stop()
	fmt.Printf("ready in %s\n", time.Since(t0).Round(100*time.Millisecond))
	if serve {
		cs, err := kubernetes.NewForConfig(c.Config)
		if err != nil {
			return err
		}
		if _, err := livebench.Ensure(ctx, cs, sizes, seed, os.Stdout); err != nil {
			return err
		}
		fmt.Printf("serving; in another shell:\n  export KUBECONFIG=%s\nCtrl-C stops the cluster (the data stays)\n", c.Kubeconfig)
		<-ctx.Done()
		return nil
	}
	rep, err := livebench.Run(ctx, livebench.Config{
		Binary: bin, Kubeconfig: c.Kubeconfig, Rest: c.Config,
		Sizes: sizes, Seed: seed, Runs: runs, Progress: os.Stdout, Only: only,
	})
	if err != nil {
		return err
	}
	fmt.Println()
	rep.Print(os.Stdout)
	if missed := rep.Missed(); check && len(missed) > 0 {
		return fmt.Errorf("ceilings missed: %v", missed)
	}
	return nil
}
