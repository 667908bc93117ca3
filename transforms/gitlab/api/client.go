// Package api is the GitLab source's connection to the REST API v4: the
// run's client in a process (ClientFor: Conn says how to reach GitLab), the
// one governor every request goes through (pacing, AIMD concurrency, 429
// pauses, bounded retries, the run's outage budget: governor.go), paging
// (List: X-Next-Page, Link rel="next", keyset, past the offset limit), the
// token from the environment or Secret Manager (secret.go), and the errors
// GitLab's answers become. It knows nothing of the catalog or of Beam's
// stages, only paths and queries.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	glclient "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
)

// Conn says how to reach GitLab. It is serialised into the DoFns, so it holds
// no secret: the token is read on each worker from the environment variable
// named by TokenEnv.
type Conn struct {
	BaseURL  string // e.g. https://gitlab.com (no /api/v4)
	AuthKind string // "token", "oauth" or "job"
	TokenEnv string // e.g. GITLAB_TOKEN
	// TokenSecret: a Secret Manager secret version holding the token
	// (projects/P/secrets/S/versions/V), read instead of TokenEnv; and the
	// endpoint to read it from ("" = Google's).
	TokenSecret    string
	SecretEndpoint string
	// TokenFile: a file holding the token (GITLAB_TOKEN_FILE, an absolute
	// path), read instead of TokenEnv by the launcher and by every worker
	// on this machine.
	TokenFile   string
	UserAgent   string
	MaxAttempts int // per request, 1 = no retry; 0 = default
	// Concurrency is the most requests a worker process has in flight (and
	// the items a Fetch bundle reads at once); 0 = default.
	Concurrency int
	// MaxPerMinute caps the requests per minute of the whole run (all
	// workers); 0 = automatic: what GitLab announces in RateLimit-Limit,
	// and GitLab.com's published limits on gitlab.com.
	MaxPerMinute int
	// Workers shares MaxPerMinute among this many worker processes
	// (Dataflow); 0 or 1 = one process.
	Workers int
	// BudgetDir holds the request budget files that the processes of
	// this machine share per GitLab and token (budget.go); "" = none:
	// each process paces alone.
	BudgetDir string
	// Session names the run (a random id the launcher draws): the DoFns of
	// one run in one process share its client (ClientFor), and two runs in
	// one process share nothing.
	Session string
}

// Client fetches raw JSON from the GitLab REST API v4.
type Client struct {
	api  *glclient.Client
	base *url.URL // .../api/v4/
	gov  *governor
	http *http.Client
	// memos: what the run's DoFns in this process share besides the
	// client (Memo).
	memos sync.Map // key -> *memo
	// warned: the tables whose unexpected refusal the run has logged.
	warned sync.Map // table -> true
	// refusals: the child listings refused (403) in a project or group
	// (see NoteRefusal).
	refusals sync.Map // table + "\x00" + owner -> status
}

// memo is one value of Memo.
type memo struct {
	once sync.Once
	v    any
	err  error
}

// Memo returns the value the run's client holds under key, made by mk the
// first time it is asked for (once per run and process: the job's record
// digests, which every Fetch of the run reads).
func (c *Client) Memo(key string, mk func() (any, error)) (any, error) {
	v, _ := c.memos.LoadOrStore(key, &memo{})
	m := v.(*memo)
	m.once.Do(func() { m.v, m.err = mk() })
	return m.v, m.err
}

// FirstWarning reports whether this is the first time the run warns of
// an unexpected refusal of table (later ones are only counted).
func (c *Client) FirstWarning(table string) bool {
	_, seen := c.warned.LoadOrStore(table, true)
	return !seen
}

// NoteRefusal notes GitLab's refusal of a listing of table's at path, one
// record's children: a 403 on the listing of one record's children (an
// issue's weight events, a merge request's approval rules) is the
// project's or group's answer for every record of it (the licence tier, a
// feature turned off, the token's role there), so the run does not ask
// again for the others (RefusedIn). A 404 is not noted: the record may
// have gone since its listing.
func (c *Client) NoteRefusal(table, path string, status int) {
	if status == http.StatusForbidden {
		if owner := OwnerOf(path); owner != "" {
			c.refusals.Store(table+"\x00"+owner, status)
		}
	}
}

