package pipeline_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
)

// The whole catalog against the simulator: every table exported with every
// object the simulator holds and its raw fields; unlicensed features and
// features turned off; each URL read once; incremental runs after changes;
// secrets.

// everything asks for every table of the catalog, secrets included.
func everything() []string {
	return []string{"GITLAB_RESOURCES", strings.Join(catalog.Tables(), ","), "GITLAB_EXPORT_SECRETS", "1"}
}

// catalogSim is the small instance with an administrator's token (custom
// attributes are admin-only).
func catalogSim() gitlabsim.Options {
	o := simOptions()
	o.Admin = true
	return o
}

// mustWrite reports whether the exporter must write the secret field of
// api as it is (true), or null / not at all (false), with secrets opted in:
// Always, or a flag of the resource's Secret true or missing in the object,
// redacts it.
func mustWrite(res catalog.Resource, api row) bool {
	if res.Secret.Always {
		return false
	}
	for _, f := range res.Secret.Flags {
		if v, ok := api[f]; !ok || v != false {
			return false
		}
	}
	return true
}

// checkTable asserts that every object the simulator holds for a table is
// stored with its raw fields (the latest row of each key), secret fields
// being null or absent wherever they must not be written; it returns the
// number of objects checked.
func checkTable(t *testing.T, h *harness, table string, secretsOn bool) int {
	t.Helper()
	res, _ := catalog.Lookup(table)
	want := h.expected(table)
	got := storedByKey(t, h, table)
	for k, api := range want {
		stored, ok := got[k]
		if !ok {
			t.Errorf("%s: object %s not exported", table, k)
			continue
		}
		if res.Secret != nil {
			f := res.Secret.Field
			if !secretsOn || !mustWrite(res, api) {
				if v, present := stored[f]; present && v != nil {
					t.Errorf("%s %s: secret field %s written: %v", table, k, f, v)
				}
				api, stored = without(api, f), without(stored, f)
			}
		}
		if diff := sameObject(api, stored); diff != "" {
			t.Errorf("%s %s: %s", table, k, diff)
		}
	}
	return len(want)
}

func without(r row, f string) row {
	out := row{}
	for k, v := range r {
		if k != f {
			out[k] = v
		}
	}
	return out
}

func TestCatalogMatchesTheSimulator(t *testing.T) {
	simKeys := gitlabsim.TableKeys()
	for _, r := range catalog.Catalog {
		k, ok := simKeys[r.Name]
		if !ok {
			t.Errorf("the simulator has no table %s", r.Name)
			continue
		}
		if !slices.Equal(k, r.Key) {
			t.Errorf("%s: catalog key %v, simulator key %v", r.Name, r.Key, k)
		}
	}
	for _, name := range gitlabsim.TableNames() {
		if _, ok := catalog.Lookup(name); !ok {
			t.Errorf("the catalog has no table %s", name)
		}
	}
}

// TestCatalogExportsEveryTable: with every table asked for (and secrets
// opted in), every object of every table is exported with its raw fields.
func TestCatalogExportsEveryTable(t *testing.T) {
	h := newHarness(t, catalogSim())
	h.mustRun(everything()...)
	total := 0
	for _, table := range catalog.Tables() {
		n := checkTable(t, h, table, true)
		if n == 0 {
			t.Errorf("%s: the simulator holds no objects; the test proves nothing", table)
		}
		total += n
	}
	t.Logf("%d tables, %d objects checked", len(catalog.Tables()), total)
	// Nothing but catalog tables was written.
	dirs, _ := os.ReadDir(filepath.Join(h.dir, dataset))
	for _, d := range dirs {
		if _, ok := catalog.Lookup(d.Name()); !ok && !strings.HasPrefix(d.Name(), "_") {
			t.Errorf("unknown table directory %s", d.Name())
		}
	}
}

