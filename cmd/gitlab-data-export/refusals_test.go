package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
)

// TestExpectedRefusalsAreSummarisedOnce: on a Free instance, with a feature
// turned off in a project and a token that may not read custom attributes
// (the refusals a normal token meets on every run), the log has no WARN for
// them, and one INFO line at the end names each refused table with its
// count; a table the token should read (labels, refused here by a fault)
// keeps its WARN. Both log formats; the counts agree with the summary file
// and with the 403/404 answers the simulator gave.
func TestExpectedRefusalsAreSummarisedOnce(t *testing.T) {
	sim := gitlabsim.New(gitlabsim.Options{Seed: 2, Unlicensed: true, BaseTime: time.Now().Add(-time.Hour).Truncate(time.Second)})
	sim.Start()
	defer sim.Close()
	var proj struct {
		ID int `json:"id"`
	}
	if err := json.Unmarshal(sim.Expected()["projects"][0], &proj); err != nil {
		t.Fatal(err)
	}
	sim.SetFeatureDisabled(proj.ID, "wiki", true)
	sim.AddFault(gitlabsim.Fault{PathRegexp: `^/api/v4/projects/\d+/labels$`, Status: 403})
	projects := len(sim.Expected()["projects"])

	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			sim.ResetStats()
			dir := t.TempDir()
			summary := filepath.Join(dir, "summary.json")
			r := command(t, map[string]string{"GITLAB_URL": sim.URL(), "GITLAB_TOKEN": sim.Token(), "GITLAB_GROUP": sim.RootGroup(),
				"CHECKPOINT_JOB_ID": "quiet", "FILES_DIR": dir, "SUMMARY_FILE": summary, "LOG_FORMAT": format})
			if r.code != 0 {
				t.Fatalf("export exited %d:\n%s", r.code, r.stderr)
			}
			var info, warn []logLine
			for _, l := range parseLog(t, format, r.stderr) {
				switch {
				case l.level == "WARN" && strings.HasPrefix(l.msg, "GitLab refused tables"):
					warn = append(warn, l)
				case l.level == "WARN":
					if l.attrs["resource"] != "project_labels" {
						t.Errorf("a WARN line that is not about the refused labels: %s", l.raw)
					}
				case l.level == "INFO" && strings.HasPrefix(l.msg, "skipped, as expected"):
					info = append(info, l)
				}
			}
			if len(info) != 1 || len(warn) != 1 {
				t.Fatalf("%d INFO and %d WARN refusal summaries, want one each:\n%s", len(info), len(warn), r.stderr)
			}
			expected, other := info[0].refused, warn[0].refused
			want := map[string]string{"epics": "403", "group_custom_attributes": "403", "project_custom_attributes": "403",
				"project_push_rules": "403", "group_audit_events": "403", "project_wiki_pages": "404"}
			for table, status := range want {
				if expected[table][status] == 0 {
					t.Errorf("the INFO summary does not name %s %s: %s", table, status, info[0].raw)
				}
			}
			if fmt.Sprint(other) != fmt.Sprintf("map[project_labels:map[403:%d]]", projects) {
				t.Errorf("the WARN summary names %v, want project_labels refused in the %d projects", other, projects)
			}
			for table := range expected {
				if r, ok := catalog.Lookup(table); !ok || !r.Optional {
					t.Errorf("%s is in the summary of expected refusals, but it is not an optional table", table)
				}
			}
			// Exact: the summary file says the same, and every 403/404 the
			// simulator answered is one refused listing.
			s := readSummary(t, summary)
			fromFile := map[string]map[string]int64{}
			for _, ts := range s.Tables {
				if len(ts.Unavailable) > 0 {
					fromFile[ts.Table] = ts.Unavailable
				}
			}
			var logged int64
			both := map[string]map[string]int64{}
			for _, m := range []map[string]map[string]int64{expected, other} {
				for table, byStatus := range m {
					both[table] = byStatus
					for _, n := range byStatus {
						logged += n
					}
				}
			}
			if fmt.Sprint(both) != fmt.Sprint(fromFile) {
				t.Errorf("the log's refusals\n%v\ndiffer from the summary file's\n%v", both, fromFile)
			}
			// Every 403/404 the simulator answered is a refused listing; a
			// record's child listing refused (403) in a project is not
			// asked again for the project's other records, but counted.
			st := sim.Stats()
			if answered := st.Status[403] + st.Status[404]; logged < answered || answered == 0 {
				t.Errorf("the log counts %d refused listings, the simulator answered 403/404 %d times", logged, answered)
			}
			weight := int64(0)
			for u, n := range st.ByPath {
				if strings.Contains(u, "/resource_weight_events") {
					weight += n
				}
			}
			// Once per project, and for the listings already in flight
			// when the first refusal came.
			if projects, issues := int64(len(sim.Expected()["projects"])), int64(len(sim.Expected()["issues"])); weight == 0 || weight > 2*projects || weight*4 > issues {
				t.Errorf("issue weight events (refused on a Free instance) asked %d times for %d projects, %d issues", weight, projects, issues)
			}
			if n, _ := strconv.ParseInt(fmt.Sprint(info[0].attrs["tables"]), 10, 64); n != int64(len(expected)) {
				t.Errorf("tables=%v, %d named", info[0].attrs["tables"], len(expected))
			}
		})
	}
}

type logLine struct {
	raw, level, msg string
	attrs           map[string]any
	refused         map[string]map[string]int64 // refused.<table>.<status>
}

var textAttr = regexp.MustCompile(`([A-Za-z0-9_.]+)=("(?:[^"\\]|\\.)*"|\S*)`)

// parseLog reads the command's log lines (slog's text or JSON handler).
func parseLog(t *testing.T, format, out string) []logLine {
	t.Helper()
	var lines []logLine
	for _, raw := range strings.Split(strings.TrimSpace(out), "\n") {
		l := logLine{raw: raw, attrs: map[string]any{}, refused: map[string]map[string]int64{}}
		add := func(table, status string, n int64) {
			if l.refused[table] == nil {
				l.refused[table] = map[string]int64{}
			}
			l.refused[table][status] = n
		}
		if format == "json" {
			if err := json.Unmarshal([]byte(raw), &l.attrs); err != nil {
				t.Fatalf("a log line that is not JSON: %q", raw)
			}
			refused, _ := l.attrs["refused"].(map[string]any)
			for table, v := range refused {
				for status, n := range v.(map[string]any) {
					add(table, status, int64(n.(float64)))
				}
			}
		} else {
			for _, m := range textAttr.FindAllStringSubmatch(raw, -1) {
				v := m[2]
				if u, err := strconv.Unquote(v); err == nil {
					v = u
				}
				l.attrs[m[1]] = v
				if rest, ok := strings.CutPrefix(m[1], "refused."); ok {
					table, status, _ := strings.Cut(rest, ".")
					n, _ := strconv.ParseInt(v, 10, 64)
					add(table, status, n)
				}
			}
		}
		l.level, _ = l.attrs["level"].(string)
		l.msg, _ = l.attrs["msg"].(string)
		lines = append(lines, l)
	}
	return lines
}
