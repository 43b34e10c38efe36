// Package identity holds the facts about who signs in that the pure layers
// (audit, the explorer, the application layer) need without signing in
// themselves: Entra group names and what a kubeconfig credential is. It
// imports neither client-go nor kubelogin; package auth produces these
// facts.
package identity
