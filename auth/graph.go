package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	osexec "os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kubectl-access/kubectl-access/identity"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// GraphScope is the scope a token for Microsoft Graph is asked for.
const GraphScope = "https://graph.microsoft.com/.default"

// Graph resolves group object ids to display names with Microsoft Graph's
// directoryObjects/getByIds. Its token is Graph's own (GraphScope), never
// the cluster's.
type Graph struct {
	BaseURL string // https://graph.microsoft.com
	Token   func(ctx context.Context) (string, error)
	Client  *http.Client
	// MaxRetries bounds the retries of a throttled (429) request.
	MaxRetries int
	sleep      func(context.Context, time.Duration) error
}

// ErrGraphForbidden means the token may not read groups.
var ErrGraphForbidden = errors.New("Microsoft Graph refused to read the groups (403): the signed-in identity needs Directory.Read.All or GroupMember.Read.All; pass --group-names FILE instead")

// Resolve returns the names of the groups among ids it can read, asking
// for up to 1000 ids a request and following @odata.nextLink pages.
func (g *Graph) Resolve(ctx context.Context, ids []string) (identity.Names, error) {
	out := identity.Names{}
	objs, err := g.Objects(ctx, ids, []string{"group"})
	for _, o := range objs {
		out[o.ID] = o.DisplayName
	}
	return out, err
}

// DirectoryObject is what Graph says of one object id.
type DirectoryObject struct {
	ID   string
	Type string // group, user or servicePrincipal
	// DisplayName, and a user's UserPrincipalName.
	DisplayName, UserPrincipalName string
	// ServicePrincipalType is a service principal's (ManagedIdentity for a
	// managed identity).
	ServicePrincipalType string
	// UserType is a user's (Guest, Member); SecurityEnabled a group's.
	UserType        string
	SecurityEnabled bool
}

// Objects returns the objects of the types among ids that Graph knows
// (directoryObjects/getByIds, up to 1000 ids a request, following
// @odata.nextLink pages); an id it does not return does not exist, or is
// of another type.
func (g *Graph) Objects(ctx context.Context, ids, types []string) ([]DirectoryObject, error) {
	var out []DirectoryObject
	for lo := 0; lo < len(ids); lo += 1000 {
		body, _ := json.Marshal(map[string]any{"ids": ids[lo:min(lo+1000, len(ids))], "types": types})
		url := g.BaseURL + "/v1.0/directoryObjects/getByIds"
		method := http.MethodPost
		for url != "" {
			var page struct {
				Value []struct {
					Type              string `json:"@odata.type"`
					ID                string `json:"id"`
					DisplayName       string `json:"displayName"`
					UserPrincipalName string `json:"userPrincipalName"`
					// A service principal's: Application, ManagedIdentity, ...
					ServicePrincipalType string `json:"servicePrincipalType"`
					UserType             string `json:"userType"`
					SecurityEnabled      bool   `json:"securityEnabled"`
				} `json:"value"`
				Next string `json:"@odata.nextLink"`
			}
			if err := g.do(ctx, method, url, body, &page); err != nil {
				return out, err
			}
			for _, v := range page.Value {
				out = append(out, DirectoryObject{ID: v.ID, Type: strings.TrimPrefix(v.Type, "#microsoft.graph."), DisplayName: v.DisplayName, UserPrincipalName: v.UserPrincipalName, ServicePrincipalType: v.ServicePrincipalType, UserType: v.UserType, SecurityEnabled: v.SecurityEnabled})
			}
			url, method, body = page.Next, http.MethodGet, nil
		}
	}
	return out, nil
}

// MemberCount returns how many members a group has, transitively
// (groups/ID/transitiveMembers/$count, an advanced query).
func (g *Graph) MemberCount(ctx context.Context, groupID string) (int, error) {
	var n int
	err := g.do(ctx, http.MethodGet, g.BaseURL+"/v1.0/groups/"+url.PathEscape(groupID)+"/transitiveMembers/$count", nil, &n)
	return n, err
}

