//go:build cgo

package pipeline_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
	// The "duckdb" driver: imported by duckdb_test.go.
)

// TestReadmeGCSDuckDBQuery runs the DuckDB query of the README's Cloud
// Storage store section on an export into fake-gcs-server (the default
// GCS_PREFIX), over the objects downloaded: a backfill, changes, then an
// incremental run, so that issues appear more than once. DuckDB's httpfs
// extension cannot be installed here (no network), so the README's
// gs://my-bucket/ path is replaced by the download's directory.
func TestReadmeGCSDuckDBQuery(t *testing.T) {
	sqlBlocks, _ := readmeSectionBlocks(t, "The Cloud Storage store")
	const readmeRoot = "gs://my-bucket/gitlab-data-export/"
	var queries []string
	for _, block := range sqlBlocks {
		for _, q := range strings.Split(block, ";\n") {
			if strings.Contains(q, "read_json_auto('"+readmeRoot) {
				queries = append(queries, strings.TrimSpace(q))
			}
		}
	}
	if len(queries) != 1 || !strings.HasPrefix(queries[0], "-- latest state of every issue") {
		t.Fatalf("the section's DuckDB queries: %q; want the latest state of every issue", queries)
	}

	h := newGCSHarness(t, simOptions())
	delete(h.env, "GCS_PREFIX") // the default, which the README's path names
	h.prefix = "gitlab-data-export"
	h.env["GITLAB_RESOURCES"] = "projects,issues"
	h.mustRun()
	h.sim.Advance(time.Minute)
	h.sim.Mutate(6)
	h.mustRun(everyRun...)
	h.download()
	want := h.expected("issues")
	if len(h.table("issues")) <= len(want) {
		t.Fatalf("%d issue records for %d issues: none was exported twice, the test proves less", len(h.table("issues")), len(want))
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := strings.ReplaceAll(queries[0], readmeRoot, h.dir+"/")
	rows, err := queryRows(db, q)
	if err != nil {
		t.Fatalf("the README's query: %v\n%s", err, q)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		id := fmt.Sprint(r["id"])
		api, ok := want[id]
		switch {
		case seen[id]:
			t.Errorf("issue %s: more than one row", id)
		case !ok:
			t.Errorf("issue %s: not in the simulator", id)
		case r["title"] != api["title"] || r["state"] != api["state"] || !sameTime(r["updated_at"], api["updated_at"]):
			t.Errorf("issue %s: %v, the simulator has %q %v %v", id, r, api["title"], api["state"], api["updated_at"])
		}
		seen[id] = true
	}
	if len(seen) != len(want) {
		t.Errorf("%d issues, the simulator holds %d", len(seen), len(want))
	}
}
