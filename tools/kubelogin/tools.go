//go:build tools

// Package tools pins kubelogin, built by hack/controlplane.sh.
package tools

import _ "github.com/Azure/kubelogin"
