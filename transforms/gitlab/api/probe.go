package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// Probes of a listing's size, for planning: a one-object page by offset
// (keyset answers carry no X-Total).

// Count asks a listing for its size (X-Total) with a one-object page.
// known is false when GitLab does not say (more than 10,000 objects).
func (c *Client) Count(ctx context.Context, path string, query url.Values) (n int64, known bool, err error) {
	_, hdr, err := c.get(ctx, c.URLFor(path, probeQuery(query)), func([]byte) string { return "" })
	if err != nil {
		return 0, false, err
	}
	n, perr := strconv.ParseInt(hdr.Get("X-Total"), 10, 64)
	return n, perr == nil, nil
}

// FirstPage reads the one-object first page of a listing (a JSON array)
// and the answer's headers (X-Total).
func (c *Client) FirstPage(ctx context.Context, path string, query url.Values) (json.RawMessage, http.Header, error) {
	body, hdr, err := c.get(ctx, c.URLFor(path, probeQuery(query)), func(b []byte) string {
		if len(b) == 0 || b[0] != '[' || !json.Valid(b) {
			return "the answer is not a JSON array"
		}
		return ""
	})
	return json.RawMessage(body), hdr, err
}

// probeQuery is a listing's query for a one-object page by offset.
func probeQuery(query url.Values) url.Values {
	q := offsetQuery(query)
	q.Set("per_page", "1")
	return q
}
