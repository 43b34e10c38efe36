package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const graphToken = "graph-token-must-never-be-printed"

// fakeGraph speaks the getByIds contract: POST {ids, types}, a page of
// values and an @odata.nextLink to a second page; it throttles the first
// request with 429 and Retry-After.
func fakeGraph(t *testing.T, forbid bool) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+graphToken {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		if forbid {
			http.Error(w, `{"error":{"code":"Authorization_RequestDenied"}}`, http.StatusForbidden)
			return
		}
		if n == 1 {
			w.Header().Set("Retry-After", "3")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1.0/directoryObjects/getByIds":
			var req struct {
				IDs   []string `json:"ids"`
				Types []string `json:"types"`
			}
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Types) != 1 || req.Types[0] != "group" || len(req.IDs) > 1000 {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			var vals []map[string]string
			for _, id := range req.IDs[:len(req.IDs)/2] {
				vals = append(vals, map[string]string{"id": id, "displayName": "name of " + id})
			}
			next := fmt.Sprintf("https://%s/v1.0/page2?ids=%s", r.Host, strings.Join(req.IDs[len(req.IDs)/2:], ","))
			_ = json.NewEncoder(w).Encode(map[string]any{"value": vals, "@odata.nextLink": next}) // a failed write fails the client's read
		case r.Method == http.MethodGet && r.URL.Path == "/v1.0/page2":
			var vals []map[string]string
			for _, id := range strings.Split(r.URL.Query().Get("ids"), ",") {
				if id != "deleted-group" {
					vals = append(vals, map[string]string{"id": id, "displayName": "name of " + id})
				}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"value": vals}) // as above
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestGraphResolve(t *testing.T) {
	srv, calls := fakeGraph(t, false)
	var slept []time.Duration
	g := &Graph{BaseURL: srv.URL, Client: srv.Client(), Token: func(context.Context) (string, error) { return graphToken, nil },
		sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	var ids []string
	for i := range 1500 {
		ids = append(ids, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
	}
	ids = append(ids, "deleted-group")
	names, err := g.Resolve(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1500 || names[ids[0]] != "name of "+ids[0] || names[ids[1499]] != "name of "+ids[1499] {
		t.Errorf("%d names resolved, want 1500 (the deleted group has none)", len(names))
	}
	if _, ok := names["deleted-group"]; ok {
		t.Error("a group Graph did not return got a name")
	}
	if len(slept) != 1 || slept[0] != 3*time.Second {
		t.Errorf("throttled once with Retry-After: 3, slept %v", slept)
	}
	// Two batches (1000 + 501 ids), each two pages, and one throttled try.
	if calls.Load() != 5 {
		t.Errorf("%d requests, want 5", calls.Load())
	}
}

func TestGraphForbidden(t *testing.T) {
	srv, _ := fakeGraph(t, true)
	g := &Graph{BaseURL: srv.URL, Client: srv.Client(), Token: func(context.Context) (string, error) { return graphToken, nil }}
	_, err := g.Resolve(t.Context(), []string{"a"})
	if !errors.Is(err, ErrGraphForbidden) || !strings.Contains(err.Error(), "--group-names") {
		t.Fatalf("403: %v", err)
	}
	if strings.Contains(err.Error(), graphToken) {
		t.Error("the error carries the token")
	}
}

func TestParseJWTAndWarnings(t *testing.T) {
	enc := func(claims string) string {
		return "eyJhbGciOiJSUzI1NiJ9." + strings.TrimRight(b64(claims), "=") + ".sig"
	}
	exp := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ti := parseJWT(enc(fmt.Sprintf(`{"iss":"https://login.microsoftonline.com/t/v2.0","aud":"6dae42f8-4368-4678-94ff-3960e28e3630","exp":%d,"_claim_names":{"groups":"src1"}}`, exp.Unix())))
	if ti == nil || ti.Issuer == "" || len(ti.Audience) != 1 || !ti.Expiry.Equal(exp) || !ti.Overage {
		t.Fatalf("parsed %+v", ti)
	}
	if parseJWT("not-a-jwt") != nil {
		t.Error("a non-JWT token parsed")
	}
	w := Warn(&User{Groups: make([]Group, 3)}, ti, exp.Add(-time.Minute))
	if len(w) != 2 || !strings.Contains(w[0], "overage") || !strings.Contains(w[1], "expires") {
		t.Errorf("warnings %q", w)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
