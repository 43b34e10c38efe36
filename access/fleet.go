package access

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/loading"
)

// DefaultParallel is how many clusters of a fleet are read at once when
// the caller does not say.
const DefaultParallel = 4

// Fleet is many clusters (or their saved snapshots) asked the same
// question. Each member is connected, loaded, asked and released in turn,
// at most Parallel at a time: what is kept is each member's answer, never
// its index, so memory grows with Parallel, not with the fleet.
type Fleet struct {
	Members  []Member
	Parallel int
	// Progress, when set, is told when each member starts and ends; it is
	// called from the members' goroutines, one call at a time.
	Progress func(Progress)
}

// Member is one cluster of a fleet.
type Member struct {
	// Context names the cluster: the kubeconfig context, or offline the
	// context its snapshot was saved from.
	Context string
	Server  string
	// Connect readies the member's App: signing in is done before (one
	// member at a time, on the terminal); what Connect does (discovery,
	// the server's version) runs in parallel with the other members. An
	// error is the member's, reported with it.
	Connect func(context.Context) (*App, error)
}

// Progress is one step of a fleet's work.
type Progress struct {
	Index, Of int
	Context   string
	// Done is false when the member starts; when true, Err, Incomplete
	// and Took say how it ended.
	Done       bool
	Err        error
	Incomplete bool
	Took       time.Duration
}

// Whole is the scope of an audit or a snapshot: everything.
func Whole(*App) (loading.Scope, error) { return loading.Full, nil }

// Result is what Each gives for one member.
type Result struct {
	Member
	// App is the member's (nil when it could not connect).
	App *App
	// Err is why the member has no answer: it could not sign in, connect
	// or load, or the question failed.
	Err error
	// Incomplete: the member's view lacked parts (a forbidden LIST).
	Incomplete bool
}

// Each connects every member, opens the scope scope gives for its app
// (what a request needs depends on what the cluster serves), and calls
// ask with the session,
// at most Parallel members at a time. The session is released when ask
// returns: ask keeps what it needs of the answer. When ctx ends, the
// members not yet started end with its error.
func (f *Fleet) Each(ctx context.Context, scope func(*App) (loading.Scope, error), ask func(i int, s *Session) error) []Result {
	results := make([]Result, len(f.Members))
	par := f.Parallel
	if par <= 0 {
		par = DefaultParallel
	}
	var mu sync.Mutex
	report := func(p Progress) {
		if f.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		p.Of = len(f.Members)
		f.Progress(p)
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, m := range f.Members {
		results[i].Member = m
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i].Err = ctx.Err()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			start := time.Now()
			report(Progress{Index: i, Context: m.Context})
			r := &results[i]
			r.App, r.Err = f.run(ctx, m, scope, func(s *Session) error {
				r.Incomplete = s.Incomplete()
				return ask(i, s)
			})
			report(Progress{Index: i, Context: m.Context, Done: true, Err: r.Err, Incomplete: r.Incomplete, Took: time.Since(start)})
		}()
	}
	wg.Wait()
	return results
}

func (f *Fleet) run(ctx context.Context, m Member, scopeOf func(*App) (loading.Scope, error), ask func(*Session) error) (*App, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.Connect == nil {
		return nil, errors.New("internal error: a fleet member without Connect")
	}
	app, err := m.Connect(ctx)
	if err != nil {
		return nil, err
	}
	scope, err := scopeOf(app)
	if err != nil {
		return app, err
	}
	sess, err := app.Open(ctx, scope)
	if err != nil {
		return app, err
	}
	return app, ask(sess)
}

// Audit audits every member (then calls each, when set, with the session
// and the report, e.g. to narrow it to a namespace) and joins the reports into one fleet
// report, a cluster per member in the fleet's order.
func (f *Fleet) Audit(ctx context.Context, o AuditOptions, each func(Member, *Session, *audit.Report)) *audit.FleetReport {
	reports := make([]*audit.Report, len(f.Members))
	results := f.Each(ctx, Whole, func(i int, s *Session) error {
		rep := s.Audit(o)
		if each != nil {
			each(f.Members[i], s, rep)
		}
		reports[i] = rep
		return nil
	})
	clusters := make([]audit.FleetCluster, len(results))
	for i, r := range results {
		c := audit.FleetCluster{Context: r.Context, Server: r.Server, Report: reports[i], Status: audit.ClusterStatus(reports[i], r.Err)}
		if r.Err != nil {
			c.Error, c.Report = r.Err.Error(), nil
		}
		clusters[i] = c
	}
	return audit.NewFleetReport(clusters)
}
