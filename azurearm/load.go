package azurearm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"golang.org/x/sync/errgroup"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// atScope is the filter that makes ARM list what applies at a scope: what
// is assigned there and what is inherited from above, not what is assigned
// below it.
const atScope = "atScope()"

// Load reads what Azure RBAC decides with for the AKS cluster clusterID
// (/subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/NAME):
//   - the role assignments at the cluster's scope and inherited from above
//     it (resource group, subscription, management groups);
//   - for each of namespaces, the role assignments made at the namespace's
//     scope (CLUSTER_ID/namespaces/NS) itself, the inherited ones being
//     those of the cluster;
//   - the role definitions the assignments name, each read once; one ARM
//     does not know (404) is left out, which makes the answers it could
//     change unknown;
//   - the deny assignments at the cluster's scope and above, and at each
//     namespace's scope itself.
//
// A scope ARM refuses (403) or keeps failing on (after azcore's retries of
// throttling and server errors) becomes a gap in Data.Gaps, and the rest is
// loaded. The error is for what ends the load: no token (a *SignInError),
// a token ARM refuses, no route to ARM, ctx done.
func Load(ctx context.Context, clusterID string, namespaces []string, o Options) (*azurerbac.Data, error) {
	if o.Credential == nil {
		return nil, errors.New("load Azure RBAC: no Azure credential")
	}
	id, err := parseClusterID(clusterID)
	if err != nil {
		return nil, err
	}
	l, err := newLoader(id.SubscriptionID, o)
	if err != nil {
		return nil, err
	}
	// A namespace named twice would list its assignments twice, and an
	// empty name would list the cluster's again.
	scopes := make([]string, 0, 1+len(namespaces))
	scopes = append(scopes, clusterID)
	seen := map[string]bool{}
	for _, ns := range namespaces {
		if ns != "" && !seen[ns] {
			seen[ns] = true
			scopes = append(scopes, clusterID+"/namespaces/"+ns)
		}
	}
	// The managed cluster's own settings, first: who gets in through
	// Azure's control plane, and where its nodes are. Not reading them is
	// said, never a guard gap.
	var mc *azurerbac.ManagedCluster
	var clusterGap string
	if o.Posture != nil {
		mc, _ = o.Posture.cluster(ctx, clusterID, o)
	}
	if mc == nil {
		switch m, rerr := ReadManagedCluster(ctx, clusterID, o); {
		case rerr == nil:
			mc = m
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			clusterGap = "the managed cluster's settings could not be read: " + rerr.Error()
		}
	}
	if mc != nil && mc.UsesServicePrincipal() {
		c := *mc // the posture cache's is shared
		c.ServicePrincipalSecrets = servicePrincipalSecrets(ctx, c.ServicePrincipal, o)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		mc = &c
	}
	// Who can run commands on, or write, the nodes' VMs is root on a
	// node: the node resource group's own assignments are read too, unless
	// AKS locks the group (restrictionLevel ReadOnly).
	nodeRG := ""
	if mc != nil && mc.NodeResourceGroup != "" && !strings.EqualFold(mc.NodeResourceGroupRestriction, "ReadOnly") {
		nodeRG = "/subscriptions/" + id.SubscriptionID + "/resourceGroups/" + mc.NodeResourceGroup
		scopes = append(scopes, nodeRG)
	}
	d, err := l.load(ctx, clusterID, scopes)
	if err != nil {
		return nil, err
	}
	d.Cluster, d.ClusterGap = mc, clusterGap
	if nodeRG != "" {
		// Only the doors depend on the node resource group: what of it
		// could not be read leaves guard's answers whole.
		var kept []string
		for _, g := range d.Gaps {
			if strings.Contains(strings.ToLower(g), " at "+strings.ToLower(nodeRG)+":") {
				d.DoorGaps = append(d.DoorGaps, g)
			} else {
				kept = append(kept, g)
			}
		}
		d.Gaps = kept
	}
	return d, nil
}

// ReadManagedCluster reads the AKS cluster's own settings (ARM's GET of
// the managed cluster, the call --azure-cluster-id is checked with).
func ReadManagedCluster(ctx context.Context, clusterID string, o Options) (*azurerbac.ManagedCluster, error) {
	r, err := newREST(o)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := r.get(ctx, r.url(clusterID, managedClustersAPI), &raw); err != nil {
		return nil, err
	}
	return azurerbac.ParseManagedCluster(raw)
}

// parseClusterID checks that id names an AKS cluster, the only scope Azure
// RBAC for Kubernetes authorization checks at.
func parseClusterID(id string) (*arm.ResourceID, error) {
	r, err := arm.ParseResourceID(id)
	if err != nil || !strings.EqualFold(r.ResourceType.String(), "Microsoft.ContainerService/managedClusters") || r.SubscriptionID == "" {
		return nil, fmt.Errorf("%q is not an AKS cluster's resource id: want /subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.ContainerService/managedClusters/NAME (az aks show -g GROUP -n NAME --query id)", id)
	}
	return r, nil
}