// RefusedIn reports whether a listing of table's was refused in the
// project or group of path in this run (NoteRefusal), and how.
func (c *Client) RefusedIn(table, path string) (int, bool) {
	v, ok := c.refusals.Load(table + "\x00" + OwnerOf(path))
	if !ok {
		return 0, false
	}
	return v.(int), true
}

// OwnerOf is the project or group a path is under ("projects/12" of
// "projects/12/issues/3/links"), or "".
func OwnerOf(path string) string {
	parts := strings.SplitN(path, "/", 3)
	if len(parts) < 3 || (parts[0] != "projects" && parts[0] != "groups") {
		return ""
	}
	return parts[0] + "/" + parts[1]
}

// The clients of the runs under way in this process, by Conn (its Session
// names the run): what a run's DoFns share in a worker process is built
// once from the settings serialised into them, and dropped by Release.
var (
	clientsMu sync.Mutex
	clients   = map[Conn]*Client{}
)

// ClientFor returns the client of conn's run in this process: every DoFn
// of the run in a worker process shares its governor (one request budget)
// and its live counters. The token is read when the client is built, once per
// run and process.
func ClientFor(conn Conn) (*Client, error) {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if c, ok := clients[conn]; ok {
		return c, nil
	}
	c, err := NewClient(conn)
	if err != nil {
		return nil, err
	}
	clients[conn] = c
	return c, nil
}

// Release drops the client of conn's run (at the end of the run, in the
// launching process), closing its idle connections.
func Release(conn Conn) {
	clientsMu.Lock()
	c, ok := clients[conn]
	delete(clients, conn)
	clientsMu.Unlock()
	if ok {
		c.http.CloseIdleConnections()
	}
}

// Live is the live view of the counters of the client's run in this
// process.
func (c *Client) Live() *metrics.Live { return c.gov.live }

// NewClient builds a client with its own governor (ClientFor shares one).
func NewClient(conn Conn) (*Client, error) {
	tok, err := token(context.Background(), conn)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(strings.TrimRight(conn.BaseURL, "/") + "/api/v4/")
	if err != nil {
		return nil, fmt.Errorf("GITLAB_URL %q: %v", conn.BaseURL, err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64 // keep the connections of concurrent requests
	httpClient := &http.Client{Timeout: requestTimeout, Transport: transport}
	opts := []glclient.ClientOptionFunc{
		glclient.WithBaseURL(base.String()),
		glclient.WithHTTPClient(httpClient),
		glclient.WithoutRetries(),                 // the governor retries
		glclient.WithCustomLimiter(noopLimiter{}), // the governor paces
	}
	if conn.UserAgent != "" {
		opts = append(opts, glclient.WithUserAgent(conn.UserAgent))
	}
	var api *glclient.Client
	switch conn.AuthKind {
	case "oauth":
		api, err = glclient.NewOAuthClient(tok, opts...)
	case "job":
		api, err = glclient.NewJobClient(tok, opts...)
	default:
		api, err = glclient.NewClient(tok, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the GitLab client: %v", redact(err.Error(), tok))
	}
	attempts := conn.MaxAttempts
	if attempts <= 0 {
		attempts = defaultMaxAttempts
	}
	gov := newGovernor(attempts, conn.Concurrency, perProcess(conn), base.Hostname() == "gitlab.com")
	gov.shared = openBudget(conn, base.String(), tok)
	return &Client{api: api, base: base, http: httpClient, gov: gov}, nil
}

// perProcess is this process's share of the run's MaxPerMinute (0: none).
func perProcess(conn Conn) float64 {
	if conn.MaxPerMinute <= 0 {
		return 0
	}
	return float64(conn.MaxPerMinute) / float64(max(conn.Workers, 1))
}

type noopLimiter struct{}

func (noopLimiter) Wait(context.Context) error { return nil }

// requestTimeout bounds every request, from connecting to the last body byte.
const requestTimeout = 90 * time.Second

// PerPage is the largest page GitLab serves.
const PerPage = 100

// APIError is an HTTP answer other than 2xx, or a body that is not what the
// endpoint promises. URL never holds credentials (they travel in headers).
type APIError struct {
	Status  int // 0 for a malformed body
	URL     string
	Message string
}

func (e *APIError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("GET %s: %s", e.URL, e.Message)
	}
	if strings.HasPrefix(e.Message, strconv.Itoa(e.Status)) {
		return fmt.Sprintf("GET %s: HTTP %s", e.URL, e.Message)
	}
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Status, e.Message)
}

// Unavailable reports whether the error means that the resource cannot be read
// in that scope (403: not licensed or no permission; 404: feature disabled or
// gone) rather than that the run failed.
func Unavailable(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusNotFound)
}

