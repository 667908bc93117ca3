package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/bigqueryio"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/internal/bqemulator"
	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// The exporter into the BigQuery emulator (goccy/bigquery-emulator), on
// Prism, against the simulator: the same runs as the files store's tests,
// checked by querying the tables, the views and the checkpoint table.

var emu struct {
	once sync.Once
	err  error
	*bqemulator.Emulator
}

func stopEmulator() {
	if emu.Emulator != nil {
		if os.Getenv("GDE_EMULATOR_LOG") != "" {
			fmt.Fprintf(os.Stderr, "the emulator's log ends with:\n%s\n", emu.LogTail(40))
		}
		emu.Stop()
	}
}

// bqHarness is a harness whose runs write to a dataset of their own on the
// emulator.
type bqHarness struct {
	*harness
	dataset string // with _v4
	client  *bigquery.Client
}

func newBQHarness(t *testing.T, o gitlabsim.Options) *bqHarness {
	t.Helper()
	emu.once.Do(func() { emu.Emulator, emu.err = bqemulator.Start("test-project") })
	if emu.err != nil {
		t.Fatalf("BigQuery emulator: %v", emu.err)
	}
	h := newHarness(t, o)
	name := "e2e_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	delete(h.env, "FILES_DIR")
	for k, v := range map[string]string{
		"DATASTORE":                   "bigquery",
		"BIGQUERY_PROJECT":            emu.Project,
		"BIGQUERY_DATASET":            name,
		"BIGQUERY_EMULATOR_HOST":      emu.REST,
		"BIGQUERY_EMULATOR_GRPC_HOST": emu.GRPC,
		// The store's behaviour does not depend on the number of tables, and
		// the emulator creates tables slowly (one at a time, see
		// bigqueryio.emulatorSerial): these tests export the core tables; the
		// files store's tests cover the whole catalog.
		"GITLAB_RESOURCES": strings.Join(allTables, ","),
	} {
		h.env[k] = v
	}
	client, err := bigquery.NewClient(context.Background(), emu.Project,
		option.WithEndpoint("http://"+emu.REST), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return &bqHarness{harness: h, dataset: name + pipeline.APIVersionSuffix, client: client}
}

func (h *bqHarness) query(sql string) []map[string]bigquery.Value {
	h.t.Helper()
	it, err := h.client.Query(sql).Read(context.Background())
	if err != nil {
		h.t.Fatalf("query %s: %v", sql, err)
	}
	var rows []map[string]bigquery.Value
	for {
		r := map[string]bigquery.Value{}
		err := it.Next(&r)
		if errors.Is(err, iterator.Done) {
			return rows
		}
		if err != nil {
			h.t.Fatalf("query %s: %v", sql, err)
		}
		rows = append(rows, r)
	}
}

func (h *bqHarness) sqlTable(table string) string {
	return "`" + emu.Project + "." + h.dataset + "." + table + "`"
}

// exists reports whether a table or view exists.
func (h *bqHarness) exists(table string) bool {
	_, err := h.client.Dataset(h.dataset).Table(table).Metadata(context.Background())
	return err == nil
}

// bqRows reads a table's or view's rows: the payload decoded, checked against
// the typed columns. where filters ("" = all).
func (h *bqHarness) bqRows(table, where string) []row {
	h.t.Helper()
	if !h.exists(table) {
		return nil
	}
	sql := "SELECT id, data_date, payload FROM " + h.sqlTable(table)
	if where != "" {
		sql += " WHERE " + where
	}
	var out []row
	for _, r := range h.query(sql) {
		text, ok := r["payload"].(string)
		if !ok {
			h.t.Fatalf("%s: payload is a %T", table, r["payload"])
		}
		// An object, as BigQuery stores it (the store parses the emulator's
		// JSON strings after each commit: bigqueryio.emulatorParsePayloads).
		obj, err := decode([]byte(text))
		if err != nil {
			h.t.Fatalf("%s: payload %q: %v", table, text, err)
		}
		if id, ok := r["id"].(int64); ok && fmt.Sprint(obj["id"]) != fmt.Sprint(id) {
			h.t.Errorf("%s: id column %d, payload id %v", table, id, obj["id"])
		}
		if dd, ok := r["data_date"].(time.Time); !ok || dd.UTC().Format(time.RFC3339) != fmt.Sprint(obj["data_date"]) {
			h.t.Errorf("%s: data_date column %v, payload %v", table, r["data_date"], obj["data_date"])
		}
		out = append(out, obj)
	}
	return out
}

func (h *bqHarness) dataDateOf(res *pipeline.Result) string {
	return "data_date = TIMESTAMP '" + res.Job.DataDate + "'"
}

// checkBQ asserts that view (a table's _latest view) holds exactly the
// simulator's current objects, and that no run stored a record twice.
func (h *bqHarness) checkBQ(tables []string) {
	t := h.t
	t.Helper()
	for _, table := range tables {
		want := h.expected(table)
		if len(want) == 0 {
			t.Errorf("%s: the simulator holds no objects; the test proves nothing", table)
			continue
		}
		seen := map[string]bool{}
		for _, r := range h.bqRows(table, "") {
			k := key(table, r) + "@" + fmt.Sprint(r["data_date"])
			if seen[k] {
				t.Errorf("%s: %s stored twice by one run", table, k)
			}
			seen[k] = true
		}
		got := map[string]row{}
		for _, r := range h.bqRows(table+"_latest", "") {
			k := key(table, r)
			if _, dup := got[k]; dup {
				t.Errorf("%s_latest: %s appears twice", table, k)
			}
			got[k] = r
		}
		checkHolds(t, table+"_latest", want, got)
		// Objects the simulator no longer serves (deleted) stay in the
		// store: the export is append-only.
		if len(got) < len(want) {
			t.Errorf("%s_latest: %d rows, the simulator holds %d objects", table, len(got), len(want))
		}
	}
}

// bqCheckpoint returns the job's newest _checkpoints row.
func (h *bqHarness) bqCheckpoint() map[string]bigquery.Value {
	if !h.exists("_checkpoints") {
		return nil
	}
	rows := h.query("SELECT run_id, started_at, records, reconciled_at FROM " + h.sqlTable("_checkpoints") +
		" WHERE job_id = '" + h.env["CHECKPOINT_JOB_ID"] + "' ORDER BY started_at DESC LIMIT 1")
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}

func TestBigQueryBackfillThenIncremental(t *testing.T) {
	h := newBQHarness(t, simOptions())
	first := h.mustRun()
	h.checkBQ(allTables)

	cp := h.bqCheckpoint()
	if cp == nil || cp["run_id"] != first.Checkpoint.RunID {
		t.Fatalf("checkpoint row %v, want run %s", cp, first.Checkpoint.RunID)
	}
	var counts map[string]int64
	if err := json.Unmarshal([]byte(fmt.Sprint(cp["records"])), &counts); err != nil {
		t.Fatalf("checkpoint records %v: %v", cp["records"], err)
	}
	if n := int64(len(h.bqRows("issues", ""))); counts["issues"] != n || n == 0 {
		t.Errorf("the checkpoint counts %d issues, the table holds %d", counts["issues"], n)
	}
	for _, table := range allTables {
		if !h.exists(table + "_latest") {
			t.Errorf("no view %s_latest", table)
		}
	}
	md, err := h.client.Dataset(h.dataset).Table("issues").Metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tp := md.TimePartitioning; tp == nil || tp.Field != "data_date" || tp.Type != bigquery.DayPartitioningType {
		t.Errorf("issues is not partitioned by day of data_date: %+v", tp)
	}
	if c := md.Clustering; c == nil || len(c.Fields) != 1 || c.Fields[0] != "id" {
		t.Errorf("issues is not clustered by id: %+v", c)
	}
	for _, col := range []string{"id", "project_id", "created_at", "updated_at", "data_date", "payload"} {
		found := false
		for _, f := range md.Schema {
			found = found || f.Name == col
		}
		if !found {
			t.Errorf("issues has no column %s", col)
		}
	}

	h.sim.Advance(time.Minute)
	h.sim.Mutate(6)
	// Every parent's silent children too (GITLAB_REFRESH_PERIOD=0s), so
	// that the latest views can be compared whole with the simulator.
	second := h.mustRun(everyRun...)
	if cp := h.bqCheckpoint(); cp == nil || cp["run_id"] != second.Checkpoint.RunID {
		t.Fatalf("checkpoint row after the second run: %v", cp)
	}
	if p := second.Previous; p == nil || p.RunID != first.Checkpoint.RunID {
		t.Errorf("the second run did not start from the first's checkpoint: %+v", p)
	}
	h.checkBQ(allTables)

	// The second run stored the issues updated in its window (and, with
	// the refresh, the others), each once.
	moved := movedSince(t, h.harness, "issues", first.Checkpoint.StartedAt.Add(-10*time.Minute))
	got := map[string]int{}
	for _, r := range h.bqRows("issues", h.dataDateOf(second)) {
		got[fmt.Sprint(r["id"])]++
	}
	checkStoredOnce(t, moved, got)
}

// checkStoredOnce asserts that an incremental run stored each issue updated
// in its window (moved) once (got: its rows by id).
func checkStoredOnce(t *testing.T, moved map[string]bool, got map[string]int) {
	t.Helper()
	if len(moved) == 0 {
		t.Error("the mutation moved no issue: the test proves nothing")
	}
	for id := range moved {
		if got[id] != 1 {
			t.Errorf("issue %s updated in the window stored %d times by the incremental run", id, got[id])
		}
	}
}

// Times served with the instance's offsets: the typed columns hold the
// instants, and the _latest views order by them.
func TestBigQueryTimesWithOffsets(t *testing.T) {
	o := simOptions()
	o.TimeZone = time.FixedZone("IST", 5*3600+1800)
	h := newBQHarness(t, o)
	h.mustRun()
	h.sim.Advance(time.Minute)
	h.sim.Mutate(6)
	h.mustRun(everyRun...)
	h.checkBQ([]string{"issues", "merge_requests", "pipelines"})
	for _, r := range h.bqRows("issues_latest", "") {
		if !strings.HasSuffix(fmt.Sprint(r["updated_at"]), "+05:30") {
			t.Fatalf("the simulator served %v: the test proves nothing", r["updated_at"])
		}
		break
	}
}

func TestBigQueryFailedRunLeavesNothingVisible(t *testing.T) {
	h := newBQHarness(t, simOptions())
	first := h.mustRun()
	h.sim.Advance(time.Minute)
	h.sim.Mutate(6)
	before := map[string]int{}
	for _, table := range allTables {
		before[table] = len(h.bqRows(table, ""))
	}

	// An outage of every project's listings: the group's own listings
	// (the tree's issues and merge requests among them) write their rows
	// to pending streams; the run stops whole, and none of them may
	// become visible.
	h.sim.AddFault(gitlabsim.Fault{PathRegexp: `^/api/v4/projects/\d+/.+`, Status: 500})
	_, err := h.run()
	if err == nil || pipeline.ExitCode(err) != pipeline.ExitFailed {
		t.Fatalf("run against persistent 500s: %v", err)
	}
	for _, table := range allTables {
		if n := len(h.bqRows(table, "")); n != before[table] {
			t.Errorf("%s: the failed run made %d rows visible", table, n-before[table])
		}
	}
	if cp := h.bqCheckpoint(); cp == nil || cp["run_id"] != first.Checkpoint.RunID {
		t.Fatalf("the failed run changed the checkpoint: %v", cp)
	}

	h.sim.ClearFaults()
	third := h.mustRun(everyRun...)
	if p := third.Previous; p == nil || p.RunID != first.Checkpoint.RunID {
		t.Errorf("the recovery run should start from the first run's checkpoint: %+v", p)
	}
	if cp := h.bqCheckpoint(); cp == nil || cp["run_id"] != third.Checkpoint.RunID {
		t.Fatalf("checkpoint after recovery: %v", cp)
	}
	h.checkBQ(allTables)
}

// The README's BigQuery queries run against an export on the emulator: they
// parse and name existing tables and columns (their results are not checked).
func TestReadmeBigQueryQueriesRun(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "### Querying")
	if i < 0 {
		t.Fatal("README has no ### Querying section")
	}
	text = text[i:]
	text = text[:strings.Index(text, "\n### ")]
	var queries []string
	for _, block := range strings.Split(text, "```sql\n")[1:] {
		block = block[:strings.Index(block, "```")]
		for _, q := range strings.Split(block, ";\n") {
			if strings.TrimSpace(q) != "" {
				queries = append(queries, q)
			}
		}
	}
	if len(queries) < 4 {
		t.Fatalf("found %d queries in the README", len(queries))
	}
	// Two reconciling runs with deletions between them, so that the
	// queries of the deletions table have rows to read.
	h := newBQHarness(t, simOptions())
	h.env["GITLAB_RESOURCES"] += ",deployments"
	h.env["GITLAB_RECONCILE"] = "1"
	h.mustRun()
	h.sim.Advance(time.Minute)
	h.sim.Mutate(6)
	h.mustRun()
	for _, q := range queries {
		q = strings.ReplaceAll(q, "my-gcp-project.gitlab_data_export_v4.", emu.Project+"."+h.dataset+".")
		it, err := h.client.Query(q).Read(context.Background())
		if err == nil {
			var r map[string]bigquery.Value
			err = it.Next(&r)
			t.Logf("first row: %v", r)
			if errors.Is(err, iterator.Done) {
				err = nil
			}
		}
		if err != nil {
			t.Errorf("README query failed: %v\n%s", err, q)
		}
	}
}

