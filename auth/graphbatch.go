package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// batchSize is the most requests Graph takes in one $batch.
const batchSize = 20

// pages is what the GETs of one collection read, all its pages.
type pages struct {
	Values []json.RawMessage
	// More: the collection has more than the max asked, not read.
	More bool
	// Err is why the collection could not be read (Values then hold the
	// pages before): ErrGraphForbidden for 403, a throttled error, or a
	// *graphStatusError.
	Err error
}

// getAll reads the collections at urls (relative to BaseURL/v1.0, as
// $batch wants them), every page of each up to max values (0: all), 20
// requests a $batch. A sub-request throttled (429 or 503 inside the
// batch, with its own Retry-After) is asked again in a later batch, up to
// MaxRetries times; a next page goes in a later batch too. The error is
// the batch's own (the token, the network, the $batch refused): each
// collection's is in its pages.
func (g *Graph) getAll(ctx context.Context, urls []string, max int) ([]pages, error) {
	out := make([]pages, len(urls))
	type pending struct {
		i     int
		url   string
		tries int
	}
	queue := make([]pending, 0, len(urls))
	for i, u := range urls {
		queue = append(queue, pending{i: i, url: u})
	}
	for len(queue) > 0 {
		chunk := queue[:min(batchSize, len(queue))]
		queue = queue[len(chunk):]
		type subRequest struct {
			ID     string `json:"id"`
			Method string `json:"method"`
			URL    string `json:"url"`
		}
		reqs := make([]subRequest, len(chunk))
		for k, p := range chunk {
			reqs[k] = subRequest{ID: strconv.Itoa(k), Method: http.MethodGet, URL: p.url}
		}
		body, _ := json.Marshal(map[string]any{"requests": reqs})
		var resp struct {
			Responses []struct {
				ID      string            `json:"id"`
				Status  int               `json:"status"`
				Headers map[string]string `json:"headers"`
				Body    json.RawMessage   `json:"body"`
			} `json:"responses"`
		}
		if err := g.do(ctx, http.MethodPost, g.BaseURL+"/v1.0/$batch", body, &resp); err != nil {
			return out, err
		}
		answered := make([]bool, len(chunk))
		var again []pending
		retryAfter, wait := "", false
		for _, r := range resp.Responses {
			k, err := strconv.Atoi(r.ID)
			if err != nil || k < 0 || k >= len(chunk) || answered[k] {
				return out, fmt.Errorf("the $batch of Microsoft Graph answered an unknown request id %q", r.ID)
			}
			answered[k] = true
			p, o := chunk[k], &out[chunk[k].i]
			switch r.Status {
			case http.StatusOK:
				var page struct {
					Value []json.RawMessage `json:"value"`
					Next  string            `json:"@odata.nextLink"`
				}
				if err := json.Unmarshal(r.Body, &page); err != nil {
					o.Err = fmt.Errorf("a page of %s from Microsoft Graph: %w", p.url, err)
					continue
				}
				o.Values = append(o.Values, page.Value...)
				switch {
				case page.Next == "":
				case max > 0 && len(o.Values) >= max:
					o.More = true
				default:
					next, err := relative(page.Next)
					if err != nil {
						o.Err = err
						continue
					}
					queue = append(queue, pending{i: p.i, url: next})
				}
			case http.StatusTooManyRequests, http.StatusServiceUnavailable:
				ra := header(r.Headers, "Retry-After")
				if p.tries >= g.retries() {
					o.Err = throttled(r.Status, p.tries, ra)
					continue
				}
				p.tries++
				again = append(again, p)
				if !wait || seconds(ra) > seconds(retryAfter) {
					retryAfter, wait = ra, true
				}
			case http.StatusForbidden, http.StatusUnauthorized:
				o.Err = ErrGraphForbidden
			default:
				o.Err = &graphStatusError{Status: r.Status, Text: fmt.Sprintf("%d %s", r.Status, http.StatusText(r.Status))}
			}
		}
		for k, ok := range answered {
			if !ok {
				return out, fmt.Errorf("the $batch of Microsoft Graph did not answer %s", chunk[k].url)
			}
		}
		if len(again) > 0 {
			// One wait for the batch: the longest Retry-After asked.
			if err := g.pause(ctx, again[0].tries-1, retryAfter); err != nil {
				return out, err
			}
			queue = append(again, queue...)
		}
	}
	return out, nil
}

// relative turns an @odata.nextLink (absolute) into the url a $batch
// takes: the path after /v1.0 and the query.
func relative(next string) (string, error) {
	u, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("the @odata.nextLink %q of Microsoft Graph: %w", next, err)
	}
	p, ok := strings.CutPrefix(u.EscapedPath(), "/v1.0")
	if !ok {
		return "", fmt.Errorf("the @odata.nextLink %q of Microsoft Graph is not of /v1.0", next)
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p, nil
}

// header is a $batch response's header, whatever its case.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func seconds(s string) time.Duration {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return time.Duration(n) * time.Second
}

// forbiddenError is a read Graph refused (403), with the permission it
// needs; it is ErrGraphForbidden to errors.Is.
type forbiddenError struct {
	read, permission string
}

func (e *forbiddenError) Error() string {
	return fmt.Sprintf("Microsoft Graph refused to read %s (403): the signed-in identity needs %s", e.read, e.permission)
}

func (e *forbiddenError) Unwrap() error { return ErrGraphForbidden }

// The permissions each read needs (delegated or application).
const (
	permUsers  = "User.Read.All (or Directory.Read.All)"
	permGroups = "GroupMember.Read.All (or Directory.Read.All)"
	permPIM    = "PrivilegedEligibilitySchedule.Read.AzureADGroup"
	permObjs   = "Directory.Read.All"
)

// refused names the read and the permission in a 403; other errors pass.
func refused(err error, read, permission string) error {
	var fe *forbiddenError
	if errors.Is(err, ErrGraphForbidden) && !errors.As(err, &fe) {
		return &forbiddenError{read: read, permission: permission}
	}
	return err
}
