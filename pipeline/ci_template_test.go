package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/modfile"
)

const ciTemplate = "../scripts/ci/gitlab-ci.yml"

// goVariables are the Go toolchain's variables the template may set (each
// checked against `go env` too).
var goVariables = []string{"GOPATH", "GOMODCACHE", "GOCACHE", "GOFLAGS", "CGO_ENABLED"}

// TestCITemplate reads scripts/ci/gitlab-ci.yml as GitLab would: it is
// YAML, every job has a script and its rules conditions, every variable it
// sets is one the exporter reads (Options), one of Go's, or one the
// template itself uses ($NAME); the export jobs keep interruptible, needs:
// [] and a manual rule for merge request pipelines; the Go path caches
// GOCACHE and GOMODCACHE; and it installs the module go.mod names, as the
// README does.
func TestCITemplate(t *testing.T) {
	b, err := os.ReadFile(ciTemplate)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkCITemplate(t, b) {
		t.Error(p)
	}

	// The check finds a misspelt variable and a lost habit.
	bad := strings.Replace(string(b), "  CHECKPOINT_JOB_ID: acme-platform\n", "  CHECKPOINT_JOBID: acme-platform\n", 1)
	bad = strings.Replace(bad, "  interruptible: true                 # a newer", "  interruptible: false                 # a newer", 1)
	problems := strings.Join(checkCITemplate(t, []byte(bad)), "\n")
	for _, want := range []string{"CHECKPOINT_JOBID", "export:go: interruptible"} {
		if !strings.Contains(problems, want) {
			t.Errorf("a template with %s is not reported:\n%s", want, problems)
		}
	}
}

// checkCITemplate returns what is wrong with the template.
func checkCITemplate(t *testing.T, src []byte) []string {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return []string{fmt.Sprintf("%s is not YAML: %v", ciTemplate, err)}
	}
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	known := map[string]bool{}
	for _, o := range Options {
		known[o.Env] = true
	}
	goEnv := map[string]any{}
	if out, err := exec.Command("go", "env", "-json").Output(); err == nil {
		_ = json.Unmarshal(out, &goEnv)
	}
	for _, v := range goVariables {
		if _, ok := goEnv[v]; len(goEnv) > 0 && !ok {
			bad("%s is not a variable of Go's (go env)", v)
		}
		known[v] = true
	}
	text := string(src)
	used := func(name string) bool { // referenced as $NAME or ${NAME}, beyond its definitions
		return regexp.MustCompile(`\$\{?` + regexp.QuoteMeta(name) + `\b`).MatchString(text)
	}
	checkVars := func(where string, v any) {
		vars, ok := v.(map[string]any)
		if v != nil && !ok {
			bad("%s: variables is not a map", where)
		}
		for name := range vars {
			if !known[name] && !used(name) {
				bad("%s sets %s, which the exporter does not read (not in pipeline/options.go), Go does not read, and the template does not use", where, name)
			}
		}
	}
	checkVars("the template", doc["variables"])

	reserved := map[string]bool{"variables": true, "stages": true, "default": true, "include": true, "workflow": true}
	jobs := map[string]map[string]any{}
	for name, v := range doc {
		if reserved[name] {
			continue
		}
		job, ok := v.(map[string]any)
		if !ok {
			bad("%s is not a job (a map)", name)
			continue
		}
		jobs[name] = job
		checkVars(name, job["variables"])
	}
	// resolved: the job with what it extends (GitLab's extends: a deep
	// merge, the job's own keys winning).
	var resolve func(name string, depth int) map[string]any
	resolve = func(name string, depth int) map[string]any {
		job, ok := jobs[name]
		if !ok || depth > 10 {
			bad("extends names %q, which is not a job of the template", name)
			return map[string]any{}
		}
		out := map[string]any{}
		if parent, ok := job["extends"].(string); ok {
			for k, v := range resolve(parent, depth+1) {
				out[k] = v
			}
		}
		for k, v := range job {
			if pm, ok := out[k].(map[string]any); ok {
				if jm, ok := v.(map[string]any); ok {
					merged := map[string]any{}
					for kk, vv := range pm {
						merged[kk] = vv
					}
					for kk, vv := range jm {
						merged[kk] = vv
					}
					v = merged
				}
			}
			out[k] = v
		}
		return out
	}
	names := make([]string, 0, len(jobs))
	for n := range jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	exports := 0
	for _, name := range names {
		if strings.HasPrefix(name, ".") {
			continue
		}
		job := resolve(name, 0)
		if s, ok := job["script"].([]any); !ok || len(s) == 0 {
			bad("%s: no script", name)
		}
		if _, ok := job["image"]; !ok {
			bad("%s: no image", name)
		}
		if n, ok := job["needs"].([]any); !ok || len(n) != 0 {
			bad("%s: needs is not [] (the job waits for nothing)", name)
		}
		rules, _ := job["rules"].([]any)
		manualMR := false
		for _, r := range rules {
			rule, _ := r.(map[string]any)
			cond, _ := rule["if"].(string)
			if cond == "" {
				bad("%s: a rule without an if condition", name)
			}
			if strings.Contains(cond, `$CI_PIPELINE_SOURCE == "merge_request_event"`) && rule["when"] == "manual" {
				manualMR = true
			}
		}
		if !manualMR {
			bad("%s: no manual rule for merge request pipelines", name)
		}
		if !strings.HasPrefix(name, "export:") {
			continue
		}
		exports++
		if name != "export:dataflow" && job["interruptible"] != true {
			bad("%s: interruptible is not true (a newer pipeline may cancel an export: nothing is lost)", name)
		}
		if job["resource_group"] == nil {
			bad("%s: no resource_group (two runs of one checkpoint at once)", name)
		}
		if img, _ := job["image"].(string); strings.HasPrefix(img, "golang:") {
			c, _ := job["cache"].(map[string]any)
			paths := fmt.Sprint(c["paths"])
			vars, _ := job["variables"].(map[string]any)
			for _, v := range []string{"GOCACHE", "GOMODCACHE"} {
				dir, _ := vars[v].(string)
				rel := strings.TrimPrefix(dir, "$CI_PROJECT_DIR/")
				if dir == "" || rel == dir || !strings.Contains(paths, rel) {
					bad("%s: %s (%q) is not in the project directory and cached (cache paths %s)", name, v, dir, paths)
				}
			}
		}
	}
	if exports < 3 {
		bad("%d export jobs, want export:image, export:go and export:dataflow", exports)
	}

	// One module path: go.mod's, the template's go install and clone, the README's.
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	module := modfile.ModulePath(gomod)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	install := "go install " + module + "/cmd/gitlab-data-export@"
	clone := "https://" + module + ".git"
	if !strings.Contains(text, `go install "`+module+"/cmd/gitlab-data-export@$GDE_VERSION") {
		bad("the template does not go install %s/cmd/gitlab-data-export@$GDE_VERSION", module)
	}
	if !strings.Contains(text, clone) {
		bad("the template does not clone %s", clone)
	}
	if !strings.Contains(string(readme), install) || !strings.Contains(string(readme), clone) {
		bad("the README does not say %q and %q", install, clone)
	}
	for _, m := range regexp.MustCompile(`github\.com/[\w.-]+/[\w.-]+`).FindAllString(text+string(readme), -1) {
		if strings.HasPrefix(m, "github.com/gitlab-data-export/") && m != module && !strings.HasPrefix(m, module) {
			bad("%s names %s, not the module %s", ciTemplate, m, module)
		}
	}
	return problems
}
