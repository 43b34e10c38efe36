package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/fix"
)

// AKSWait bounds how long fix --apply waits for ARM to finish updating a
// managed cluster (turning local accounts off takes minutes); Ctrl-C ends
// the wait sooner. The update goes on in Azure either way.
const AKSWait = 30 * time.Minute

// doAKS changes one setting of the managed cluster as az aks update does:
// GET the resource and its ETag, check the fix still applies to it (its
// guards hold, the setting still has another value), set that one
// setting, and PUT the resource back with If-Match, following the
// long-running operation to its end (bounded by AKSWait). The dry run
// stops before the PUT. before and after are ARM's resource, so the diff
// shows the PUT changes that one field alone.
func (a *App) doAKS(ctx context.Context, op fix.Operation, dryRun bool) (before, after map[string]any, err error) {
	z := a.Azure
	if z == nil || z.SignInErr != nil || z.ARM == nil {
		why := "run fix --apply with --azure-rbac, signed in to Azure"
		if z != nil && z.SignInErr != nil {
			why = z.SignInErr.Error()
		}
		return nil, nil, fmt.Errorf("this change is to the managed cluster's settings, made through Azure Resource Manager: %s; or run the az aks update command the fix prints", why)
	}
	rctx, cancel := context.WithTimeout(ctx, a.callTimeout())
	body, etag, err := z.ARM.ManagedClusterResource(rctx, op.Target.Name)
	cancel()
	if err != nil {
		return nil, nil, err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, nil, err
	}
	mc, err := azurerbac.ParseManagedCluster(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("read the managed cluster %s: %w", op.Target.Name, err)
	}
	if err := fix.CheckAKS(mc, op); err != nil {
		return nil, nil, err
	}
	after, err = fix.SetAKS(body, op)
	if err != nil {
		return nil, nil, err
	}
	if etag == "" {
		return nil, nil, fmt.Errorf("ARM gave no ETag for the managed cluster %s: it is not written without one (a change made meanwhile would be overwritten); run the az aks update command the fix prints", op.Target.Name)
	}
	if dryRun {
		return body, after, nil
	}
	wctx, cancel := context.WithTimeout(ctx, AKSWait)
	defer cancel()
	if err := z.ARM.PutManagedCluster(wctx, op.Target.Name, after, etag); err != nil {
		var ch interface{ Changed() bool }
		if errors.As(err, &ch) && ch.Changed() {
			return nil, nil, fmt.Errorf("%w: %v", fix.ErrChanged, err)
		}
		return nil, nil, err
	}
	return body, after, nil
}

// undoAKS is the operation that puts back the settings op changed, from
// the managed cluster as ARM gave it just before.
func undoAKS(op fix.Operation, before map[string]any) (fix.Operation, error) {
	raw, err := json.Marshal(before)
	if err != nil || len(before) == 0 {
		return fix.Operation{}, errors.New("the managed cluster was not read before")
	}
	mc, err := azurerbac.ParseManagedCluster(raw)
	if err != nil {
		return fix.Operation{}, err
	}
	return fix.UndoAKS(op, mc)
}
