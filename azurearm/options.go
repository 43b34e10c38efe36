// Package azurearm loads, from Azure Resource Manager (ARM), what Azure RBAC
// for Kubernetes authorization decides with for one AKS cluster (the role
// assignments that reach it, the role definitions they name and the deny
// assignments), and finds the AKS cluster behind a kubeconfig's server.
//
// A partial view is never shown as a denial: a scope ARM refuses or keeps
// failing on becomes a gap in azurerbac.Data, which makes every answer Azure
// could change incomplete. Only what would make every call fail (no token,
// a token ARM refuses, no route to ARM, a cancelled context) is an error.
package azurearm

import (
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
)

// DefaultParallel is how many ARM calls are in flight when
// Options.Parallel is not set: enough to hide ARM's latency for hundreds of
// namespaces, well below the read throttling limits ARM applies per
// principal.
const DefaultParallel = 8

// Options of a load.
type Options struct {
	// Credential gets the tokens for ARM (see Credential).
	Credential azcore.TokenCredential
	// ClientOptions are the cloud configuration (ARM endpoint and token
	// audience), retry and transport; nil is the Azure public cloud with
	// azcore's defaults, whose retry policy retries throttling (429) and
	// server errors and honours Retry-After.
	ClientOptions *arm.ClientOptions
	// Parallel is the number of ARM calls in flight; 0 is DefaultParallel.
	Parallel int
	// GraphURL is Microsoft Graph's endpoint (DefaultGraphURL when
	// empty; sovereign clouds have their own).
	GraphURL string
	// Progress, when set, is called each time a scope has been read, with
	// how many of the total have; calls are never concurrent.
	Progress func(done, total int)
	// Posture, when set, reads the managed clusters' settings in one
	// Azure Resource Graph query for every cluster loaded with these
	// options (a fleet's); nil reads each cluster's with its own GET.
	Posture *PostureCache
	// PollFrequency is how often a managed cluster's update is asked
	// after when ARM does not say (Retry-After); 0 is
	// DefaultPollFrequency.
	PollFrequency time.Duration
}

func (o Options) parallel() int {
	if o.Parallel > 0 {
		return o.Parallel
	}
	return DefaultParallel
}

// armOptions copies the caller's options so that changing them does not
// change the caller's: resource provider registration is turned off, since
// these reads need no provider registered and registering one is a write
// the identity should not be asked to make.
func (o Options) armOptions() *arm.ClientOptions {
	var c arm.ClientOptions
	if o.ClientOptions != nil {
		c = *o.ClientOptions
	}
	c.DisableRPRegistration = true
	return &c
}
