package livebench

import (
	"net/http"
	"sync/atomic"

	"k8s.io/client-go/rest"
)

// Counter counts the HTTP requests made through a config, for the
// benchmark's "API requests" figure of the floor.
type Counter struct{ n atomic.Int64 }

// Wrap installs the counter on cfg.
func (c *Counter) Wrap(cfg *rest.Config) {
	prev := cfg.WrapTransport
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if prev != nil {
			rt = prev(rt)
		}
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			c.n.Add(1)
			return rt.RoundTrip(r)
		})
	}
}

// Requests returns the number counted so far.
func (c *Counter) Requests() int64 { return c.n.Load() }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