// StatusOf is the HTTP status of an APIError (0 for any other error).
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// Unauthorized reports whether GitLab refused the token.
func Unauthorized(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusUnauthorized
}

// Page is one answer of a list endpoint.
type Page struct {
	Items  []json.RawMessage
	Header http.Header
	Next   *url.URL // nil on the last page
}

// Object fetches a single object (e.g. groups/12) and returns its raw JSON
// and the answer's headers.
func (c *Client) Object(ctx context.Context, path string, query url.Values) (json.RawMessage, http.Header, error) {
	u := c.URLFor(path, query)
	body, hdr, err := c.get(ctx, u, func(b []byte) string {
		if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
			return "the answer is not a JSON object"
		}
		return ""
	})
	if err != nil {
		return nil, nil, err
	}
	return json.RawMessage(body), hdr, nil
}

// ListOption changes how List pages a listing.
type ListOption func(*listOptions)

type listOptions struct{ afterID bool }

// ResumeAfterID: the listing (ordered by id ascending, and filtered by
// id_after) may meet GitLab's offset limit: past it (405), List goes on
// after the last id read, from page 1 (catalog.Resource.ResumesAfterID).
func ResumeAfterID() ListOption { return func(o *listOptions) { o.afterID = true } }

// List pages through a list endpoint with per_page=100, calling fn with each
// page's objects as they arrive. It follows X-Next-Page or the Link header's
// rel="next" (offset and keyset paging alike), never a page count, and does
// not stop on a short page.
func (c *Client) List(ctx context.Context, path string, query url.Values, fn func(Page) error, opts ...ListOption) error {
	var o listOptions
	for _, opt := range opts {
		opt(&o)
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("per_page", strconv.Itoa(PerPage))
	u := c.URLFor(path, q)
	var lastID string // of the previous page's last object, when listing by id ascending
	for pages := 0; u != nil; pages++ {
		var items []json.RawMessage
		_, hdr, err := c.get(ctx, u, func(b []byte) string {
			items = nil
			if len(b) == 0 || b[0] != '[' || json.Unmarshal(b, &items) != nil {
				return "the answer is not a JSON array"
			}
			return ""
		})
		if offset, ok := keysetRefused(err, q, pages); ok {
			// A GitLab without keyset paging for this listing (a version
			// before it, or an ordering it cannot page by key) answers
			// 405 on the first page: read the same listing by offset.
			u = c.URLFor(path, offset)
			q = offset
			pages = -1
			continue
		}
		if next, ok := pastOffsetLimit(err, q, lastID); ok && o.afterID {
			// GitLab refuses offset pages past 50,000 records on some
			// endpoints (405): go on after the last id read, from page 1.
			u = c.URLFor(path, next)
			q = next
			continue
		}
		if err != nil {
			return err
		}
		if len(items) > 0 {
			var last struct {
				ID json.Number `json:"id"`
			}
			if json.Unmarshal(items[len(items)-1], &last) == nil {
				lastID = last.ID.String()
			}
		}
		next, err := c.nextPage(u, hdr)
		if err != nil {
			return err
		}
		if next != nil && len(items) == 0 && pages > 10000 {
			return &APIError{URL: u.String(), Message: "the API keeps announcing a next page without returning objects"}
		}
		if err := fn(Page{Items: items, Header: hdr, Next: next}); err != nil {
			return err
		}
		u = next
	}
	return nil
}

// keysetRefused recognises GitLab's refusal of keyset paging on the first
// page of a listing ("Keyset pagination is not yet available for this type
// of request", 405: lib/api/helpers/pagination_strategies.rb) and returns
// the same query without it. A GitLab that does not know the parameter
// ignores it and pages by offset, which List follows as well.
func keysetRefused(err error, q url.Values, pages int) (url.Values, bool) {
	var ae *APIError
	if err == nil || pages != 0 || q.Get("pagination") != "keyset" || !errors.As(err, &ae) || ae.Status != http.StatusMethodNotAllowed {
		return nil, false
	}
	return offsetQuery(q), true
}

// offsetQuery is q without keyset paging: the query of the same listing
// paged by offset (a one-object probe for X-Total, which keyset answers
// leave out, or the fallback of a refused keyset listing).
func offsetQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		if k != "pagination" && k != "cursor" {
			out[k] = v
		}
	}
	return out
}

