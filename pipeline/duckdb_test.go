//go:build cgo

package pipeline_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver
)

// TestReadmeDuckDBQueries runs the README's DuckDB queries of the files
// store (and its jq example), as written, on an export of the simulator:
// a backfill, changes, then an incremental run, so that records appear
// more than once. Each query's result is checked against the simulator's
// data; a query without a check here fails the test.
func TestReadmeDuckDBQueries(t *testing.T) {
	sqlBlocks, shBlocks := readmeFilesStoreBlocks(t)
	queries := map[string]string{} // first comment line -> query
	var order []string
	for _, block := range sqlBlocks {
		for _, q := range strings.Split(block, ";\n") {
			if q = strings.TrimSpace(q); q == "" {
				continue
			}
			header, _, _ := strings.Cut(q, "\n")
			if !strings.HasPrefix(header, "-- ") {
				t.Fatalf("README DuckDB query without a leading comment line:\n%s", q)
			}
			queries[header] = q
			order = append(order, header)
		}
	}

	// The export, into <root>/gitlab-data-export: the README's paths are
	// those of the default FILES_DIR, relative to the directory the export
	// ran in.
	// An instance in a zone with summer time: the files hold times with
	// two offsets, which the queries compare as instants.
	o := simOptions()
	o.TimeZone = zoneWithSummerTime()
	h := newHarness(t, o)
	root := t.TempDir()
	h.dir = filepath.Join(root, "gitlab-data-export")
	h.env["FILES_DIR"] = h.dir
	h.env["GITLAB_RESOURCES"] = "projects,issues,merge_requests,pipelines"
	h.mustRun()
	// Changes until the README's example issue (issue 3 of project 1000)
	// is among them, so that its history has more than one row.
	var exampleID string
	for id, r := range h.expected("issues") {
		if fmt.Sprint(r["project_id"]) == "1000" && fmt.Sprint(r["iid"]) == "3" {
			exampleID = id
		}
	}
	if exampleID == "" {
		t.Fatal("the simulator has no issue 3 in project 1000: change the README's example")
	}
	h.sim.Advance(time.Minute)
	for i := 0; !slices.Contains(h.sim.Mutate(6).Changed["issues"], mustInt(t, exampleID)); i++ {
		if i == 50 {
			t.Fatalf("50 changes of the simulator left issue %s alone", exampleID)
		}
	}
	h.mustRun()
	t.Chdir(root)

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	checks := map[string]func(t *testing.T, rows []row){
		"-- every issue row ever exported": func(t *testing.T, rows []row) {
			stored := h.table("issues")
			if len(rows) != len(stored) {
				t.Errorf("%d rows, the store holds %d issue records", len(rows), len(stored))
			}
			if len(stored) <= len(h.expected("issues")) {
				t.Errorf("the store holds %d issue records for %d issues: no issue was exported twice, the test proves less", len(stored), len(h.expected("issues")))
			}
		},
		"-- latest state of every issue: for each id, the row with the greatest updated_at": func(t *testing.T, rows []row) {
			want := h.expected("issues")
			seen := map[string]bool{}
			for _, r := range rows {
				id := fmt.Sprint(r["id"])
				if seen[id] {
					t.Errorf("issue %s: more than one row", id)
				}
				seen[id] = true
				api, ok := want[id]
				switch {
				case !ok:
					t.Errorf("issue %s: not in the simulator", id)
				case r["title"] != api["title"] || r["state"] != api["state"]:
					t.Errorf("issue %s: %q (%v), the simulator has %q (%v)", id, r["title"], r["state"], api["title"], api["state"])
				case !sameTime(r["updated_at"], api["updated_at"]):
					t.Errorf("issue %s: updated_at %v, the simulator has %v", id, r["updated_at"], api["updated_at"])
				}
			}
			if len(seen) != len(want) {
				t.Errorf("%d issues, the simulator holds %d", len(seen), len(want))
			}
		},
		"-- history of one issue (issue 3 of project 1000), oldest first": func(t *testing.T, rows []row) {
			api := h.expected("issues")[exampleID]
			var stored int
			for _, r := range h.table("issues") {
				if fmt.Sprint(r["project_id"]) == "1000" && fmt.Sprint(r["iid"]) == "3" {
					stored++
				}
			}
			if len(rows) < 2 || len(rows) != stored {
				t.Fatalf("%d rows, the store holds %d records of the issue (one per run)", len(rows), stored)
			}
			for i := 1; i < len(rows); i++ {
				if timeOf(rows[i]["updated_at"]).Before(timeOf(rows[i-1]["updated_at"])) {
					t.Errorf("rows not oldest first: %v then %v", rows[i-1]["updated_at"], rows[i]["updated_at"])
				}
			}
			last := rows[len(rows)-1]
			if last["title"] != api["title"] || last["state"] != api["state"] || !sameTime(last["updated_at"], api["updated_at"]) {
				t.Errorf("the last row is %v, the simulator has %q %v %v", last, api["title"], api["state"], api["updated_at"])
			}
		},
		"-- merge request cycle time per project: hours from creation to merge": func(t *testing.T, rows []row) {
			hours := map[string][]float64{}
			for _, r := range h.expected("merge_requests") {
				if r["state"] == "merged" {
					p := fmt.Sprint(r["project_id"])
					hours[p] = append(hours[p], timeOf(r["merged_at"]).Sub(timeOf(r["created_at"])).Seconds()/3600)
				}
			}
			got := map[string]bool{}
			for _, r := range rows {
				p := fmt.Sprint(r["project_id"])
				got[p] = true
				want := hours[p]
				if fmt.Sprint(r["merged"]) != fmt.Sprint(len(want)) {
					t.Errorf("project %s: %v merged, the simulator has %d", p, r["merged"], len(want))
					continue
				}
				if !near(r["median_hours"], median(want)) || !near(r["mean_hours"], mean(want)) {
					t.Errorf("project %s: median %v h, mean %v h; the simulator's: %.1f h, %.1f h", p, r["median_hours"], r["mean_hours"], median(want), mean(want))
				}
			}
			if len(got) != len(hours) || len(hours) == 0 {
				t.Errorf("%d projects, the simulator has merged merge requests in %d", len(got), len(hours))
			}
		},
		"-- pipeline success rate per project and week (finished pipelines, latest state of each)": func(t *testing.T, rows []row) {
			type tally struct{ n, ok int }
			want := map[string]*tally{}
			for _, r := range h.expected("pipelines") {
				if r["status"] != "success" && r["status"] != "failed" {
					continue
				}
				c := timeOf(r["created_at"]).UTC()
				monday := time.Date(c.Year(), c.Month(), c.Day()-(int(c.Weekday())+6)%7, 0, 0, 0, 0, time.UTC)
				k := fmt.Sprint(r["project_id"], " ", monday.Format(time.DateOnly))
				if want[k] == nil {
					want[k] = &tally{}
				}
				want[k].n++
				if r["status"] == "success" {
					want[k].ok++
				}
			}
			for _, r := range rows {
				k := fmt.Sprint(r["project_id"], " ", timeOf(r["week"]).Format(time.DateOnly))
				w := want[k]
				if w == nil {
					t.Errorf("%s: %v pipelines, the simulator has none finished that week", k, r["pipelines"])
					continue
				}
				delete(want, k)
				rate := math.Round(float64(w.ok)/float64(w.n)*1000) / 1000
				if fmt.Sprint(r["pipelines"]) != fmt.Sprint(w.n) || !near(r["success_rate"], rate) {
					t.Errorf("%s: %v pipelines, success rate %v; the simulator's: %d, %.3f", k, r["pipelines"], r["success_rate"], w.n, rate)
				}
			}
			if len(rows) == 0 || len(want) > 0 {
				t.Errorf("%d rows; weeks missing: %d", len(rows), len(want))
			}
		},
	}
	for _, header := range order {
		check := checks[header]
		if check == nil {
			t.Errorf("README DuckDB query %q has no check in TestReadmeDuckDBQueries", header)
			continue
		}
		delete(checks, header)
		t.Run(strings.TrimPrefix(header, "-- "), func(t *testing.T) {
			rows, err := queryRows(db, queries[header])
			if err != nil {
				t.Fatalf("README query failed: %v\n%s", err, queries[header])
			}
			t.Logf("%d rows; first: %v", len(rows), first(rows))
			check(t, rows)
		})
	}
	for header := range checks {
		t.Errorf("the README has no DuckDB query %q", header)
	}

	// The jq example, when jq is installed.
	var jq string
	for _, b := range shBlocks {
		if strings.Contains(b, "| jq ") {
			jq = b
		}
	}
	if jq == "" {
		t.Fatal("the README's files store section has no jq example")
	}
	if _, err := exec.LookPath("jq"); err != nil {
		t.Log("jq is not installed: the README's jq example was not run")
		return
	}
	cmd := exec.Command("sh", "-c", jq)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the README's jq example: %v\n%s", err, jq)
	}
	var latest []row
	d := json.NewDecoder(bytes.NewReader(out))
	d.UseNumber()
	if err := d.Decode(&latest); err != nil {
		t.Fatalf("the README's jq example printed no JSON array: %v", err)
	}
	want := h.expected("issues")
	for _, r := range latest {
		api := want[fmt.Sprint(r["id"])]
		if api == nil || r["title"] != api["title"] || r["state"] != api["state"] || r["updated_at"] != api["updated_at"] {
			t.Errorf("jq: issue %v is %v, the simulator has %v", r["id"], r, api)
		}
	}
	if len(latest) != len(want) {
		t.Errorf("jq: %d issues, the simulator holds %d", len(latest), len(want))
	}
	t.Logf("the README's jq example printed the latest state of %d issues", len(latest))
}

