// Command demo loads testdata/demo into the local cluster of -dir (started
// by `make cluster`) and waits until the controllers have caught up; `make
// demo` then opens the explorer on it. Loading twice changes nothing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
)

func main() {
	dir := flag.String("dir", ".cache/cluster", "the local cluster's directory")
	data := flag.String("data", "testdata/demo/cluster.yaml", "the demo's objects")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := load(ctx, filepath.Join(*dir, "kubeconfig"), *data); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func load(ctx context.Context, kubeconfig, data string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("%w (start the cluster with make cluster)", err)
	}
	if err := localcluster.ApplyFiles(ctx, cfg, data); err != nil {
		return err
	}
	// The pods need their namespace's default service account, which the
	// controller manager creates a moment after the namespace.
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for _, ns := range []string{"payments", "web", "ci", "windows-apps"} {
		for {
			if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("namespace %s has no default service account yet: %w", ns, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	fmt.Printf("demo loaded from %s\n", data)
	return nil
}