// pastOffsetLimit recognises GitLab's refusal of an offset page past its
// limit (405) on a listing ordered by id ascending, and returns the query
// that resumes it after lastID (id_after, from page 1). GitLab has the
// limit where keyset paging exists, and of the listings the catalog reads
// by offset only the projects' have it and filter by id_after
// (doc/api/rest/_index.md, Offset-based pagination: "requests that return
// objects of type Project"): their table says so
// (catalog.Resource.ResumesAfterID, which Fetch passes on as
// ResumeAfterID).
func pastOffsetLimit(err error, q url.Values, lastID string) (url.Values, bool) {
	var ae *APIError
	if err == nil || !errors.As(err, &ae) || ae.Status != http.StatusMethodNotAllowed || lastID == "" ||
		q.Get("order_by") != "id" || q.Get("sort") != "asc" || q.Get("id_after") == lastID {
		return nil, false
	}
	next := url.Values{}
	for k, v := range q {
		next[k] = v
	}
	next.Set("id_after", lastID)
	next.Del("page")
	return next, true
}

// URLFor is the URL of a path under /api/v4/ with a query (it never holds
// the token, which travels in a header).
func (c *Client) URLFor(path string, query url.Values) *url.URL {
	u := *c.base
	u.Path = c.base.Path + strings.TrimLeft(path, "/")
	u.RawPath = ""
	if strings.Contains(path, "%") { // encoded full paths, e.g. groups/acme%2Fplatform
		u.RawPath = c.base.EscapedPath() + strings.TrimLeft(path, "/")
		if p, err := url.PathUnescape(u.RawPath); err == nil {
			u.Path = p
		}
	}
	u.RawQuery = query.Encode()
	return &u
}

// nextPage derives the next page's URL from X-Next-Page, else from Link
// rel="next". The link is rebased onto our own base URL so that the token is
// never sent to another host, even when GitLab's external_url differs.
func (c *Client) nextPage(cur *url.URL, hdr http.Header) (*url.URL, error) {
	if n := strings.TrimSpace(hdr.Get("X-Next-Page")); n != "" {
		if _, err := strconv.Atoi(n); err != nil {
			return nil, &APIError{URL: cur.String(), Message: fmt.Sprintf("X-Next-Page %q is not a page number", n)}
		}
		u := *cur
		q := u.Query()
		q.Set("page", n)
		u.RawQuery = q.Encode()
		return &u, nil
	}
	link := NextLink(hdr.Values("Link"))
	if link == "" {
		return nil, nil
	}
	l, err := url.Parse(link)
	if err != nil {
		return nil, &APIError{URL: cur.String(), Message: fmt.Sprintf("Link rel=\"next\" %q is not a URL", link)}
	}
	idx := strings.Index(l.Path, "/api/v4/")
	if idx < 0 {
		return nil, &APIError{URL: cur.String(), Message: fmt.Sprintf("Link rel=\"next\" %q is not an API v4 URL", link)}
	}
	u := *cur
	u.Path = c.base.Path + l.Path[idx+len("/api/v4/"):]
	u.RawPath = ""
	u.RawQuery = l.RawQuery
	if u.String() == cur.String() {
		return nil, &APIError{URL: cur.String(), Message: "Link rel=\"next\" points at the same page"}
	}
	return &u, nil
}

