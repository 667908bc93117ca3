package bigqueryio

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// noEnv clears every variable Open reads.
func noEnv(t *testing.T) {
	for _, v := range []string{EnvServiceAccountJSON, EnvCredentialsFile, EnvEmulatorHost, EnvEmulatorGRPCHost} {
		t.Setenv(v, "")
	}
}

const secret = "SUPER-SECRET-KEY-MATERIAL"

func TestMalformedServiceAccountJSON(t *testing.T) {
	for name, value := range map[string]string{
		"not JSON":          "{" + secret,
		"truncated":         `{"type":"service_account","private_key":"` + secret,
		"wrong type":        `{"type":"authorized_user","client_secret":"` + secret + `"}`,
		"no private key":    `{"type":"service_account","client_email":"a@b.iam.gserviceaccount.com","x":"` + secret + `"}`,
		"plain text":        secret,
		"base64 of garbage": base64.StdEncoding.EncodeToString([]byte(`{"type":"nope","k":"` + secret + `"}`)),
		"a field mistyped":  `{"type":"service_account","client_email":["` + secret + `"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			noEnv(t)
			t.Setenv(EnvServiceAccountJSON, value)
			_, err := Open(context.Background(), Spec("proj", "ds_v4", ""))
			if err == nil {
				t.Fatal("Open accepted it")
			}
			msg := err.Error()
			if !strings.Contains(msg, EnvServiceAccountJSON) || !strings.Contains(msg, "not a service account key") {
				t.Errorf("error does not name the variable: %s", msg)
			}
			if strings.Contains(msg, secret) || strings.Contains(msg, "SUPER") {
				t.Errorf("error echoes the secret: %s", msg)
			}
		})
	}
}

func TestServiceAccountJSONThatIsAPath(t *testing.T) {
	noEnv(t)
	path := filepath.Join(t.TempDir(), "key.json")
	os.WriteFile(path, []byte(`{}`), 0o600)
	t.Setenv(EnvServiceAccountJSON, path)
	_, err := Open(context.Background(), Spec("proj", "ds_v4", ""))
	if err == nil || !strings.Contains(err.Error(), EnvCredentialsFile) || !strings.Contains(err.Error(), "file path") {
		t.Fatalf("Open = %v, want advice to use %s", err, EnvCredentialsFile)
	}
}

func TestUnreadableCredentialsFile(t *testing.T) {
	noEnv(t)
	missing := filepath.Join(t.TempDir(), "nope", "key.json")
	t.Setenv(EnvCredentialsFile, missing)
	_, err := Open(context.Background(), Spec("proj", "ds_v4", ""))
	if err == nil || !strings.Contains(err.Error(), EnvCredentialsFile) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Open = %v, want an error naming %s and the path", err, EnvCredentialsFile)
	}
	t.Setenv(EnvCredentialsFile, t.TempDir())
	if _, err := Open(context.Background(), Spec("proj", "ds_v4", "")); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("a directory: %v", err)
	}
	if os.Geteuid() != 0 { // root reads anything
		locked := filepath.Join(t.TempDir(), "key.json")
		os.WriteFile(locked, []byte(`{}`), 0o000)
		t.Setenv(EnvCredentialsFile, locked)
		if _, err := Open(context.Background(), Spec("proj", "ds_v4", "")); err == nil || !strings.Contains(err.Error(), "permission") {
			t.Fatalf("an unreadable file: %v", err)
		}
	}
}

func TestServiceAccountKeyAccepted(t *testing.T) {
	key := `{"type":"service_account","project_id":"p","client_email":"x@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n"}`
	for _, v := range []string{key, "  " + key + "\n", base64.StdEncoding.EncodeToString([]byte(key))} {
		got, err := serviceAccountKey(v)
		if err != nil || string(got) != key {
			t.Errorf("serviceAccountKey = %q, %v", got, err)
		}
	}
}

func TestEmulatorEndpoints(t *testing.T) {
	for _, tc := range []struct{ rest, grpc, wantREST, wantGRPC, wantErr string }{
		{"127.0.0.1:9050", "", "http://127.0.0.1:9050", "127.0.0.1:9060", ""},
		{"http://localhost:9050/", "", "http://localhost:9050", "localhost:9060", ""},
		{"127.0.0.1:1", "127.0.0.1:2", "http://127.0.0.1:1", "127.0.0.1:2", ""},
		{"[::1]:9050", "", "http://[::1]:9050", "[::1]:9060", ""},
		{"localhost", "", "", "", EnvEmulatorHost + ` "localhost" is not host:port`},
		{"ftp://h:1", "", "", "", EnvEmulatorHost},
		{"h:1", "9060", "", "", EnvEmulatorGRPCHost + ` "9060" is not host:port`},
	} {
		rest, grpc, err := emulatorEndpoints(tc.rest, tc.grpc)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q %q: error %v, want %q", tc.rest, tc.grpc, err, tc.wantErr)
			}
			continue
		}
		if err != nil || rest != tc.wantREST || grpc != tc.wantGRPC {
			t.Errorf("%q %q = %q %q %v, want %q %q", tc.rest, tc.grpc, rest, grpc, err, tc.wantREST, tc.wantGRPC)
		}
	}
}

func TestSpecParametersWinOverTheEnvironment(t *testing.T) {
	noEnv(t)
	t.Setenv(EnvEmulatorHost, "localhost")                // malformed: would fail
	t.Setenv(EnvCredentialsFile, "/nonexistent/key.json") // unreadable: would fail
	spec := WithConnection(Spec("proj", "ds_v4", ""), "127.0.0.1:1", "127.0.0.1:2", "")
	conn, err := connectionOptions(spec.Params)
	if err != nil || !conn.emulator || !strings.Contains(conn.describe, "127.0.0.1:2") {
		t.Fatalf("connectionOptions = %+v, %v", conn, err)
	}
	if got := Spec("p", "d", "").Params[ParamEmulatorHost]; got != "" {
		t.Errorf("Spec sets %s = %q", ParamEmulatorHost, got)
	}
}

func TestCheckSettingsMatchesOpen(t *testing.T) {
	dir := t.TempDir()
	userCreds := filepath.Join(dir, "adc.json")
	os.WriteFile(userCreds, []byte(`{"type":"authorized_user","client_id":"x","client_secret":"`+secret+`","refresh_token":"r"}`), 0o600)
	odd := filepath.Join(dir, "odd.json")
	os.WriteFile(odd, []byte(`{"type":"`+secret+`"}`), 0o600)
	for _, tc := range []struct {
		env  map[string]string
		want string // "" = no problem
	}{
		{map[string]string{}, ""},
		{map[string]string{EnvCredentialsFile: userCreds}, ""},
		{map[string]string{EnvCredentialsFile: odd}, `whose "type" is`},
		{map[string]string{EnvCredentialsFile: dir}, "directory"},
		{map[string]string{EnvServiceAccountJSON: "{" + secret}, "not a service account key"},
		{map[string]string{EnvEmulatorHost: "127.0.0.1:9050"}, ""},
		{map[string]string{EnvEmulatorGRPCHost: "127.0.0.1:9060"}, "is set but " + EnvEmulatorHost + " is not"},
	} {
		problems := CheckSettings(func(k string) string { return tc.env[k] })
		got := strings.Join(problems, "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%v: problems %q, want %q", tc.env, got, tc.want)
		}
		if strings.Contains(got, secret[:10]) {
			t.Errorf("%v: a problem quotes the secret: %s", tc.env, got)
		}
	}
}

func TestSpecHoldsNoSecretAndIsRegistered(t *testing.T) {
	noEnv(t)
	t.Setenv(EnvServiceAccountJSON, `{"type":"service_account","private_key":"`+secret+`"}`)
	spec := Spec("proj", "gitlab_data_export_v4", "")
	if spec.Kind != "bigquery" || spec.Params["location"] != "US" || spec.Params["project"] != "proj" || spec.Params["dataset"] != "gitlab_data_export_v4" {
		t.Errorf("spec = %+v", spec)
	}
	for k, v := range spec.Params {
		if strings.Contains(v, secret) {
			t.Errorf("spec param %s holds the secret", k)
		}
	}
	found := false
	for _, k := range store.Kinds() {
		found = found || k == Kind
	}
	if !found {
		t.Errorf("%q is not registered: %v", Kind, store.Kinds())
	}
	if _, err := Open(context.Background(), Spec("", "ds_v4", "")); err == nil || !strings.Contains(err.Error(), "BIGQUERY_PROJECT") {
		t.Errorf("no project: %v", err)
	}
	if _, err := Open(context.Background(), Spec("p", "bad-name", "")); err == nil {
		t.Error("a bad dataset name was accepted")
	}
}

func TestMalformedCredentialsFile(t *testing.T) {
	noEnv(t)
	path := filepath.Join(t.TempDir(), "key.json")
	os.WriteFile(path, []byte(`{"type":"service_account","private_key":"`+secret), 0o600)
	t.Setenv(EnvCredentialsFile, path)
	_, err := Open(context.Background(), Spec("proj", "ds_v4", ""))
	if err == nil || !strings.Contains(err.Error(), EnvCredentialsFile) {
		t.Fatalf("Open = %v, want an error naming %s", err, EnvCredentialsFile)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error echoes the file's content: %v", err)
	}
}

func TestNoCredentialsAtAll(t *testing.T) {
	noEnv(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
	_, err := Open(context.Background(), Spec("proj", "ds_v4", ""))
	if err == nil {
		t.Skip("Application Default Credentials were found on this machine")
	}
	for _, want := range []string{EnvServiceAccountJSON, EnvCredentialsFile, "gcloud auth application-default login"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
