package access_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/loading"
)

func offline(file string) func(context.Context) (*access.App, error) {
	return func(context.Context) (*access.App, error) {
		return &access.App{Files: []string{file}, Catalog: loading.Builtin(), Origin: access.Origin{Files: []string{file}}}, nil
	}
}

// TestFleetEach: members run at most Parallel at a time, each result in
// the fleet's order with its own error (signing in, loading, asking), and
// progress is told once as each starts and once as it ends.
func TestFleetEach(t *testing.T) {
	var running, peak atomic.Int64
	slow := func(next func(context.Context) (*access.App, error)) func(context.Context) (*access.App, error) {
		return func(ctx context.Context) (*access.App, error) {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			running.Add(-1)
			return next(ctx)
		}
	}
	fl := &access.Fleet{Parallel: 2}
	for i := range 6 {
		m := access.Member{Context: fmt.Sprintf("c%d", i), Connect: slow(offline("../testdata/fleet/prod-east.yaml"))}
		switch i {
		case 2:
			m.Connect = slow(func(context.Context) (*access.App, error) { return nil, errors.New("sign-in refused") })
		case 4:
			m.Connect = slow(offline("testdata/does-not-exist.yaml"))
		}
		fl.Members = append(fl.Members, m)
	}
	var mu sync.Mutex
	started, ended := map[string]int{}, map[string]int{}
	fl.Progress = func(p access.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Of != 6 {
			t.Errorf("progress of %d", p.Of)
		}
		if p.Done {
			ended[p.Context]++
		} else {
			started[p.Context]++
		}
	}
	asked := make([]bool, 6)
	results := fl.Each(t.Context(), access.Whole, func(i int, s *access.Session) error {
		asked[i] = true
		if i == 5 {
			return errors.New("the question failed")
		}
		return nil
	})
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("%d members ran at once, Parallel is 2", p)
	}
	for i, r := range results {
		if r.Context != fmt.Sprintf("c%d", i) {
			t.Errorf("result %d is %s", i, r.Context)
		}
		wantErr := i == 2 || i == 4 || i == 5
		if (r.Err != nil) != wantErr {
			t.Errorf("%s: err %v", r.Context, r.Err)
		}
		if asked[i] != (i != 2 && i != 4) {
			t.Errorf("%s: asked %v", r.Context, asked[i])
		}
		if started[r.Context] != 1 || ended[r.Context] != 1 {
			t.Errorf("%s: progress %d starts, %d ends", r.Context, started[r.Context], ended[r.Context])
		}
	}
}

// TestFleetAudit: a report per member in order, statuses from how each
// ended, and nothing started once the context has ended.
func TestFleetAudit(t *testing.T) {
	fl := &access.Fleet{Parallel: 1, Members: []access.Member{
		{Context: "east", Server: "https://east", Connect: offline("../testdata/fleet/prod-east.yaml")},
		{Context: "down", Connect: func(context.Context) (*access.App, error) { return nil, errors.New("connection refused") }},
		{Context: "west", Connect: offline("../testdata/fleet/prod-west.yaml")},
	}}
	var each []string
	rep := fl.Audit(t.Context(), access.AuditOptions{}, func(m access.Member, _ *access.Session, r *audit.Report) {
		each = append(each, m.Context)
		r.InNamespace("payments")
	})
	if len(rep.Clusters) != 3 || rep.Clusters[0].Status != audit.StatusOK || rep.Clusters[1].Status != audit.StatusError ||
		rep.Clusters[1].Error != "connection refused" || rep.Clusters[1].Report != nil || rep.Clusters[2].Report == nil {
		t.Fatalf("%+v", rep.Clusters)
	}
	if fmt.Sprint(each) != "[east west]" || rep.Clusters[0].Report.Namespace == nil {
		t.Errorf("each called for %v; east narrowed: %v", each, rep.Clusters[0].Report.Namespace)
	}
	if rep.Summary.Clusters != 3 || rep.Summary.Failed != 1 || rep.Summary.Critical != 4 { // default-policy findings keep their severity in the summary
		t.Errorf("summary %+v", rep.Summary)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rep = fl.Audit(ctx, access.AuditOptions{}, nil)
	for _, c := range rep.Clusters {
		if c.Status != audit.StatusError || c.Error != context.Canceled.Error() {
			t.Errorf("after Ctrl-C %s: %s %q", c.Context, c.Status, c.Error)
		}
	}
}
