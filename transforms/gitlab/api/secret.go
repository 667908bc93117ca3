package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"
)

// DefaultSecretEndpoint is Google Secret Manager's REST endpoint.
const DefaultSecretEndpoint = "https://secretmanager.googleapis.com/"

// token returns the GitLab token of conn: from Secret Manager when
// conn.TokenSecret names a secret version (the way Dataflow's workers get
// it: they do not see the launcher's environment), from the file
// conn.TokenFile names (workers started by a job server on this machine
// read it there), else from the environment variable conn.TokenEnv. It is
// read once per run and process, when the run's client is built
// (ClientFor). Errors never quote the token.
func token(ctx context.Context, conn Conn) (string, error) {
	if conn.TokenFile != "" {
		return tokenFile(conn.TokenFile)
	}
	if conn.TokenSecret == "" {
		t := os.Getenv(conn.TokenEnv)
		if t == "" {
			return "", fmt.Errorf("%s is not set in this process: set it to a GitLab token with the read_api scope (workers in processes a job server starts do not see the launcher's environment: give them the token with GITLAB_TOKEN_FILE or GITLAB_TOKEN_SECRET)", conn.TokenEnv)
		}
		return t, nil
	}
	endpoint := conn.SecretEndpoint
	if endpoint == "" {
		endpoint = DefaultSecretEndpoint
	}
	t, err := accessSecret(ctx, endpoint, conn.TokenSecret)
	if err != nil {
		return "", fmt.Errorf("GITLAB_TOKEN_SECRET %s: %w", conn.TokenSecret, err)
	}
	return t, nil
}

// accessSecret reads a secret version's payload with Secret Manager's
// REST API (versions.access), authenticated by Application Default
// Credentials — or not at all for a plain-http endpoint on a loopback
// address (a test server).
func accessSecret(ctx context.Context, endpoint, name string) (string, error) {
	u, err := url.Parse(strings.TrimRight(endpoint, "/") + "/v1/" + name + ":access")
	if err != nil {
		return "", fmt.Errorf("bad Secret Manager endpoint %q: %v", endpoint, err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	if u.Scheme != "http" || !isLoopback(u.Hostname()) {
		tr, err := htransport.NewTransport(ctx, http.DefaultTransport, option.WithScopes("https://www.googleapis.com/auth/cloud-platform"))
		if err != nil {
			return "", fmt.Errorf("Google credentials for Secret Manager (Application Default Credentials): %v", err)
		}
		client.Transport = tr
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("reading it from Secret Manager: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		hint := ""
		switch resp.StatusCode {
		case http.StatusNotFound:
			hint = ": check the secret's name and version"
		case http.StatusForbidden, http.StatusUnauthorized:
			hint = ": grant roles/secretmanager.secretAccessor on the secret to the launcher's and the Dataflow workers' service accounts"
		}
		return "", fmt.Errorf("Secret Manager answered %d %s%s", resp.StatusCode, e.Error.Message, hint)
	}
	var v struct {
		Payload struct {
			Data string `json:"data"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("Secret Manager's answer is not a secret version")
	}
	raw, err := base64.StdEncoding.DecodeString(v.Payload.Data)
	if err != nil {
		return "", fmt.Errorf("the secret's payload is not base64")
	}
	t := strings.TrimSpace(string(raw))
	if t == "" || strings.ContainsAny(t, " \t\r\n") {
		return "", fmt.Errorf("the secret must hold the token alone (it is empty or has white space inside)")
	}
	return t, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	return strings.HasPrefix(host, "127.") || host == "::1"
}

// tokenFile reads the token from the file at path (GITLAB_TOKEN_FILE): the
// token alone, surrounding white space (a final line break) ignored.
func tokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("GITLAB_TOKEN_FILE %s: reading the token in this process: %v (the file must be readable by the launcher and by every worker, on their machine)", path, errors.Unwrap(err))
	}
	t := strings.TrimSpace(string(b))
	if t == "" || strings.ContainsAny(t, " \t\r\n") {
		return "", fmt.Errorf("GITLAB_TOKEN_FILE %s: the file must hold the token alone (it is empty or has white space inside)", path)
	}
	return t, nil
}
