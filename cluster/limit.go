package cluster

import (
	"fmt"
	"io"
	"net/http"
)

// MaxResponseBytes bounds one response of the API server: a LIST page of
// PageSize objects of the kinds the tool reads is a few MiB, and a larger
// one (an endless body from a broken or hostile server or proxy) would
// otherwise grow until the process dies.
const MaxResponseBytes = 256 << 20

// maxResponseBytes is the bound in force (tests lower it).
var maxResponseBytes int64 = MaxResponseBytes

// ResponseTooLargeError is a response cut at MaxResponseBytes.
type ResponseTooLargeError struct {
	Method, URL string
	Max         int64
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("the response to %s %s is larger than %d MiB, far more than any page of %d objects: "+
		"a proxy or server between you and the API server is misbehaving (the answer is unknown)", e.Method, e.URL, e.Max>>20, PageSize)
}

// limitBodies wraps a transport so that no response body is read past max.
func limitBodies(max int64) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			if err != nil || resp.Body == nil {
				return resp, err
			}
			resp.Body = &limitedBody{ReadCloser: resp.Body, max: max,
				err: &ResponseTooLargeError{Method: req.Method, URL: req.URL.Path, Max: max}}
			return resp, nil
		})
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// limitedBody fails a read that would pass max bytes, having read at most
// max+1 of them.
type limitedBody struct {
	io.ReadCloser
	n, max int64
	err    error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.n > b.max {
		return 0, b.err
	}
	if rem := b.max - b.n + 1; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		return n, b.err
	}
	return n, err
}
