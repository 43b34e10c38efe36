# kubectl access: build, test and run targets. The targets named in
# docs/architecture.md#contracts (build, test, cluster, cluster-down) are a
# contract.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
PKG     := github.com/kubectl-access/kubectl-access
LDFLAGS := -s -w -X $(PKG)/internal/version.Version=$(VERSION) -X $(PKG)/internal/version.Commit=$(COMMIT)
GOFLAGS_BUILD := -trimpath -ldflags "$(LDFLAGS)"
CONTROLPLANE_BIN := $(CURDIR)/.cache/bin
# go.mod needs Go 1.26.10 (kubelogin's Go package does); Debian's and this
# machine's go.env say GOTOOLCHAIN=local, so ask for the toolchain go.mod
# names, which the go command fetches once through the module proxy.
export GOTOOLCHAIN := auto
export KUBECTL_ACCESS_CONTROLPLANE_BIN := $(CONTROLPLANE_BIN)
TEST_TIMEOUT ?= 60m
BENCH_RUNS ?= 5

.PHONY: help
help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build bin/kubectl-access
	CGO_ENABLED=0 go build $(GOFLAGS_BUILD) -o bin/kubectl-access ./cmd/kubectl-access

.PHONY: controlplane
controlplane: ## Build (or reuse) etcd, kube-apiserver, kube-controller-manager, kubectl and kubelogin from Go modules
	@hack/controlplane.sh

# The fuzz targets: the manifest reader and its tree-less YAML converter
# (against sigs.k8s.io/yaml), subject and resource parsing, rule
# matching, the shell and terminal escaping, the JSON indenter of streamed
# output, and group resolution with a names file. Their corpora (testdata/fuzz)
# run with every go test; make test fuzzes each besides, for a number of
# inputs (about ten seconds each here) rather than a duration: Go 1.26's
# fuzz coordinator can fail a duration-bounded run with "context deadline
# exceeded" at its end though no input failed (go.dev/issue/75804, fixed in
# Go 1.27). FUZZ_SCALE multiplies the counts.
FUZZ_TARGETS := ./source:FuzzRead:60000 ./source:FuzzYAMLJSON:40000 ./rbac:FuzzParseSubject:200000 ./rbac:FuzzRuleAllows:200000 \
	./cluster:FuzzResolve:15000 ./internal/safe:FuzzTerminal:200000 ./internal/safe:FuzzShell:1500 ./internal/safe:FuzzJSON:60000 ./internal/document:FuzzIndent:5000 ./rbac:FuzzObjectRefJSON:50000 \
	./identity:FuzzResolve:100000
FUZZ_SCALE ?= 1

.PHONY: test
test: testdeps controlplane build ## Run every test (unit and integration against a real API server), with -race, then the fuzz targets
	go test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	@$(MAKE) --no-print-directory fuzz

.PHONY: testdeps
testdeps: ## Install the Debian packages the tests need (tmux, bash-completion) when missing; as root only
	@hack/testdeps.sh