// loader is one load: the clients, the bound on calls in flight, and the
// role definitions asked for so far.
type loader struct {
	assignments *armauthorization.RoleAssignmentsClient
	definitions *armauthorization.RoleDefinitionsClient
	denies      *armauthorization.DenyAssignmentsClient
	eligible    *armauthorization.RoleEligibilityScheduleInstancesClient
	// inFlight bounds the ARM calls, not the goroutines: a goroutine per
	// scope keeps the code straight, a token per call keeps ARM's load to
	// Parallel.
	inFlight chan struct{}
	progress func(done, total int)

	mu          sync.Mutex
	done, total int
	roles       map[string]*roleSlot // by roleKey
	group       *errgroup.Group
}

// roleSlot is one role definition's read, filled by its goroutine.
type roleSlot struct {
	key  string
	id   string
	role *azurerbac.RoleDefinition
	gap  string
}

// scopeRead is what one list at one scope gave.
type scopeRead[T any] struct {
	items []T
	gap   string
}

func newLoader(subscription string, o Options) (*loader, error) {
	cred, opts := signInCredential{cred: o.Credential}, o.armOptions()
	ra, err := armauthorization.NewRoleAssignmentsClient(subscription, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("create the ARM client: %w", err)
	}
	rd, err := armauthorization.NewRoleDefinitionsClient(cred, opts)
	if err != nil {
		return nil, fmt.Errorf("create the ARM client: %w", err)
	}
	da, err := armauthorization.NewDenyAssignmentsClient(subscription, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("create the ARM client: %w", err)
	}
	el, err := armauthorization.NewRoleEligibilityScheduleInstancesClient(cred, opts)
	if err != nil {
		return nil, fmt.Errorf("create the ARM client: %w", err)
	}
	return &loader{assignments: ra, definitions: rd, denies: da, eligible: el,
		inFlight: make(chan struct{}, o.parallel()), progress: o.Progress,
		roles: map[string]*roleSlot{}}, nil
}

