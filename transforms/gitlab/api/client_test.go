package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "glpat-PLANTED-SECRET"

// testClient serves handler and returns a client with its own governor.
func testClient(t *testing.T, attempts int, handler http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	t.Setenv("GDE_TEST_TOKEN", testToken)
	c, err := NewClient(Conn{BaseURL: srv.URL, AuthKind: "token", TokenEnv: "GDE_TEST_TOKEN", MaxAttempts: attempts})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientRetriesTransientFaultsThenSucceeds(t *testing.T) {
	var n atomic.Int32
	c := testClient(t, 4, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != testToken {
			t.Errorf("token not sent as PRIVATE-TOKEN")
		}
		switch n.Add(1) {
		case 1:
			w.WriteHeader(http.StatusBadGateway)
		case 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			fmt.Fprint(w, `[{"id":1},`) // truncated
		default:
			fmt.Fprint(w, `[{"id":1}]`)
		}
	})
	start := time.Now()
	var got int
	err := c.List(context.Background(), "projects/1/issues", nil, func(p Page) error { got += len(p.Items); return nil })
	if err != nil || got != 1 || n.Load() != 4 {
		t.Fatalf("err %v, items %d, requests %d", err, got, n.Load())
	}
	if time.Since(start) < time.Second {
		t.Error("Retry-After: 1 was not honoured")
	}
}

func TestClientGivesUpWithTheLastCause(t *testing.T) {
	var n atomic.Int32
	c := testClient(t, 3, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"message":"500 Internal Server Error"}`)
	})
	_, _, err := c.Object(context.Background(), "groups/1", nil)
	if err == nil || n.Load() != 3 || !strings.Contains(err.Error(), "giving up after 3 attempts") || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "/api/v4/groups/1") {
		t.Fatalf("requests %d, error %v", n.Load(), err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Error("the token leaked into the error")
	}
}

func TestClientDoesNotRetryPermanentAnswers(t *testing.T) {
	for status, check := range map[int]func(error) bool{
		401: Unauthorized,
		403: Unavailable,
		404: Unavailable,
		400: func(err error) bool { return err != nil && !Unavailable(err) && !Unauthorized(err) },
	} {
		var n atomic.Int32
		c := testClient(t, 5, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"message":"%d nope"}`, status)
		})
		err := c.List(context.Background(), "x", nil, func(Page) error { return nil })
		if !check(err) || n.Load() != 1 {
			t.Errorf("%d: %d requests, error %v", status, n.Load(), err)
		}
	}
}

func TestClientRejectsBadBodies(t *testing.T) {
	cases := map[string]struct {
		ctype, body, want string
	}{
		"html page with 200": {"text/html", "<html><body>Maintenance</body></html>", "not a JSON array"},
		"object for a list":  {"application/json", `{"id":1}`, "not a JSON array"},
		"truncated":          {"application/json", `[{"id":1}, {"id"`, "not a JSON array"},
		"empty":              {"application/json", ``, "not a JSON array"},
	}
	for name, tc := range cases {
		c := testClient(t, 2, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", tc.ctype)
			fmt.Fprint(w, tc.body)
		})
		var pages int
		err := c.List(context.Background(), "projects/1/issues", nil, func(Page) error { pages++; return nil })
		var be *BodyError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "/api/v4/projects/1/issues") || pages != 0 {
			t.Errorf("%s: pages %d, error %v", name, pages, err)
		}
	}
}

func TestClientPagesUntilThereIsNoNextPage(t *testing.T) {
	c := testClient(t, 1, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("per_page") != "100" {
			t.Errorf("per_page %q", r.URL.Query().Get("per_page"))
		}
		switch r.URL.Query().Get("page") + r.URL.Query().Get("cursor") {
		case "":
			w.Header().Set("X-Next-Page", "2")
			fmt.Fprint(w, `[{"id":1},{"id":2}]`)
		case "2": // short page, but not the last (notes filter after paging)
			w.Header().Set("Link", `<http://other.host/api/v4/x?cursor=abc&per_page=100>; rel="next"`)
			fmt.Fprint(w, `[]`)
		case "abc":
			fmt.Fprint(w, `[{"id":3}]`)
		default:
			t.Errorf("unexpected page %v", r.URL)
			fmt.Fprint(w, `[]`)
		}
	})
	var ids []json.RawMessage
	err := c.List(context.Background(), "x", nil, func(p Page) error { ids = append(ids, p.Items...); return nil })
	if err != nil || len(ids) != 3 {
		t.Fatalf("err %v, items %d", err, len(ids))
	}
}

func TestClientHonoursCancellation(t *testing.T) {
	c := testClient(t, 8, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.Object(ctx, "groups/1", nil)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Errorf("after %v: %v", time.Since(start), err)
	}
}

// A GitLab that refuses keyset paging for a listing (405 on its first page)
// has it read by offset, from the start, once.
func TestListFallsBackToOffsetWhenKeysetIsRefused(t *testing.T) {
	var asked []string
	c := testClient(t, 1, func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RawQuery)
		q := r.URL.Query()
		switch {
		case q.Get("pagination") == "keyset":
			w.WriteHeader(http.StatusMethodNotAllowed)
			w.Write([]byte(`{"error":"Keyset pagination is not yet available for this type of request"}`))
		case q.Get("page") == "" || q.Get("page") == "1":
			w.Header().Set("X-Next-Page", "2")
			w.Write([]byte(`[{"id":1},{"id":2}]`))
		default:
			w.Write([]byte(`[{"id":3}]`))
		}
	})
	var ids []string
	err := c.List(context.Background(), "projects/1/issues", url.Values{"pagination": {"keyset"}, "order_by": {"updated_at"}}, func(p Page) error {
		for _, it := range p.Items {
			ids = append(ids, string(it))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, ",") != `{"id":1},{"id":2},{"id":3}` || len(asked) != 3 {
		t.Errorf("read %v with requests %v", ids, asked)
	}
	// A 405 past the first page is an error, not a restart.
	c = testClient(t, 1, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") != "" {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Link", `<`+"http://"+r.Host+r.URL.Path+`?pagination=keyset&cursor=abc>; rel="next"`)
		w.Write([]byte(`[{"id":1}]`))
	})
	if err := c.List(context.Background(), "projects/1/issues", url.Values{"pagination": {"keyset"}}, func(Page) error { return nil }); err == nil {
		t.Error("a 405 on a later keyset page was not an error")
	}
}
