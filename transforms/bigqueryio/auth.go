package bigqueryio

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The environment variables Open reads. None of them is ever logged, written
// or put in a Spec.
const (
	// EnvServiceAccountJSON holds a service account key itself (its JSON
	// text, or that text base64-encoded).
	EnvServiceAccountJSON = "BIGQUERY_SERVICE_ACCOUNT_JSON"
	// EnvCredentialsFile is the standard path of a credentials file.
	EnvCredentialsFile = "GOOGLE_APPLICATION_CREDENTIALS"
	// EnvEmulatorHost is host:port of a BigQuery emulator's REST endpoint.
	EnvEmulatorHost = "BIGQUERY_EMULATOR_HOST"
	// EnvEmulatorGRPCHost is host:port of the emulator's gRPC endpoint (the
	// Storage Write API).
	EnvEmulatorGRPCHost = "BIGQUERY_EMULATOR_GRPC_HOST"
)

// connection is how to reach BigQuery: options of the REST client (tables,
// queries) and of the gRPC client (Storage Write API).
type connection struct {
	rest, grpc []option.ClientOption
	describe   string // where the credentials come from, for error messages
	emulator   bool
}

// connectionOptions reads the environment: an emulator, else a service
// account key in BIGQUERY_SERVICE_ACCOUNT_JSON, else the file named by
// GOOGLE_APPLICATION_CREDENTIALS, else Application Default Credentials.
func connectionOptions() (connection, error) {
	if host := os.Getenv(EnvEmulatorHost); host != "" {
		grpcHost := os.Getenv(EnvEmulatorGRPCHost)
		if grpcHost == "" {
			return connection{}, fmt.Errorf("bigquery store: %s is set (%s) but %s is not: set it to host:port of the emulator's gRPC endpoint (its --grpc-port)",
				EnvEmulatorHost, host, EnvEmulatorGRPCHost)
		}
		if !strings.Contains(host, "://") {
			host = "http://" + host
		}
		return connection{
			rest: []option.ClientOption{option.WithEndpoint(host), option.WithoutAuthentication()},
			grpc: []option.ClientOption{
				option.WithEndpoint(strings.TrimPrefix(grpcHost, "http://")),
				option.WithoutAuthentication(),
				option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
				option.WithGRPCDialOption(grpc.WithStreamInterceptor(nameEveryAppend)),
			},
			describe: "the emulator at " + host + " (" + EnvEmulatorHost + ")",
			emulator: true,
		}, nil
	}
	if raw := os.Getenv(EnvServiceAccountJSON); strings.TrimSpace(raw) != "" {
		key, err := serviceAccountKey(raw)
		if err != nil {
			return connection{}, err
		}
		creds := option.WithAuthCredentialsJSON(option.ServiceAccount, key)
		return connection{rest: []option.ClientOption{creds}, grpc: []option.ClientOption{creds},
			describe: "credentials: the service account key in " + EnvServiceAccountJSON}, nil
	}
	if path := os.Getenv(EnvCredentialsFile); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return connection{}, fmt.Errorf("bigquery store: %s names %s, which cannot be read: %w: set it to a readable credentials file, or unset it", EnvCredentialsFile, path, errors.Unwrap(err))
		}
		st, err := f.Stat()
		f.Close()
		if err == nil && st.IsDir() {
			return connection{}, fmt.Errorf("bigquery store: %s names %s, which is a directory: set it to the credentials file itself", EnvCredentialsFile, path)
		}
		// The client libraries read the file themselves.
		return connection{describe: "credentials: the file named by " + EnvCredentialsFile}, nil
	}
	return connection{describe: "credentials: Application Default Credentials; set " + EnvServiceAccountJSON + " or " + EnvCredentialsFile +
		", or run `gcloud auth application-default login`"}, nil
}

// serviceAccountKey checks that raw is a service account key (its JSON, or
// the JSON base64-encoded) and returns the JSON. Errors never quote raw.
func serviceAccountKey(raw string) ([]byte, error) {
	bad := func(why string) error {
		return fmt.Errorf("bigquery store: %s is not a service account key (JSON): %s", EnvServiceAccountJSON, why)
	}
	text := []byte(strings.TrimSpace(raw))
	if text[0] != '{' {
		if dec, err := base64.StdEncoding.DecodeString(string(text)); err == nil && len(dec) > 0 && strings.HasPrefix(strings.TrimSpace(string(dec)), "{") {
			text = []byte(strings.TrimSpace(string(dec)))
		} else if _, err := os.Stat(string(text)); err == nil {
			return nil, bad("it looks like a file path: put the key's JSON text in " + EnvServiceAccountJSON + ", or the path in " + EnvCredentialsFile)
		} else {
			return nil, bad("it does not start with '{' (nor is it base64 of a JSON object)")
		}
	}
	var key struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(text, &key); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, bad(fmt.Sprintf("invalid JSON at byte %d", syn.Offset))
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, bad(fmt.Sprintf("field %q is a JSON %s", typ.Field, typ.Value))
		}
		return nil, bad("invalid JSON")
	}
	switch {
	case key.Type != "service_account":
		return nil, bad(fmt.Sprintf("its \"type\" is %.40q, not \"service_account\" (create a key for a service account in the Cloud console: IAM > Service accounts > Keys)", key.Type))
	case key.ClientEmail == "" || key.PrivateKey == "":
		return nil, bad("it lacks \"client_email\" or \"private_key\"")
	}
	return text, nil
}