// readmeFilesStoreBlocks returns the ```sql and ```sh blocks of the
// README's section on the files store.
func readmeFilesStoreBlocks(t *testing.T) (sqlBlocks, shBlocks []string) {
	return readmeSectionBlocks(t, "The files store")
}

// readmeSectionBlocks returns the ```sql and ```sh blocks of the README's
// section (## heading...).
func readmeSectionBlocks(t *testing.T, heading string) (sqlBlocks, shBlocks []string) {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n## "+heading)
	if i < 0 {
		t.Fatalf("README has no ## %s section", heading)
	}
	text = text[i+1:]
	if j := strings.Index(text, "\n## "); j >= 0 {
		text = text[:j]
	}
	blocks := func(lang string) []string {
		var out []string
		for _, s := range strings.Split(text, "```"+lang+"\n")[1:] {
			out = append(out, s[:strings.Index(s, "```")])
		}
		return out
	}
	sqlBlocks, shBlocks = blocks("sql"), blocks("sh")
	if len(sqlBlocks) == 0 {
		t.Fatalf("README's section %s has no ```sql block", heading)
	}
	return sqlBlocks, shBlocks
}

// queryRows runs q and returns its rows by column name.
func queryRows(db *sql.DB, q string) ([]row, error) {
	rs, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	var out []row
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := row{}
		for i, c := range cols {
			r[c] = vals[i]
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// timeOf reads a time that DuckDB returned (time.Time) or that a JSON
// object holds (RFC 3339 text).
func timeOf(v any) time.Time {
	switch v := v.(type) {
	case time.Time:
		return v
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err == nil {
			return t
		}
	}
	return time.Time{}
}

func sameTime(a, b any) bool {
	ta, tb := timeOf(a), timeOf(b)
	return !ta.IsZero() && ta.Equal(tb)
}

// near compares a number DuckDB returned with one computed here, to the
// README's rounding.
func near(v any, want float64) bool {
	var f float64
	switch v := v.(type) {
	case float64:
		f = v
	case float32:
		f = float64(v)
	default:
		return false
	}
	return math.Abs(f-want) <= 0.051
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func first(rows []row) row {
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}

// zoneWithSummerTime is Europe/Berlin (+01:00 in winter, +02:00 in
// summer), or a fixed +02:00 where the system has no zone data.
func zoneWithSummerTime() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.FixedZone("CEST", 2*3600)
}