func (g *Graph) do(ctx context.Context, method, url string, body []byte, into any) error {
	client := g.Client
	if client == nil {
		client = http.DefaultClient
	}
	for attempt := 0; ; attempt++ {
		token, err := g.Token(ctx)
		if err != nil {
			return fmt.Errorf("a token for Microsoft Graph: %w", err)
		}
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		// $count and other advanced queries need it; plain reads ignore it.
		req.Header.Set("ConsistencyLevel", "eventual")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("Microsoft Graph: %w", err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		_ = resp.Body.Close() // read: nothing is lost
		switch resp.StatusCode {
		case http.StatusOK:
			return json.Unmarshal(b, into)
		case http.StatusForbidden, http.StatusUnauthorized:
			return ErrGraphForbidden
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if attempt >= g.retries() {
				return throttled(resp.StatusCode, attempt, resp.Header.Get("Retry-After"))
			}
			if err := g.pause(ctx, attempt, resp.Header.Get("Retry-After")); err != nil {
				return err
			}
		default:
			return &graphStatusError{Status: resp.StatusCode, Text: resp.Status}
		}
	}
}

// retries is how many times a throttled request is tried again.
func (g *Graph) retries() int {
	if g.MaxRetries == 0 {
		return 5
	}
	return g.MaxRetries
}

// pause waits what Retry-After says (in seconds), else backs off
// exponentially; never more than a minute.
func (g *Graph) pause(ctx context.Context, attempt int, retryAfter string) error {
	wait := time.Duration(1<<attempt) * time.Second
	if s, err := strconv.Atoi(retryAfter); err == nil && s >= 0 {
		wait = time.Duration(s) * time.Second
	}
	wait = min(wait, time.Minute)
	if g.sleep != nil {
		return g.sleep(ctx, wait)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}

// ErrGraphThrottled means Graph kept answering 429 (or 503) after every
// retry allowed, each after waiting what its Retry-After said.
var ErrGraphThrottled = errors.New("Microsoft Graph kept throttling the requests")

func throttled(status, retries int, retryAfter string) error {
	if retryAfter == "" {
		retryAfter = "none"
	} else {
		retryAfter += "s"
	}
	return fmt.Errorf("%w: still %d %s after %d retries (last Retry-After: %s); wait a minute and run again, or ask about fewer groups",
		ErrGraphThrottled, status, http.StatusText(status), retries, retryAfter)
}

// graphStatusError is an answer that is neither data, nor a refusal, nor
// throttling: 404 for an object that does not exist, 400, 5xx.
type graphStatusError struct {
	Status int
	Text   string
}

func (e *graphStatusError) Error() string { return "Microsoft Graph answered " + e.Text }

// isNotFound says err is Graph's 404.
func isNotFound(err error) bool {
	var se *graphStatusError
	return errors.As(err, &se) && se.Status == http.StatusNotFound
}

// GraphTokenFromExec returns a token source for Microsoft Graph that runs
// the kubelogin exec plugin the kubeconfig (or --login) signs in with, but
// asking for Graph's audience instead of the cluster's (kubelogin requests
// SERVER_ID/.default). Its prompts go to stderr, as when client-go runs it.
func GraphTokenFromExec(exec *clientcmdapi.ExecConfig, graphURL string) (func(context.Context) (string, error), error) {
	if exec == nil || !isKubelogin(exec.Command) {
		return nil, errors.New("--resolve-groups asks Microsoft Graph with an Entra sign-in through kubelogin, which this kubeconfig does not use: pass --login, or --group-names FILE")
	}
	args := slices.Clone(exec.Args)
	replaced := false
	for i := range args {
		if args[i] == "--server-id" && i+1 < len(args) {
			args[i+1], replaced = graphURL, true
		}
	}
	if !replaced {
		args = append(args, "--server-id", graphURL)
	}
	var (
		mu    sync.Mutex // the explorer asks from several goroutines
		token string
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if token != "" {
			return token, nil
		}
		cmd := osexec.CommandContext(ctx, exec.Command, args...)
		cmd.Env = os.Environ()
		for _, e := range exec.Env {
			cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
		}
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("kubelogin get-token for Microsoft Graph: %w", err)
		}
		var cred struct {
			Status struct {
				Token string `json:"token"`
			} `json:"status"`
		}
		if err := json.Unmarshal(out, &cred); err != nil || cred.Status.Token == "" {
			return "", errors.New("kubelogin get-token for Microsoft Graph printed no ExecCredential token")
		}
		token = cred.Status.Token
		return token, nil
	}, nil
}
