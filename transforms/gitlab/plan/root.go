package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/api"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
)

// AuthError means GitLab refused the credentials.
type AuthError struct {
	TokenEnv string
	Err      error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("GitLab refused the credentials in %s (HTTP 401): the token is invalid, expired or revoked, or lacks the read_api scope; create a new one and set %s (%v)",
		e.TokenEnv, e.TokenEnv, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// NotFoundError means the root group or project does not exist or is not
// visible to the token.
type NotFoundError struct {
	Kind, Path, Env string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %q was not found, or the token cannot see it: check %s (the full path as in GitLab's URL) and the token's access", e.Kind, e.Path, e.Env)
}

// ResolveRoot looks the root group or project up by its full path and
// returns it with GitLab's own clock (the Date header of the answer), so that
// time windows are measured on the server's clock.
func ResolveRoot(ctx context.Context, c *api.Client, conn api.Conn, group, project string, recursive bool) (Root, time.Time, error) {
	kind, path, env, endpoint := "group", group, "GITLAB_GROUP", "groups/"
	mode := catalog.TreeMode
	if !recursive {
		mode = catalog.GroupMode
	}
	if project != "" {
		kind, path, env, endpoint, mode = "project", project, "GITLAB_PROJECT", "projects/", catalog.ProjectMode
	}
	q := url.Values{}
	if mode != catalog.ProjectMode {
		q.Set("with_projects", "false")
	}
	raw, hdr, err := c.Object(ctx, endpoint+url.PathEscape(path), q)
	var ae *api.APIError
	switch {
	case api.Unauthorized(err):
		return Root{}, time.Time{}, &AuthError{TokenEnv: conn.TokenEnv, Err: err}
	case errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden):
		return Root{}, time.Time{}, &NotFoundError{Kind: kind, Path: path, Env: env}
	case err != nil:
		return Root{}, time.Time{}, fmt.Errorf("looking up %s %q: %w", kind, path, err)
	}
	var obj struct {
		ID                int64  `json:"id"`
		FullPath          string `json:"full_path"`
		PathWithNamespace string `json:"path_with_namespace"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.ID == 0 {
		return Root{}, time.Time{}, fmt.Errorf("looking up %s %q: the answer has no numeric id", kind, path)
	}
	full := obj.FullPath
	if full == "" {
		full = obj.PathWithNamespace
	}
	if full == "" {
		full = path
	}
	if !strings.EqualFold(full, path) {
		// GitLab redirects renamed paths; say which one we export.
		full = full + " (was " + path + ")"
	}
	now := time.Now().UTC()
	if d, err := http.ParseTime(hdr.Get("Date")); err == nil {
		now = d.UTC()
	}
	return Root{Mode: mode, ID: obj.ID, FullPath: full, Raw: raw}, now, nil
}

// Root is the resolved root resource of an export.
type Root struct {
	Mode     catalog.Mode
	ID       int64
	FullPath string
	Raw      json.RawMessage
}