// TestCatalogReadsEachURLOnce: a run without faults requests no URL (path
// and query, page included) twice.
func TestCatalogReadsEachURLOnce(t *testing.T) {
	h := newHarness(t, catalogSim())
	h.sim.ResetStats()
	h.mustRun(everything()...)
	st := h.sim.Stats()
	if st.Requests < int64(len(catalog.Tables())) {
		t.Fatalf("only %d requests", st.Requests)
	}
	for u, n := range h.sim.Repeated() {
		t.Errorf("%s requested %d times", u, n)
	}
	// GitLab refuses the merge request approval settings of a subgroup
	// (only a top-level group has them): a 403 for each subgroup, and
	// none else.
	refused := int64(0)
	for u := range st.ByPath {
		if strings.Contains(u, "/groups/") && strings.Contains(u, "/merge_request_approval_setting") &&
			!strings.Contains(u, "/groups/"+rootGroupID(t, h)+"/") {
			refused++
		}
	}
	if refused == 0 {
		t.Error("no subgroup's merge request approval settings read: the test proves nothing")
	}
	for status, n := range st.Status {
		if status == 403 && n == refused {
			continue
		}
		if status != 200 && status != 404 {
			t.Errorf("%d answers with status %d", n, status)
		}
	}
}

// rootGroupID is the id of the exported root group.
func rootGroupID(t *testing.T, h *harness) string {
	t.Helper()
	for _, raw := range h.sim.Expected()["groups"] {
		r, _ := decode(raw)
		if r["parent_id"] == nil {
			return fmt.Sprint(r["id"])
		}
	}
	t.Fatal("no root group")
	return ""
}

// TestCatalogUnlicensedAndFeaturesOff: on a Free instance, with a project's
// wiki, container registry and snippets turned off, the run succeeds; the
// tables of Premium and Ultimate features are empty and that project's
// wiki pages, snippets and container images are absent; every other object
// is exported.
func TestCatalogUnlicensedAndFeaturesOff(t *testing.T) {
	o := catalogSim()
	o.Unlicensed = true
	h := newHarness(t, o)
	// The project with the most wiki pages, container repositories and
	// snippets loses them.
	before := h.sim.Expected()
	count := func(table string) map[string]int {
		c := map[string]int{}
		for _, raw := range before[table] {
			r, _ := decode(raw)
			c[fmt.Sprint(r["project_id"])]++
		}
		return c
	}
	busiest := func(table string) string {
		best, n := "", 0
		for p, c := range count(table) {
			if c > n || (c == n && p < best) {
				best, n = p, c
			}
		}
		return best
	}
	off := map[string]string{"wiki": busiest("project_wiki_pages"), "container_registry": busiest("container_repositories"),
		"snippets": busiest("snippets")}
	for feature, p := range off {
		var id int
		fmt.Sscan(p, &id)
		h.sim.SetFeatureDisabled(id, feature, true)
	}
	h.sim.ResetStats()
	res := h.mustRun(everything()...)
	if res.Checkpoint == nil {
		t.Fatal("no checkpoint")
	}
	// A refused tree-wide stream is asked once (when the run sizes its
	// time slices), not once per slice.
	var epics int64
	for u, n := range h.sim.Stats().ByPath {
		if path, _, _ := strings.Cut(u, "?"); path == "GET /api/v4/groups/100/epics" {
			epics += n
		}
	}
	if epics != 1 {
		t.Errorf("the refused epics stream was requested %d times, want once", epics)
	}
	if res.Unavailable["epics 403"] == 0 {
		t.Errorf("the refused epics stream is not counted unavailable: %v", res.Unavailable)
	}
	exp := h.sim.Expected()
	for _, r := range catalog.Catalog {
		rows := h.table(r.Name)
		if r.Tier != "Free" {
			if len(rows) != 0 || len(exp[r.Name]) != 0 {
				t.Errorf("%s (%s): %d rows exported, %d expected on a Free instance", r.Name, r.Tier, len(rows), len(exp[r.Name]))
			}
			continue
		}
		checkTable(t, h, r.Name, true)
		if len(exp[r.Name]) == 0 && len(rows) != 0 {
			t.Errorf("%s: %d rows exported, none expected", r.Name, len(rows))
		}
	}
	for table, feature := range map[string]string{"project_wiki_pages": "wiki", "container_repositories": "container_registry",
		"container_repository_tags": "container_registry", "snippets": "snippets"} {
		for _, r := range h.table(table) {
			if fmt.Sprint(r["project_id"]) == off[feature] {
				t.Errorf("%s %s of project %s, whose %s is off", table, key(table, r), off[feature], feature)
			}
		}
	}
	if n := len(h.table("issues")); n == 0 {
		t.Error("no issues")
	}
}

