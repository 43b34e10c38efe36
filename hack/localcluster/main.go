// Command localcluster is `make cluster`, `make cluster-down` and the
// cluster of `make demo-azure`: it starts the local control plane in the
// background (or stops it) in a directory.
//
//	go run ./hack/localcluster up   [-dir .cache/cluster] [-azure-cluster-id ID -azure-files A,B,C]
//	go run ./hack/localcluster down [-dir .cache/cluster]
//
// With -azure-files, the API server's authorizer chain is Node, RBAC and a
// guard-like webhook (internal/testkit/guardhook) deciding from those az
// and ARM JSON files for the AKS cluster -azure-cluster-id, as an AKS
// cluster with Azure RBAC for Kubernetes authorization decides. The
// webhook is this program again (guard-webhook), detached with the
// cluster and stopped with it.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kubectl-access/kubectl-access/internal/testkit/guardhook"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
)

const webhook = "guard-webhook"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: localcluster up|down [-dir DIR] [-azure-cluster-id ID -azure-files A,B,C]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", ".cache/cluster", "directory for the cluster's state and kubeconfig")
	clusterID := fs.String("azure-cluster-id", "", "with -azure-files: the AKS cluster's resource id the webhook decides for")
	files := fs.String("azure-files", "", "comma-separated az and ARM JSON files (role assignments, role definitions, deny assignments): chain a guard-like webhook deciding from them after RBAC")
	_ = fs.Parse(os.Args[2:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var list []string
	if *files != "" {
		list = strings.Split(*files, ",")
	}
	if err := run(ctx, os.Args[1], *dir, *clusterID, list); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, command, dir, clusterID string, files []string) error {
	switch command {
	case "up":
		o := localcluster.Options{Dir: dir}
		what := "etcd, kube-apiserver with Node,RBAC and NodeRestriction, kube-controller-manager"
		if len(files) > 0 {
			if clusterID == "" {
				return errors.New("-azure-files needs -azure-cluster-id")
			}
			// Read them here first, so a bad file fails now and not in
			// the detached webhook.
			if _, err := guardhook.ReadAzJSON(clusterID, files...); err != nil {
				return err
			}
			// What the webhook decides from: a cluster whose webhook
			// serves other files (edited since, or others) starts again.
			h := sha256.New()
			fmt.Fprintf(h, "%s\n", clusterID)
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				fmt.Fprintf(h, "%s %d\n", f, len(b))
				h.Write(b)
			}
			key := hex.EncodeToString(h.Sum(nil))
			o.Helper, o.HelperKey, o.BeforeStart = webhook, key, startWebhook(dir, key, clusterID, files)
			what = "etcd, kube-apiserver with Node, RBAC and a guard-like Azure RBAC webhook, NodeRestriction, kube-controller-manager"
		}
		kc, started, err := localcluster.Up(ctx, o)
		if err != nil {
			return err
		}
		if started {
			fmt.Printf("local cluster started (%s)\n", what)
		} else {
			fmt.Println("local cluster already running")
		}
		down := "go run ./hack/localcluster down -dir " + dir
		switch dir {
		case ".cache/cluster":
			down = "make cluster-down"
		case ".cache/demo-azure":
			down = "make demo-azure-down"
		}
		fmt.Printf("kubeconfig: %s\n  export KUBECONFIG=%s\nstop it with: %s\n", kc, kc, down)
		return nil
	case "down":
		if err := localcluster.Down(dir); err != nil {
			return err
		}
		fmt.Println("local cluster stopped")
		return nil
	case webhook:
		// The detached webhook: serve until stopped, after writing the
		// authorization config and then the ready file Up waits for.
		f, err := guardhook.ReadAzJSON(clusterID, files...)
		if err != nil {
			return err
		}
		return localcluster.ServeWebhook(ctx, dir, guardhook.Handler(f.Decide), func(string) error {
			fmt.Printf("guard-like webhook for %s: %d role assignments, %d role definitions, %d deny assignments\n", clusterID, len(f.Assignments), len(f.Roles), len(f.Denies))
			return os.WriteFile(filepath.Join(dir, webhook+".ready"), nil, 0o600)
		})
	}
	return fmt.Errorf("unknown command %q: use up or down", command)
}

// startWebhook starts this program as the detached webhook before the
// control plane, and points the API server's authorization at it.
func startWebhook(dir, key, clusterID string, files []string) func(context.Context, *localcluster.Options) error {
	return func(ctx context.Context, o *localcluster.Options) error {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		abs := make([]string, len(files))
		for i, f := range files {
			if abs[i], err = filepath.Abs(f); err != nil {
				return err
			}
		}
		absDir, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		argv := []string{self, webhook, "-dir", absDir, "-azure-cluster-id", clusterID, "-azure-files", strings.Join(abs, ",")}
		if err := localcluster.StartHelper(ctx, dir, webhook, key, filepath.Join(dir, webhook+".ready"), argv); err != nil {
			return err
		}
		o.AuthorizationConfig = filepath.Join(absDir, "authorization-config.json")
		return nil
	}
}