.PHONY: fuzz
fuzz: ## Fuzz each target for its number of inputs (times FUZZ_SCALE); a failing input is written to the package's testdata/fuzz
	@log=$$(mktemp); for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; n=$$(( $${rest##*:} * $(FUZZ_SCALE) )); \
	  echo "fuzz $$pkg $$name ($$n inputs)"; \
	  go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $${n}x $$pkg >$$log 2>&1 || { cat $$log; rm -f $$log; exit 1; }; \
	done; rm -f $$log

.PHONY: test-unit
test-unit: ## Run the tests that need no control plane (fast feedback; make test runs everything)
	go test -race -count=1 -short ./...

.PHONY: cluster
cluster: controlplane ## Start a local cluster in the background; kubeconfig in .cache/cluster/kubeconfig
	@go run ./hack/localcluster up -dir .cache/cluster

# The demo's cluster directory: the same cluster as make cluster unless
# DEMO_DIR says otherwise (the demo test uses its own).
DEMO_DIR ?= .cache/cluster

.PHONY: demo demo-run
demo: controlplane build ## Start the local cluster, load the AKS-like demo (testdata/demo) and open the explorer
	@$(MAKE) --no-print-directory demo-run

# demo-run is demo without building: the demo test runs it inside make
# test, where a nested build would see another Go toolchain on PATH.
demo-run:
	@go run ./hack/localcluster up -dir $(DEMO_DIR)
	@go run ./hack/demo -dir $(DEMO_DIR)
	bin/kubectl-access --kubeconfig $(DEMO_DIR)/kubeconfig --group-names testdata/demo/group-names.json

# make demo-azure is the demo as an AKS cluster with Azure RBAC for
# Kubernetes authorization: the API server chains a guard-like webhook
# (internal/testkit/guardhook) after RBAC, deciding from the demo's Azure
# role assignments (testdata/demo/azure, az's JSON), and the explorer reads
# the same files with --azure-rbac-from. Its own cluster, so make demo's
# (where the documentation's examples run) stays plain Kubernetes RBAC.
DEMO_AZURE_DIR ?= .cache/demo-azure
DEMO_AZURE_CLUSTER := /subscriptions/8c1d5f2a-3b4e-4f6a-9d7c-2e5b8a1f0c3d/resourceGroups/rg-contoso-aks/providers/Microsoft.ContainerService/managedClusters/aks-contoso
DEMO_AZURE_FILES := testdata/demo/azure/assignments.json,testdata/demo/azure/roles.json,testdata/demo/azure/denies.json
# The managed cluster's settings (az aks show), read by the tool beside the
# role assignments: its ways in through Azure's control plane.
DEMO_AZURE_SETTINGS := testdata/demo/azure/cluster.json
# The Azure identities the demo's workloads act as (workload identity:
# payments/api's pods act as id-payments-api), read by the tool alone.
DEMO_AZURE_IDENTITIES := testdata/demo/azure/identities.json,testdata/demo/azure/federated-credentials.json

.PHONY: demo-azure demo-azure-run demo-azure-down
demo-azure: controlplane build ## The demo with Azure RBAC in the chain (a guard-like webhook and Azure role assignments, testdata/demo/azure)
	@$(MAKE) --no-print-directory demo-azure-run

demo-azure-run:
	@go run ./hack/localcluster up -dir $(DEMO_AZURE_DIR) -azure-cluster-id $(DEMO_AZURE_CLUSTER) -azure-files $(DEMO_AZURE_FILES)
	@go run ./hack/demo -dir $(DEMO_AZURE_DIR)
	bin/kubectl-access --kubeconfig $(DEMO_AZURE_DIR)/kubeconfig --group-names testdata/demo/group-names.json --azure-rbac-from $(DEMO_AZURE_FILES),$(DEMO_AZURE_SETTINGS),$(DEMO_AZURE_IDENTITIES) --azure-cluster-id $(DEMO_AZURE_CLUSTER)

demo-azure-down: ## Stop make demo-azure's cluster and its webhook
	@go run ./hack/localcluster down -dir $(DEMO_AZURE_DIR)

.PHONY: cluster-down
cluster-down: ## Stop the local cluster
	@go run ./hack/localcluster down -dir .cache/cluster

# golangci-lint, pinned in its own module (tools/lint) so its dependencies
# reach neither the plugin's go.mod nor the control plane's: built from the
# module proxy into .cache once, and again only when its pins change.
GOLANGCI_LINT := $(CURDIR)/.cache/lint/golangci-lint

$(GOLANGCI_LINT): tools/lint/go.mod tools/lint/go.sum
	cd tools/lint && go build -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

.PHONY: lint
lint: $(GOLANGCI_LINT) ## gofmt, go vet (both modules), go.mod tidy (every import listed directly), golangci-lint (.golangci.yml)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@go mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }
	go vet ./...
	cd tools && go vet ./etcd
	$(GOLANGCI_LINT) run ./...

.PHONY: bench
bench: controlplane build ## Benchmarks: the engine in memory, then the commands against LARGE in a local cluster (loaded once into .cache/bench)
	go test -run '^$$' -bench . -benchmem ./...
	go run ./hack/bench -dir .cache/bench -runs $(BENCH_RUNS)

.PHONY: cross
cross: ## Cross-compile for every krew platform with CGO_ENABLED=0
	@for p in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  echo "  $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build $(GOFLAGS_BUILD) -o bin/$$os-$$arch/kubectl-access$$ext ./cmd/kubectl-access || exit 1; \
	done

# The release version: the tag when HEAD has one, else a semantic
# pre-release of the commit (krew requires vMAJOR.MINOR.PATCH).
DIST_VERSION ?= $(shell git describe --tags --exact-match --match 'v*' 2>/dev/null || echo v0.0.0-dev.g$$(git rev-parse --short HEAD))

.PHONY: dist
dist: ## Release archives for every krew platform, checksums and the krew manifest, in dist/ (reproducible)
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) go run ./hack/dist -out dist -version $(DIST_VERSION) -commit $(COMMIT)

.PHONY: docs
docs: ## Regenerate docs/reference.md, the command reference, from the commands (a test checks it)
	go run ./hack/docs

.PHONY: clean
clean: cluster-down ## Stop the cluster and remove build outputs (the control-plane cache outside the tree stays)
	rm -rf bin .cache dist
