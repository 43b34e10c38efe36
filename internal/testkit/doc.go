// Package testkit is the test-only side of the repository: the real local
// control plane (localcluster, clustertest), the LARGE generator (large),
// the live benchmark (livebench), the loopback Entra issuer (entratest)
// and issue 28's universe of hostile names (hostile). The product binary
// imports none of it (a test of the import graph holds it to that); the
// tests, `make bench`, `make cluster` and `make demo` do.
package testkit
