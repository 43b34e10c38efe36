#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kubectl (the fix
# tests run the kubectl commands the tool prints), kubelogin (the Entra ID
# sign-in test; its own module in tools/kubelogin, built with GOTOOLCHAIN=auto
# as it needs a newer Go than the machine's) and metrics-server (every AKS
# cluster serves metrics.k8s.io; its own module in tools/metricsserver)
# from the Go modules
# pinned in tools/go.mod, caches them under a key of everything that decides
# their bytes (tools/go.mod, go.sum, the etcd wrapper, the Go version), and
# links the cached set into .cache/bin. A second run with the same pins only
# relinks. The cache lives outside the work tree ($KUBECTL_ACCESS_CACHE,
# default ~/.cache/kubectl-access) so fresh clones on the same machine reuse it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/tools"

key=$( { cat go.mod go.sum etcd/main.go kubelogin/go.mod kubelogin/go.sum metricsserver/go.mod metricsserver/go.sum; go version; } | sha256sum | cut -c1-16)
cache=${KUBECTL_ACCESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-access}/controlplane/$key
bins=(etcd kube-apiserver kube-controller-manager kubectl kubelogin metrics-server)

have=1
for b in "${bins[@]}"; do [ -x "$cache/$b" ] || have=0; done
if [ "$have" = 0 ]; then
  echo "building the control plane from Go modules (first run takes about 10 minutes) into $cache"
  mkdir -p "$cache.tmp"
  k8s=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
  minor=$(echo "$k8s" | cut -d. -f2)
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$k8s"
  go build -trimpath -ldflags "-s -w" -o "$cache.tmp/etcd" ./etcd
  go build -trimpath -ldflags "$ldflags" -o "$cache.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  go build -trimpath -ldflags "$ldflags" -o "$cache.tmp/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
  go build -trimpath -ldflags "$ldflags" -o "$cache.tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
  (cd kubelogin && GOTOOLCHAIN=auto go build -trimpath -ldflags "-s -w" -o "$cache.tmp/kubelogin" github.com/Azure/kubelogin)
  (cd metricsserver && go build -trimpath -ldflags "-s -w" -o "$cache.tmp/metrics-server" sigs.k8s.io/metrics-server/cmd/metrics-server)
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi
mkdir -p "$root/.cache/bin"
for b in "${bins[@]}"; do ln -sf "$cache/$b" "$root/.cache/bin/$b"; done
echo "control plane: $root/.cache/bin -> $cache"