// TestBigQueryReconcile: the deletions table and the job's own rows on
// BigQuery: a deleted deployment (read by update time, so judged by a keys
// listing) gets one tombstone, a second reconciliation adds none, and the
// checkpoint row keeps reconciled_at.
func TestBigQueryReconcile(t *testing.T) {
	h := newBQHarness(t, simOptions())
	h.env["GITLAB_RESOURCES"] = "projects,deployments"
	h.env["GITLAB_RECONCILE"] = "1"
	h.mustRun()
	if n := len(h.bqRows("deployments", "export_job_id = 'test-job'")); n == 0 {
		t.Fatal("no deployments stored with export_job_id")
	}
	h.sim.Advance(time.Minute)
	m := h.sim.Mutate(6)
	if len(m.Deleted["deployments"]) != 1 {
		t.Fatalf("the mutation deleted deployments %v, want one", m.Deleted["deployments"])
	}
	second := h.mustRun()
	rows := h.bqRows(store.DeletionsTable, "")
	want := map[string]bool{}
	for _, table := range []string{"projects", "deployments"} {
		for _, k := range m.Deleted[table] {
			want[table+" "+k] = true
		}
	}
	got := map[string]bool{}
	for _, r := range rows {
		if r["deleted"] != true || r["job_id"] != "test-job" || r["deleted_at"] == nil {
			t.Errorf("bad tombstone %v", r)
		}
		got[fmt.Sprint(r["table"], " ", r["id"])] = true
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || second.Deleted != int64(len(want)) {
		t.Errorf("tombstones %v (counted %d), want %v", got, second.Deleted, want)
	}
	cp := h.bqCheckpoint()
	if ts, ok := cp["reconciled_at"].(time.Time); !ok || ts.UTC().Format(time.RFC3339) != second.Job.Run.StartedAt {
		t.Errorf("checkpoint reconciled_at %v, want %s", cp["reconciled_at"], second.Job.Run.StartedAt)
	}
	third := h.mustRun()
	if third.Deleted != 0 || third.Reappeared != 0 || len(h.bqRows(store.DeletionsTable, "")) != len(want) {
		t.Errorf("a second reconciliation wrote %d tombstones and %d reappearances", third.Deleted, third.Reappeared)
	}
	if n := len(h.bqRows(store.DeletionsTable+"_latest", "")); n != len(want) {
		t.Errorf("deletions_latest holds %d rows, want %d", n, len(want))
	}
	// The README's query of the deployments that exist now returns exactly
	// the simulator's.
	q := readmeQuery(t, "-- Deployments that exist now")
	q = strings.ReplaceAll(q, "my-gcp-project.gitlab_data_export_v4.", emu.Project+"."+h.dataset+".")
	live := map[string]bool{}
	for _, r := range h.query(q) {
		live[fmt.Sprint(r["id"])] = true
	}
	exp := h.expected("deployments")
	if len(live) != len(exp) {
		t.Errorf("the README's live deployments: %d, the simulator holds %d", len(live), len(exp))
	}
	for k := range exp {
		if !live[k] {
			t.Errorf("deployment %s exists but the README's query leaves it out", k)
		}
	}
}

// readmeQuery returns the README's SQL query that starts with the comment
// line header.
func readmeQuery(t *testing.T, header string) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, header)
	if i < 0 {
		t.Fatalf("README has no query %q", header)
	}
	text = text[i:]
	return text[:strings.Index(text, ";\n")]
}