// load reads scopes[0] (the cluster, with what it inherits) and the
// namespace scopes after it (each by itself), and the role definitions as
// assignments name them.
func (l *loader) load(ctx context.Context, clusterID string, scopes []string) (*azurerbac.Data, error) {
	g, gctx := errgroup.WithContext(ctx)
	l.group = g
	l.total = 3 * len(scopes)
	assigned := make([]scopeRead[azurerbac.Assignment], len(scopes))
	denied := make([]scopeRead[azurerbac.DenyAssignment], len(scopes))
	eligible := make([]scopeRead[azurerbac.EligibleAssignment], len(scopes))
	for i, scope := range scopes {
		// Only the cluster's list keeps what is inherited: a namespace's
		// list repeats it.
		exact := i > 0
		g.Go(func() error {
			r, err := l.listAssignments(gctx, scope, exact)
			assigned[i] = r
			l.finished()
			return err
		})
		g.Go(func() error {
			r, err := l.listDenies(gctx, scope, exact)
			denied[i] = r
			l.finished()
			return err
		})
		g.Go(func() error {
			r, err := l.listEligible(gctx, scope, exact)
			eligible[i] = r
			l.finished()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}

	d := &azurerbac.Data{ClusterID: clusterID}
	for i := range scopes {
		d.Assignments = append(d.Assignments, assigned[i].items...)
		d.Denies = append(d.Denies, denied[i].items...)
		for _, gap := range []string{assigned[i].gap, denied[i].gap} {
			if gap != "" {
				d.Gaps = append(d.Gaps, gap)
			}
		}
		// What PIM could not list leaves the eligible lists partial, never
		// the active answers.
		d.Eligible = append(d.Eligible, eligible[i].items...)
		if gap := eligible[i].gap; gap != "" {
			d.EligibleGaps = append(d.EligibleGaps, gap)
		}
	}
	roles, gaps := l.rolesRead()
	d.Roles, d.Gaps = append(d.Roles, roles...), append(d.Gaps, gaps...)
	return d, nil
}

// rolesRead are the role definitions the loader read, and why the others
// could not be. They are asked for in the order the lists happen to
// finish: sorted by GUID, the same ARM state gives the same Data.
func (l *loader) rolesRead() (roles []azurerbac.RoleDefinition, gaps []string) {
	slots := make([]*roleSlot, 0, len(l.roles))
	for _, s := range l.roles {
		slots = append(slots, s)
	}
	slices.SortFunc(slots, func(a, b *roleSlot) int { return strings.Compare(a.key, b.key) })
	for _, s := range slots {
		if s.role != nil {
			roles = append(roles, *s.role)
		}
		if s.gap != "" {
			gaps = append(gaps, s.gap)
		}
	}
	return roles, gaps
}

// call makes one ARM call (one page) once a slot is free.
func (l *loader) call(ctx context.Context, do func(context.Context) error) error {
	select {
	case l.inFlight <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.inFlight }()
	return do(ctx)
}

// drain reads a pager's pages, each as one call, handing each to page.
func drain[R any](ctx context.Context, l *loader, p *runtime.Pager[R], page func(R)) error {
	for p.More() {
		var resp R
		err := l.call(ctx, func(ctx context.Context) (err error) {
			resp, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return err
		}
		page(resp)
	}
	return nil
}

func (l *loader) finished() {
	if l.progress == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done++
	l.progress(l.done, l.total)
}

// listAssignments lists the role assignments at scope (exact: those made
// at scope itself) and asks for the role definitions they name. What was
// read before a failure is kept: the gap says the list is partial.
func (l *loader) listAssignments(ctx context.Context, scope string, exact bool) (scopeRead[azurerbac.Assignment], error) {
	var r scopeRead[azurerbac.Assignment]
	p := l.assignments.NewListForScopePager(scope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: new(atScope)})
	err := drain(ctx, l, p, func(page armauthorization.RoleAssignmentsClientListForScopeResponse) {
		for _, v := range page.Value {
			a, ok := assignment(v)
			if !ok || exact && !sameScope(a.Scope, scope) {
				continue
			}
			r.items = append(r.items, a)
			l.wantRole(ctx, a.RoleDefinitionID)
		}
	})
	if err != nil {
		gap, fatal := classify(ctx, "role assignments at "+scope, assignmentsHint, err)
		r.gap = gap
		return r, fatal
	}
	return r, nil
}

// listDenies lists the deny assignments at scope (exact: those made at
// scope itself).
func (l *loader) listDenies(ctx context.Context, scope string, exact bool) (scopeRead[azurerbac.DenyAssignment], error) {
	var r scopeRead[azurerbac.DenyAssignment]
	p := l.denies.NewListForScopePager(scope, &armauthorization.DenyAssignmentsClientListForScopeOptions{Filter: new(atScope)})
	err := drain(ctx, l, p, func(page armauthorization.DenyAssignmentsClientListForScopeResponse) {
		for _, v := range page.Value {
			x, ok := denyAssignment(v)
			if !ok || exact && !sameScope(x.Scope, scope) {
				continue
			}
			r.items = append(r.items, x)
		}
	})
	if err != nil {
		gap, fatal := classify(ctx, "deny assignments at "+scope, deniesHint, err)
		r.gap = gap
		return r, fatal
	}
	return r, nil
}

// listEligible lists the eligible role assignments (PIM for Azure
// resources: roleEligibilityScheduleInstances) at scope (exact: those made
// at scope itself), and asks for the role definitions they name.
func (l *loader) listEligible(ctx context.Context, scope string, exact bool) (scopeRead[azurerbac.EligibleAssignment], error) {
	var r scopeRead[azurerbac.EligibleAssignment]
	p := l.eligible.NewListForScopePager(scope, &armauthorization.RoleEligibilityScheduleInstancesClientListForScopeOptions{Filter: new(atScope)})
	err := drain(ctx, l, p, func(page armauthorization.RoleEligibilityScheduleInstancesClientListForScopeResponse) {
		for _, v := range page.Value {
			e, ok := eligibleAssignment(v)
			if !ok || exact && !sameScope(e.Scope, scope) {
				continue
			}
			r.items = append(r.items, e)
			l.wantRole(ctx, e.RoleDefinitionID)
		}
	})
	if err != nil {
		gap, fatal := classify(ctx, "eligible role assignments (PIM) at "+scope, eligibleHint, err)
		r.gap = gap
		return r, fatal
	}
	return r, nil
}

// wantRole starts reading role definition id unless it was asked for
// already: by its GUID, as the engine looks roles up, since the same role
// is named at the subscription and at the tenant.
func (l *loader) wantRole(ctx context.Context, id string) {
	if id == "" {
		return
	}
	k := strings.ToLower(path.Base(id))
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.roles[k]; ok {
		return
	}
	s := &roleSlot{key: k, id: id}
	l.roles[k] = s
	// The group is still running (its caller is one of its goroutines), so
	// Go cannot race with Wait.
	l.group.Go(func() error {
		var resp armauthorization.RoleDefinitionsClientGetByIDResponse
		err := l.call(ctx, func(ctx context.Context) (err error) {
			resp, err = l.definitions.GetByID(ctx, id, nil)
			return err
		})
		if err != nil {
			var re *azcore.ResponseError
			if errors.As(err, &re) && re.StatusCode == http.StatusNotFound && ctx.Err() == nil {
				return nil
			}
			gap, fatal := classify(ctx, "role definition "+id, rolesHint, err)
			s.gap = gap
			return fatal
		}
		if r, ok := roleDefinition(&resp.RoleDefinition); ok {
			s.role = &r
		}
		return nil
	})
}

// sameScope compares ARM scopes as ARM does: case-insensitively, a
// trailing slash aside.
func sameScope(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
}
