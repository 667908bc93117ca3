package bigqueryio

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
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

// DefaultEmulatorGRPCPort is the gRPC port assumed when only the emulator's
// REST endpoint is given: the default of goccy/bigquery-emulator's
// --grpc-port.
const DefaultEmulatorGRPCPort = "9060"

// Spec parameters that say where BigQuery is and which credentials file to
// use (none of them is a secret). When a parameter is empty, Open reads the
// environment variable of the same meaning.
const (
	ParamEmulatorHost     = "emulator_host"
	ParamEmulatorGRPCHost = "emulator_grpc_host"
	ParamCredentialsFile  = "credentials_file"
)

// connection is how to reach BigQuery: options of the REST client (tables,
// queries) and of the gRPC client (Storage Write API).
type connection struct {
	rest, grpc []option.ClientOption
	describe   string // where the credentials come from, for error messages
	emulator   bool
}

// setting is a spec parameter, else the environment variable env.
func setting(params map[string]string, param, env string) string {
	if v := params[param]; v != "" {
		return v
	}
	return os.Getenv(env)
}

// emulatorEndpoints checks the emulator's endpoints and returns the REST
// URL and the gRPC host:port. rest may be host:port or an http(s) URL; grpc
// defaults to rest's host with DefaultEmulatorGRPCPort.
func emulatorEndpoints(rest, grpcHost string) (restURL, grpcAddr string, err error) {
	restURL = rest
	if !strings.Contains(restURL, "://") {
		restURL = "http://" + restURL
	}
	u, perr := url.Parse(restURL)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Port() == "" || (u.Path != "" && u.Path != "/") {
		return "", "", fmt.Errorf("%s %q is not host:port (or http://host:port) of the emulator's REST endpoint, e.g. 127.0.0.1:9050", EnvEmulatorHost, rest)
	}
	restURL = strings.TrimSuffix(restURL, "/")
	if grpcHost == "" {
		return restURL, net.JoinHostPort(u.Hostname(), DefaultEmulatorGRPCPort), nil
	}
	grpcAddr = strings.TrimPrefix(strings.TrimPrefix(grpcHost, "http://"), "dns:///")
	if _, port, serr := net.SplitHostPort(grpcAddr); serr != nil || port == "" {
		return "", "", fmt.Errorf("%s %q is not host:port of the emulator's gRPC endpoint (its --grpc-port), e.g. 127.0.0.1:9060", EnvEmulatorGRPCHost, grpcHost)
	}
	return restURL, grpcAddr, nil
}

// CheckSettings reports what is wrong with the BigQuery settings that get
// returns (by environment variable name), as the store would find it when
// opened, without connecting anywhere. No message quotes a key.
func CheckSettings(get func(env string) string) []string {
	var problems []string
	if host := get(EnvEmulatorHost); host != "" {
		if _, _, err := emulatorEndpoints(host, get(EnvEmulatorGRPCHost)); err != nil {
			problems = append(problems, err.Error())
		}
		return problems // no credentials are used with an emulator
	}
	if get(EnvEmulatorGRPCHost) != "" {
		problems = append(problems, fmt.Sprintf("%s is set but %s is not: set %s to host:port of the emulator's REST endpoint too, or unset both", EnvEmulatorGRPCHost, EnvEmulatorHost, EnvEmulatorHost))
	}
	if raw := get(EnvServiceAccountJSON); strings.TrimSpace(raw) != "" {
		if _, err := serviceAccountKey(raw); err != nil {
			problems = append(problems, strings.TrimPrefix(err.Error(), "bigquery store: "))
		}
	} else if path := get(EnvCredentialsFile); path != "" {
		if err := checkCredentialsFile(path); err != nil {
			problems = append(problems, strings.TrimPrefix(err.Error(), "bigquery store: "))
		}
	}
	return problems
}

var typeName = regexp.MustCompile(`^[a-z_]{1,40}$`)

func checkCredentialsFile(path string) error {
	_, err := credentialsFileOption(path)
	return err
}

// credentialsFileOption reads the credentials file at path and returns the
// client option that uses it. The file's "type" chooses how: service
// account keys, user credentials (gcloud auth application-default login),
// impersonation and workload identity federation files are accepted. Errors
// never quote the file's content.
func credentialsFileOption(path string) (option.ClientOption, error) {
	bad := func(why string) error {
		return fmt.Errorf("bigquery store: %s names %s, %s", EnvCredentialsFile, path, why)
	}
	st, err := os.Stat(path)
	if err == nil && st.IsDir() {
		return nil, bad("which is a directory: set it to the credentials file itself")
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, bad(fmt.Sprintf("which cannot be read: %v: set it to a readable credentials file, or unset it", errors.Unwrap(err)))
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(text, &head); err != nil {
		return nil, bad("which is not a JSON credentials file (download a service account key: IAM > Service accounts > Keys)")
	}
	types := map[string]option.CredentialsType{
		"service_account":              option.ServiceAccount,
		"authorized_user":              option.AuthorizedUser,
		"impersonated_service_account": option.ImpersonatedServiceAccount,
		"external_account":             option.ExternalAccount,
	}
	ct, ok := types[head.Type]
	if !ok {
		shown := "not a known credentials type"
		if typeName.MatchString(head.Type) { // never echo anything that could be key material
			shown = fmt.Sprintf("%q", head.Type)
		}
		return nil, bad(fmt.Sprintf("whose \"type\" is %s: expected service_account, authorized_user, impersonated_service_account or external_account", shown))
	}
	return option.WithAuthCredentialsFile(ct, path), nil
}

// connectionOptions reads the settings (spec parameters, else environment):
// an emulator, else a service account key in BIGQUERY_SERVICE_ACCOUNT_JSON
// (environment only: a secret never travels in a spec), else the file named
// by GOOGLE_APPLICATION_CREDENTIALS, else Application Default Credentials.
func connectionOptions(params map[string]string) (connection, error) {
	if host := setting(params, ParamEmulatorHost, EnvEmulatorHost); host != "" {
		restURL, grpcAddr, err := emulatorEndpoints(host, setting(params, ParamEmulatorGRPCHost, EnvEmulatorGRPCHost))
		if err != nil {
			return connection{}, fmt.Errorf("bigquery store: %w", err)
		}
		return connection{
			rest: []option.ClientOption{option.WithEndpoint(restURL), option.WithoutAuthentication()},
			grpc: []option.ClientOption{
				option.WithEndpoint(grpcAddr),
				option.WithoutAuthentication(),
				option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
				option.WithGRPCDialOption(grpc.WithStreamInterceptor(nameEveryAppend)),
			},
			describe: "the emulator at " + restURL + " and " + grpcAddr + " (" + EnvEmulatorHost + ")",
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
	if path := setting(params, ParamCredentialsFile, EnvCredentialsFile); path != "" {
		creds, err := credentialsFileOption(path)
		if err != nil {
			return connection{}, err
		}
		return connection{rest: []option.ClientOption{creds}, grpc: []option.ClientOption{creds},
			describe: "credentials: the file named by " + EnvCredentialsFile}, nil
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
