package gitlab

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
)

func TestSecretRedaction(t *testing.T) {
	sec := &catalog.Secret{Field: "value", Flags: []string{"masked", "hidden"}}
	for in, want := range map[string]string{
		`{"key":"A","value":"s3cret","masked":true,"hidden":false}`:  `null`,
		`{"key":"A","value":"s3cret","masked":false,"hidden":true}`:  `null`,
		`{"key":"A","value":"s3cret","masked":false}`:                `null`, // a flag missing: secret
		`{"key":"A","value":"plain","masked":false,"hidden":false}`:  `"plain"`,
		`{"key":"A","value":null,"masked":true,"hidden":true}`:       `null`,
		`{"key":"A","value":"s3cret","masked":"yes","hidden":false}`: `null`,
	} {
		var fields map[string]json.RawMessage
		json.Unmarshal([]byte(in), &fields)
		out, err := redactSecret(sec, json.RawMessage(in), fields)
		var got map[string]json.RawMessage
		if err != nil || json.Unmarshal(out, &got) != nil || string(got["value"]) != want || string(got["key"]) != `"A"` {
			t.Errorf("%s -> %s (%v), want value %s", in, out, err, want)
		}
	}
	always := &catalog.Secret{Field: "token", Always: true}
	tok := `{"id":1,"token":"s3cret"}`
	var tf map[string]json.RawMessage
	json.Unmarshal([]byte(tok), &tf)
	if out, _ := redactSecret(always, json.RawMessage(tok), tf); strings.Contains(string(out), "s3cret") {
		t.Errorf("Always: %s", out)
	}
	// No flags: the value is written (when the table is opted in).
	plain := &catalog.Secret{Field: "value"}
	in := `{"key":"A","value":"v"}`
	var fields map[string]json.RawMessage
	json.Unmarshal([]byte(in), &fields)
	if out, _ := redactSecret(plain, json.RawMessage(in), fields); string(out) != in {
		t.Errorf("no flags: %s", out)
	}
}

func TestDottedKeys(t *testing.T) {
	var fields map[string]json.RawMessage
	json.Unmarshal([]byte(`{"user":{"id":7,"name":"a"},"starred_since":"x"}`), &fields)
	if v, ok := lookupField(fields, "user.id"); !ok || string(v) != "7" {
		t.Errorf("user.id = %s %v", v, ok)
	}
	if _, ok := lookupField(fields, "user.email"); ok {
		t.Error("user.email found")
	}
	if _, ok := lookupField(fields, "starred_since.x"); ok {
		t.Error("a field of a string found")
	}
}