// TestDataflowJobBuilds: the pipeline translates into a Dataflow job
// (--runner=dataflow --dry_run: built and printed, not submitted), with the
// BigQuery store and the token in Secret Manager, so that a change that
// breaks the Dataflow path fails here.
func TestDataflowJobBuilds(t *testing.T) {
	h := newBQHarness(t, simOptions())
	endpoint, calls := dataflowDryRun(t, h.harness)
	h.sim.ResetStats()
	// A credentials file of the launcher (as a CI variable of type File
	// gives): the workers must not be sent its path.
	keyFile := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(keyFile, []byte(`{"type":"service_account","project_id":"test-project","private_key_id":"x","private_key":"x","client_email":"x@test-project.iam.gserviceaccount.com"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := h.run("GITLAB_TOKEN", "", "GITLAB_TOKEN_SECRET", "projects/p/secrets/gitlab/versions/3", "GITLAB_SECRET_MANAGER_ENDPOINT", endpoint,
		"GOOGLE_APPLICATION_CREDENTIALS", keyFile)
	if err != nil {
		t.Fatalf("Dataflow dry run: %v", err)
	}
	if !res.DryRun || *calls == 0 {
		t.Errorf("dry run %v, Secret Manager read %d times", res.DryRun, *calls)
	}
	if p := res.Job.Store.Params[bigqueryio.ParamCredentialsFile]; p != "" {
		t.Errorf("the workers' store spec names the launcher's credentials file %s", p)
	}
	if res.Job.Conn.Workers != 4 {
		t.Errorf("the request budget is shared by %d workers, want 4", res.Job.Conn.Workers)
	}
	if h.exists("_checkpoints") && h.bqCheckpoint() != nil {
		t.Error("a dry run wrote a checkpoint")
	}
	// What Dataflow is sent and displays: the job serialized into the DoFns
	// and the pipeline options (every flag's value) hold no token.
	job, err := json.Marshal(res.Job)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(job), h.sim.Token()) {
		t.Error("the job sent to the workers holds the GitLab token")
	}
	flag.VisitAll(func(f *flag.Flag) {
		if strings.Contains(f.Value.String(), h.sim.Token()) {
			t.Errorf("pipeline option --%s holds the GitLab token", f.Name)
		}
	})
}

// dataflowDryRun sets the flags of a Dataflow dry run (--runner=dataflow
// --dry_run: the job built and printed, not submitted) for the test, and
// serves the token from a fake Secret Manager (its endpoint, and how often
// it was read).
func dataflowDryRun(t *testing.T, h *harness) (endpoint string, calls *int) {
	t.Helper()
	endpoint, calls = fakeSecretManager(t, "projects/p/secrets/gitlab/versions/3", h.sim.Token())
	set := map[string]string{"runner": "dataflow", "dry_run": "true", "project": "test-project", "region": "europe-west1",
		"staging_location": "gs://test-bucket/staging", "max_num_workers": "4",
		// Prism sets the environment to loopback for the pipelines it runs;
		// Dataflow takes its default (the Go SDK container) from "".
		"environment_type": ""}
	setFlags(t, set)
	return endpoint, calls
}

// setFlags sets the runner's flags for the test: they are back as they
// were when it ends.
func setFlags(t *testing.T, set map[string]string) {
	t.Helper()
	for name, v := range set {
		f := flag.Lookup(name)
		if f == nil {
			t.Fatalf("no flag --%s: is the Dataflow runner linked in?", name)
		}
		old := f.Value.String()
		if err := flag.Set(name, v); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { flag.Set(name, old) })
	}
}

// TestBigQueryCheckpointReset: a reset to a time makes the next run read
// from there although newer checkpoint rows exist; a reset to a backfill
// reads as no checkpoint; runs after a reset count again.
func TestBigQueryCheckpointReset(t *testing.T) {
	h := newBQHarness(t, simOptions())
	h.env["GITLAB_RESOURCES"] = "groups,projects"
	first := h.mustRun()
	cfg, err := pipeline.NewStoreConfig((&pipeline.Flags{}).Resolve(func(k string) (string, bool) {
		v, ok := h.env[k]
		return v, ok && v != ""
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	to := first.Checkpoint.StartedAt.Add(-72 * time.Hour).Truncate(time.Second)
	old, err := pipeline.ResetCheckpoint(ctx, cfg, to)
	if err != nil || old == nil || old.RunID != first.Checkpoint.RunID {
		t.Fatalf("reset: %v, replaced %+v", err, old)
	}
	cp, err := pipeline.ShowCheckpoint(ctx, cfg)
	if err != nil || cp == nil || !cp.StartedAt.Equal(to) {
		t.Fatalf("after a reset to %s the checkpoint is %+v (%v)", to, cp, err)
	}
	second := h.mustRun()
	if second.Previous == nil || !second.Previous.StartedAt.Equal(to) {
		t.Errorf("the run after the reset started from %+v, want %s", second.Previous, to)
	}
	if cp, _ := pipeline.ShowCheckpoint(ctx, cfg); cp == nil || cp.RunID != second.Checkpoint.RunID {
		t.Errorf("after the next run the checkpoint is %+v, want its run %s", cp, second.Checkpoint.RunID)
	}
	if _, err := pipeline.ResetCheckpoint(ctx, cfg, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if cp, err := pipeline.ShowCheckpoint(ctx, cfg); cp != nil || err != nil {
		t.Errorf("after a reset to a backfill: %+v, %v", cp, err)
	}
	if third := h.mustRun(); third.Previous != nil {
		t.Errorf("the run after a reset to a backfill started from %+v", third.Previous)
	}
}
