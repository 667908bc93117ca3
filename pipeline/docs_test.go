package pipeline

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestReadmeIsGenerated keeps the README's configuration and resource tables
// equal to the code they are generated from. UPDATE_README=1 rewrites them.
func TestReadmeIsGenerated(t *testing.T) {
	const path = "../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	var cfg, cat bytes.Buffer
	WriteOptionsTable(&cfg)
	WriteResourceTable(&cat)
	updated := replaceBetween(t, readme, "config", cfg.String())
	updated = replaceBetween(t, updated, "catalog", cat.String())
	if updated == readme {
		return
	}
	if os.Getenv("UPDATE_README") != "" {
		if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's generated tables are out of date: run UPDATE_README=1 go test ./pipeline -run TestReadmeIsGenerated")
}

func replaceBetween(t *testing.T, doc, name, body string) string {
	t.Helper()
	begin := "<!-- BEGIN " + name + " (generated from the code by TestReadmeIsGenerated; do not edit) -->\n"
	end := "<!-- END " + name + " -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q ... %q", begin, end)
	}
	return doc[:i+len(begin)] + body + doc[j:]
}