// TestCatalogIncrementalAfterMutate: after changes, the second run exports
// every object of every table that changed or was created, and the latest
// row of every key is the object as it is now.
func TestCatalogIncrementalAfterMutate(t *testing.T) {
	h := newHarness(t, catalogSim())
	h.mustRun(everything()...)
	h.sim.Advance(time.Minute)
	m := h.sim.Mutate(6)
	// Some changes move no timestamp (award emoji, counters, embedded
	// objects): with GITLAB_REFRESH_PERIOD=0s the run reads every parent's
	// silent children again, and so has every change.
	second := h.mustRun(append(everything(), everyRun...)...)
	run2 := second.Checkpoint.RunID
	changedTables := 0
	for _, table := range catalog.Tables() {
		keys := m.ChangedKeys[table]
		if len(keys) == 0 {
			continue
		}
		changedTables++
		got := map[string]bool{}
		for _, r := range h.runRows(table, run2) {
			got[key(table, r)] = true
		}
		res, _ := catalog.Lookup(table)
		want := h.expected(table)
		for _, k := range keys {
			if !got[k] && !(res.Secret != nil && redactedUnchanged(t, h, table, res, want[k], k)) {
				t.Errorf("%s: %s changed or created, not exported by the incremental run", table, k)
			}
		}
		if !incremental(res) {
			for _, k := range m.Deleted[table] {
				if got[k] {
					t.Errorf("%s: %s deleted, still exported by the snapshot of the second run", table, k)
				}
			}
		}
	}
	if changedTables < 40 {
		t.Errorf("the mutation changed only %d tables", changedTables)
	}
	for _, table := range catalog.Tables() {
		checkTable(t, h, table, true)
	}
}

// incremental reports whether a resource is read for a time window (itself,
// or as the child of one that is).
func incremental(r catalog.Resource) bool {
	for _, s := range r.Sources {
		if s.Filter.Incremental() {
			return true
		}
		if p, ok := catalog.Lookup(s.Parent); ok && s.Parent != "" && incremental(p) {
			return true
		}
	}
	return false
}

// TestCatalogSecrets: without GITLAB_EXPORT_SECRETS no secret is written
// anywhere and the tables of secrets are not exported; with it, the values
// of masked and hidden variables and token values are still never written,
// and the others are.
func TestCatalogSecrets(t *testing.T) {
	h := newHarness(t, catalogSim())
	h.mustRun()
	markerIn := func(dir string) []string {
		var found []string
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(gitlabsim.SecretMarker)) {
					found = append(found, strings.TrimPrefix(path, dir))
				}
			}
			return nil
		})
		return found
	}
	if files := markerIn(h.dir); len(files) != 0 {
		t.Errorf("a secret was written without GITLAB_EXPORT_SECRETS: %v", files)
	}
	for _, r := range catalog.Catalog {
		n := len(h.table(r.Name))
		switch r.Include {
		case catalog.WithSecrets:
			if n != 0 {
				t.Errorf("%s exported without GITLAB_EXPORT_SECRETS: %d rows", r.Name, n)
			}
		case catalog.OnRequest:
			if n != 0 {
				t.Errorf("%s exported without GITLAB_RESOURCES naming it: %d rows", r.Name, n)
			}
		}
	}
	checkTable(t, h, "deploy_tokens", false)

	// Opted in: secrets tables are exported, masked and hidden values and
	// token values are still not.
	h2 := newHarness(t, catalogSim())
	h2.mustRun("GITLAB_EXPORT_SECRETS", "1")
	for _, table := range []string{"group_variables", "project_variables", "pipeline_variables", "deploy_tokens"} {
		if n := checkTable(t, h2, table, true); n == 0 {
			t.Errorf("%s: nothing to check", table)
		}
	}
	written := 0
	for _, table := range []string{"group_variables", "project_variables"} {
		for _, r := range h2.table(table) {
			v, _ := r["value"].(string)
			if (r["masked"] != false || r["hidden"] != false) && v != "" {
				t.Errorf("%s %s: masked or hidden value written", table, key(table, r))
			}
			if strings.Contains(v, gitlabsim.SecretMarker) {
				written++
			}
		}
	}
	if written == 0 {
		t.Error("no value of a plain variable written with GITLAB_EXPORT_SECRETS")
	}
	for _, r := range h2.table("deploy_tokens") {
		if s, _ := json.Marshal(r); bytes.Contains(s, []byte(gitlabsim.SecretMarker)) {
			t.Errorf("deploy token value written: %s", s)
		}
	}
}