// NextLink returns the URL of rel="next" in Link header values, or "".
func NextLink(values []string) string {
	for _, v := range values {
		for _, part := range splitLinks(v) {
			segs := strings.Split(part, ";")
			target := strings.TrimSpace(segs[0])
			if len(target) < 2 || target[0] != '<' || target[len(target)-1] != '>' {
				continue
			}
			for _, p := range segs[1:] {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target[1 : len(target)-1]
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header on the commas between links (not those
// inside <...>).
func splitLinks(v string) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range v {
		switch r {
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				parts = append(parts, v[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, v[start:])
}

// get sends one GET through the governor and returns the body of a 2xx
// answer that passes check (which returns "" or what is wrong). A body that
// fails the check (truncated, an HTML error page) is retried like a transient
// fault; the last failure names the URL and what was wrong.
func (c *Client) get(ctx context.Context, u *url.URL, check func([]byte) string) ([]byte, http.Header, error) {
	var body bytes.Buffer
	var hdr http.Header
	err := c.gov.do(ctx, u.String(), func(ctx context.Context) (*http.Response, error) {
		body.Reset()
		req, err := c.api.NewRequestToURL(http.MethodGet, u, nil, nil)
		if err != nil {
			return nil, err
		}
		req = req.WithContext(ctx)
		resp, err := c.api.Do(req, &body)
		if resp == nil {
			return nil, err
		}
		hdr = resp.Header
		if err != nil {
			var er *glclient.ErrorResponse
			if errors.As(err, &er) {
				return resp.Response, &APIError{Status: resp.StatusCode, URL: u.String(), Message: errorMessage(er.Body, resp.Status)}
			}
			return resp.Response, &BodyError{URL: u.String(), Message: "reading the answer: " + err.Error()}
		}
		if problem := check(bytes.TrimSpace(body.Bytes())); problem != "" {
			return resp.Response, &BodyError{URL: u.String(), Message: problem + " (" + describe(resp.Header, bytes.TrimSpace(body.Bytes())) + ")"}
		}
		return resp.Response, nil
	})
	return bytes.TrimSpace(body.Bytes()), hdr, err
}

// BodyError is a 2xx answer whose body is not what the endpoint promises:
// nothing of it is used.
type BodyError struct {
	URL, Message string
}

func (e *BodyError) Error() string { return fmt.Sprintf("GET %s: %s", e.URL, e.Message) }

// errorMessage takes GitLab's {"message": ...} or {"error": ...} if present.
func errorMessage(body []byte, status string) string {
	var m struct {
		Message any    `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(body, &m) == nil {
		if m.Message != nil {
			b, _ := json.Marshal(m.Message)
			return strings.Trim(string(b), `"`)
		}
		if m.Error != "" {
			return m.Error
		}
	}
	if _, text, ok := strings.Cut(status, " "); ok {
		return text
	}
	return status
}

func describe(hdr http.Header, body []byte) string {
	ct := hdr.Get("Content-Type")
	snippet := body
	if len(snippet) > 80 {
		snippet = snippet[:80]
	}
	return fmt.Sprintf("Content-Type %q, %d bytes, starting %q", ct, len(body), snippet)
}

func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}
