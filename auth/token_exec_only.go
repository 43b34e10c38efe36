//go:build darwin && !cgo

package auth

import (
	"context"

	"k8s.io/client-go/rest"
)

// InProcessAvailable is false in macOS builds without cgo: kubelogin's Go
// package needs cgo there (its token cache uses the keychain), so every
// --login goes through the kubelogin exec plugin. Release builds for macOS
// are made without cgo (cross-compiled from Linux), so on macOS kubelogin
// must be installed.
const InProcessAvailable = false

func (l *Login) applyInProcess(*rest.Config) (*rest.Config, bool) { return nil, false }

// InProcess is always false here.
func (l *Login) InProcess() bool { return false }

// GraphToken is never used here (InProcess is false).
func (l *Login) GraphToken(string) func(context.Context) (string, error) { return nil }