// TestCatalogProjectAndGroupRoots: exporting one project, or a group without
// its subgroups, with every table asked for, reads each URL once and exports
// every object of the simulator that belongs to the project (or the group's
// direct projects).
func TestCatalogProjectAndGroupRoots(t *testing.T) {
	for _, mode := range []string{"project", "group"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, catalogSim())
			exp := h.sim.Expected()
			in := map[string]bool{} // project ids of the export
			var root row
			for _, raw := range exp["groups"] {
				g, _ := decode(raw)
				if g["full_path"] == h.sim.RootGroup() {
					root = g
				}
			}
			env := everything()
			for _, raw := range exp["projects"] {
				p, _ := decode(raw)
				ns, _ := p["namespace"].(map[string]any)
				if mode == "group" && fmt.Sprint(ns["id"]) == fmt.Sprint(root["id"]) {
					in[fmt.Sprint(p["id"])] = true
				}
				if mode == "project" && fmt.Sprint(p["path_with_namespace"]) == h.sim.RootGroup()+"/web" {
					in[fmt.Sprint(p["id"])] = true
				}
			}
			if mode == "project" {
				env = append(env, "GITLAB_GROUP", "", "GITLAB_PROJECT", h.sim.RootGroup()+"/web")
			} else {
				env = append(env, "GITLAB_NO_RECURSION", "1")
			}
			if len(in) == 0 {
				t.Fatal("no project to export")
			}
			h.sim.ResetStats()
			h.mustRun(env...)
			for u, n := range h.sim.Repeated() {
				t.Errorf("%s requested %d times", u, n)
			}
			checked := 0
			for _, table := range catalog.Tables() {
				got := map[string]bool{}
				for _, r := range h.table(table) {
					got[key(table, r)] = true
					// (An epic of the group can hold issues of its subgroups' projects.)
					if p, ok := r["project_id"]; ok && table != "epic_issues" && !in[fmt.Sprint(p)] {
						t.Errorf("%s %s: project %v is not exported", table, key(table, r), p)
					}
				}
				for k, api := range h.expected(table) {
					p, ok := api["project_id"]
					if !ok || !in[fmt.Sprint(p)] {
						continue
					}
					checked++
					if !got[k] {
						t.Errorf("%s: object %s of an exported project not exported", table, k)
					}
				}
			}
			if checked < 500 {
				t.Errorf("only %d objects checked", checked)
			}
		})
	}
}

// TestCommitStatsOnRequest: commit_stats makes the commits listing carry
// each commit's stats; without it they are not asked for.
func TestCommitStatsOnRequest(t *testing.T) {
	h := newHarness(t, simOptions())
	res := h.mustRun("GITLAB_RESOURCES", "commits")
	commits := h.runRows("commits", res.Checkpoint.RunID)
	if len(commits) == 0 {
		t.Fatal("no commits")
	}
	for _, c := range commits {
		if _, ok := c["stats"]; ok {
			t.Fatalf("commit %v has stats without commit_stats", c["id"])
		}
	}
	h2 := newHarness(t, simOptions())
	res = h2.mustRun("GITLAB_RESOURCES", "commit_stats")
	commits = h2.runRows("commits", res.Checkpoint.RunID)
	if len(commits) == 0 {
		t.Fatal("no commits with commit_stats")
	}
	for _, c := range commits {
		if _, ok := c["stats"].(map[string]any); !ok {
			t.Errorf("commit %v has no stats with commit_stats", c["id"])
		}
	}
}

// redactedUnchanged reports whether an object of a table with secrets
// changed only in its secret field, which is never written: the stored row
// is the object without it.
func redactedUnchanged(t *testing.T, h *harness, table string, res catalog.Resource, api row, k string) bool {
	stored, ok := storedByKey(t, h, table)[k]
	return ok && api != nil && !mustWrite(res, api) && sameObject(without(api, res.Secret.Field), without(stored, res.Secret.Field)) == ""
}
