// Command localcluster is `make cluster` and `make cluster-down`: it starts
// the local control plane in the background (or stops it) in a directory.
//
//	go run ./hack/localcluster up   [-dir .cache/cluster]
//	go run ./hack/localcluster down [-dir .cache/cluster]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: localcluster up|down [-dir DIR]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", ".cache/cluster", "directory for the cluster's state and kubeconfig")
	_ = fs.Parse(os.Args[2:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch os.Args[1] {
	case "up":
		kc, started, err := localcluster.Up(ctx, localcluster.Options{Dir: *dir})
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		if started {
			fmt.Println("local cluster started (etcd, kube-apiserver with Node,RBAC and NodeRestriction, kube-controller-manager)")
		} else {
			fmt.Println("local cluster already running")
		}
		fmt.Printf("kubeconfig: %s\n  export KUBECONFIG=%s\nstop it with: make cluster-down\n", kc, kc)
	case "down":
		if err := localcluster.Down(*dir); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		fmt.Println("local cluster stopped")
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q: use up or down\n", os.Args[1])
		os.Exit(2)
	}
}
