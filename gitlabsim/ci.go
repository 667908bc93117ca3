package gitlabsim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// CI/CD: runners, variables, environments and deployments, protected
// environments, deploy freeze periods, feature flags.

func init() {
	register(
		&table{name: "group_runners", keys: []string{"group_id", "id"}, path: "groups/:id/runners", scope: scGroup, query: "type=group_type",
			list: listGroupRunners},
		&table{name: "group_variables", keys: []string{"group_id", "key", "environment_scope"}, path: "groups/:id/variables", scope: scGroup,
			list: rowsOf("group_variables", atNone, (*store).renderVariable)},
		&table{name: "project_variables", keys: []string{"project_id", "key", "environment_scope"}, path: "projects/:id/variables",
			scope: scProject, list: rowsOf("project_variables", atNone, (*store).renderVariable)},
		&table{name: "environments", keys: []string{"id"}, path: "projects/:id/environments", scope: scProject,
			list: rowsOf("environments", atNone, (*store).renderEnvironment)},
		&table{name: "deployments", keys: []string{"id"}, path: "projects/:id/deployments", scope: scProject,
			query: "order_by=updated_at&sort=desc", filter: updatedWindow, list: listDeployments},
		&table{name: "deployment_merge_requests", keys: []string{"deployment_id", "id"},
			path: "projects/:id/deployments/:deployment_id/merge_requests", scope: scDeploy, list: listDeploymentMRs},
		&table{name: "group_protected_environments", keys: []string{"group_id", "name"}, tier: tierPremium,
			path: "groups/:id/protected_environments", scope: scGroup,
			list: rowsOf("group_protected_environments", atNone, (*store).renderProtectedEnvironment)},
		&table{name: "project_protected_environments", keys: []string{"project_id", "name"}, tier: tierPremium,
			path: "projects/:id/protected_environments", scope: scProject,
			list: rowsOf("project_protected_environments", atNone, (*store).renderProtectedEnvironment)},
		&table{name: "freeze_periods", keys: []string{"id"}, path: "projects/:id/freeze_periods", scope: scProject,
			list: rowsOf("freeze_periods", atNone, (*store).renderFreezePeriod)},
		&table{name: "feature_flags", keys: []string{"project_id", "name"}, path: "projects/:id/feature_flags", scope: scProject,
			list: rowsOf("feature_flags", atNone, (*store).renderFeatureFlag)},
	)
}

// listGroupRunners: the group runners of the group and its ancestors
// (type=group_type or no type; there are no instance or project runners
// here); status, paused.
func listGroupRunners(s *Sim, sc scope, q *params) []item {
	st := s.st
	typ := q.enum("type", "", "instance_type", "group_type", "project_type")
	status := q.enum("status", "", "online", "offline", "stale", "never_contacted")
	if typ != "" && typ != "group_type" {
		return nil
	}
	tab := st.tab("group_runners")
	var out []item
	groups := append(st.ancestors(sc.i), sc.i)
	for _, g := range groups {
		for _, i := range tab.live(g) {
			r := &tab.rows[i]
			if status != "" && runnerStatus(r) != status {
				continue
			}
			out = append(out, item{render: func() []byte { return st.renderRunner(r) }})
		}
	}
	return out
}

func runnerStatus(r *row) string { return []string{"online", "offline", "stale"}[r.flag%3] }

func (st *store) renderRunner(r *row) []byte {
	return st.renderRunnerOf(r, st.groups[r.scope].path, "group_type")
}

// renderRunnerOf renders a runner registered to a group or project (its
// path and runner_type).
func (st *store) renderRunnerOf(r *row, path, runnerType string) []byte {
	paused := r.rev%2 == 1
	return newObj().f("id", r.id).f("description", path+"-runner-"+strconv.FormatInt(r.id, 10)).f("ip_address", nil).
		f("active", !paused).f("paused", paused).f("is_shared", false).f("runner_type", runnerType).
		f("name", "gitlab-runner").f("online", runnerStatus(r) == "online").f("status", runnerStatus(r)).
		f("created_at", st.ts(r.created)).f("created_by", st.userJSON(r.user)).done()
}

// CI/CD variables: flags of variable kinds.
const (
	varMasked = 1 << iota
	varHidden
	varProtected
	varFile
	varRaw
)

var groupVariables = []struct {
	key, scope string
	flags      uint8
}{
	{"REGISTRY_PASSWORD", "*", varMasked | varProtected},
	{"DEPLOY_SSH_KEY", "*", varMasked | varHidden | varFile},
	{"SENTRY_DSN", "*", 0},
	{"SLACK_WEBHOOK_URL", "production", varMasked | varRaw},
}

var projectVariables = []struct {
	key, scope string
	flags      uint8
}{
	{"DATABASE_URL", "production", varMasked | varProtected},
	{"API_TOKEN", "*", varMasked | varHidden},
	{"LOG_LEVEL", "*", 0},
	{"DATABASE_URL", "staging", varRaw},
}

// renderVariable renders a group or project CI/CD variable. Every value
// carries SecretMarker; a hidden variable's value is null, as GitLab
// serves it.
func (st *store) renderVariable(r *row) []byte {
	var key, env string
	var flags uint8
	var owner int64
	if r.flag == 0 {
		v := groupVariables[int(r.k)%len(groupVariables)]
		key, env, flags, owner = v.key, v.scope, v.flags, st.groups[r.scope].id
	} else {
		v := projectVariables[int(r.k)%len(projectVariables)]
		key, env, flags, owner = v.key, v.scope, v.flags, st.projects[r.scope].id
	}
	var value any = strings.ToLower(key) + "-" + SecretMarker + "-" + strconv.FormatInt(owner, 10) + "-" + strconv.Itoa(int(r.rev))
	if flags&varHidden != 0 {
		value = nil
	}
	typ := "env_var"
	if flags&varFile != 0 {
		typ = "file"
	}
	var desc any
	if flags&varProtected != 0 {
		desc = "Only for protected branches."
	}
	return newObj().f("variable_type", typ).f("key", key).f("value", value).f("protected", flags&varProtected != 0).
		f("masked", flags&varMasked != 0).f("hidden", flags&varHidden != 0).f("raw", flags&varRaw != 0).
		f("environment_scope", env).f("description", desc).done()
}

var environmentNames = []string{"production", "staging", "review/main"}

// Deployment statuses.
const (
	depSuccess = iota
	depFailed
	depCanceled
	depRunning
	depCreated
)

var depStatuses = []string{"success", "failed", "canceled", "running", "created", "blocked"}

func (st *store) environmentName(env int32) string {
	return environmentNames[int(st.tab("environments").rows[env].k)%len(environmentNames)]
}

func (st *store) environmentBasic(env int32) *obj {
	e := &st.tab("environments").rows[env]
	p := &st.projects[e.scope]
	name := st.environmentName(env)
	return newObj().f("id", e.id).f("name", name).f("slug", strings.ReplaceAll(name, "/", "-")).
		f("external_url", "https://"+strings.ReplaceAll(name, "/", "-")+"."+p.path+".example.com").
		f("created_at", st.ts(e.created)).f("updated_at", st.ts(e.updated))
}

func (st *store) renderEnvironment(r *row) []byte {
	p := &st.projects[r.scope]
	name := environmentNames[int(r.k)%len(environmentNames)]
	tier := []string{"production", "staging", "development"}[int(r.k)%3]
	return newObj().f("id", r.id).f("name", name).f("slug", strings.ReplaceAll(name, "/", "-")).f("description", nil).
		f("external_url", "https://"+strings.ReplaceAll(name, "/", "-")+"."+p.path+".example.com").f("state", "available").
		f("tier", tier).f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).f("enable_advanced_logs_querying", false).
		f("logs_api_path", "/"+p.fullPath+"/-/logs/k8s.json?environment_name="+name).f("auto_stop_at", nil).
		f("auto_stop_setting", "always").f("kubernetes_namespace", nil).f("flux_resource_path", nil).done()
}

// listDeployments orders and filters as DeploymentsFinder does
// (app/finders/deployments_finder.rb): order_by id (default), iid,
// created_at, updated_at, finished_at, sort asc (default); iid and
// created_at order by id; updated_at and finished_at break ties by id in
// the same direction. An updated_after / updated_before filter needs
// order_by=updated_at (else 400: InefficientQueryError), and the finder
// then orders by updated_at in the requested direction. finished_after /
// finished_before need order_by=finished_at and status=success, and
// order_by=finished_at needs them or a finished status. environment,
// status. The engine filters updated_after / updated_before.
func listDeployments(s *Sim, sc scope, q *params) []item {
	st := s.st
	orderBy := q.enum("order_by", "id", "id", "iid", "created_at", "updated_at", "finished_at")
	desc := q.enum("sort", "asc", "asc", "desc") == "desc"
	env := q.q.Get("environment")
	status := q.enum("status", "", depStatuses...)
	finished := q.window("finished_after", "finished_before")
	byUpdate := q.has("updated_after") || q.has("updated_before")
	byFinish := q.has("finished_after") || q.has("finished_before")
	finishedStatus := status == "success" || status == "failed" || status == "canceled"
	switch {
	case q.err != "":
		return nil
	case byUpdate && byFinish:
		q.failMessage("400 Bad request - Both `updated_at` filter and `finished_at` filter can not be specified")
	case byUpdate && orderBy != "updated_at":
		q.failMessage("400 Bad request - `updated_at` filter requires `updated_at` sort")
	case byFinish && orderBy != "finished_at":
		q.failMessage("400 Bad request - `finished_at` filter requires `finished_at` sort.")
	case orderBy == "finished_at" && !byFinish && !finishedStatus:
		q.failMessage("400 Bad request - `finished_at` sort requires `finished_at` filter or a filter with at least one of the finished statuses.")
	case byFinish && status != "success":
		q.failMessage("400 Bad request - `finished_at` filter must be combined with `success` status filter.")
	}
	if q.err != "" {
		return nil
	}
	tab := st.tab("deployments")
	var rows []int32
	for _, i := range tab.live(sc.i) {
		r := &tab.rows[i]
		if (env != "" && st.environmentName(r.ref) != env) || (status != "" && depStatuses[r.flag] != status) ||
			(byFinish && !finished.has(r.updated)) {
			continue
		}
		rows = append(rows, i)
	}
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		c := 0
		switch orderBy {
		case "updated_at", "finished_at":
			c = cmpInt(ra.updated, rb.updated)
		}
		if c == 0 {
			c = cmpInt(ra.id, rb.id)
		}
		return (c < 0) != desc
	})
	out := make([]item, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = item{at: r.updated, id: r.id, render: func() []byte { return st.renderDeployment(r) }}
	}
	return out
}

func (st *store) renderDeployment(r *row) []byte {
	p := &st.projects[r.scope]
	u := st.userJSON(r.user)
	status := depStatuses[r.flag]
	sha := fullSHA(r.id + 8<<40)
	env := st.environmentName(r.ref)
	var finished, duration any
	if status != "running" && status != "created" {
		finished, duration = st.ts(r.updated), float64(r.updated-r.created)/1000
	}
	plID := 50000000 + r.id
	job := newObj().f("id", 60000000+r.id).f("status", status).f("stage", "deploy").f("name", "deploy-"+strings.ReplaceAll(env, "/", "-")).
		f("ref", "main").f("tag", false).f("coverage", nil).f("allow_failure", false).f("created_at", st.ts(r.created)).
		f("started_at", st.ts(r.created+2000)).f("finished_at", finished).f("duration", duration).f("queued_duration", 2.0).
		f("user", u).f("commit", newObj().f("id", sha).f("short_id", sha[:8]).f("title", "Deploy "+env).
		f("created_at", st.ts(r.created-60000)).f("author_name", u.Name).f("author_email", u.Username+"@example.com")).
		f("pipeline", newObj().f("id", plID).f("iid", r.k).f("project_id", p.id).f("sha", sha).f("ref", "main").f("status", status).
			f("source", "push").f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).
			f("web_url", externalURL+"/"+p.fullPath+"/-/pipelines/"+strconv.FormatInt(plID, 10))).
		f("web_url", externalURL+"/"+p.fullPath+"/-/jobs/"+strconv.FormatInt(60000000+r.id, 10)).
		f("artifacts", []any{}).f("runner", nil).f("artifacts_expire_at", nil)
	return newObj().f("id", r.id).f("iid", r.k).f("ref", "main").f("sha", sha).f("created_at", st.ts(r.created)).
		f("updated_at", st.ts(r.updated)).f("status", status).f("user", u).f("deployable", job).
		f("environment", st.environmentBasic(r.ref)).done()
}

func (st *store) renderProtectedEnvironment(r *row) []byte {
	name := environmentNames[int(r.k)%len(environmentNames)]
	approvals := 0
	if r.k == 0 {
		approvals = 1
	}
	return newObj().f("name", name).f("deploy_access_levels", []any{raw(newObj().f("id", r.id*10).f("access_level", 40).
		f("access_level_description", "Maintainers").f("user_id", nil).f("group_id", nil).f("group_inheritance_type", 0).done())}).
		f("required_approval_count", approvals).f("approval_rules", []any{}).done()
}

func (st *store) renderFreezePeriod(r *row) []byte {
	return newObj().f("id", r.id).f("freeze_start", "0 "+strconv.Itoa(22+int(r.rev)%2)+" * * 5").f("freeze_end", "0 7 * * 1").
		f("cron_timezone", "UTC").f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).done()
}

var featureFlagNames = []string{"new_checkout", "dark_mode", "fast_search", "beta_api"}

func (st *store) renderFeatureFlag(r *row) []byte {
	strategy := newObj().f("id", r.id*10).f("name", "default").f("parameters", newObj()).
		f("scopes", []any{raw(newObj().f("id", r.id*10+1).f("environment_scope", "*").done())}).f("user_list", nil)
	if r.k%2 == 1 {
		strategy = newObj().f("id", r.id*10).f("name", "gradualRolloutUserId").
			f("parameters", newObj().f("groupId", "default").f("percentage", "25")).
			f("scopes", []any{raw(newObj().f("id", r.id*10+1).f("environment_scope", "production").done())}).f("user_list", nil)
	}
	return newObj().f("name", featureFlagNames[int(r.k)%len(featureFlagNames)]).f("description", "Rolls out a feature gradually.").
		f("active", (r.flag+uint8(r.rev))%2 == 0).f("version", "new_version_flag").f("created_at", st.ts(r.created)).
		f("updated_at", st.ts(r.updated)).f("scopes", []any{}).f("strategies", []any{strategy}).done()
}

// StartDeployments starts n deployments in a project (of its first
// environment), a second apart before now, still running: a busy project,
// whose deployments listing runs to several pages. It returns their ids.
func (s *Sim) StartDeployments(projectID int64, n int) []int64 {
	var ids []int64
	s.change(func(m *mutator) {
		st := m.st
		p := st.projectIndex("StartDeployments", projectID)
		envs := st.tab("environments").live(p)
		if len(envs) == 0 {
			panic(fmt.Sprintf("gitlabsim: StartDeployments: project %d has no environment", projectID))
		}
		for k := 0; k < n; k++ {
			t := m.now - int64(n-k)*1000
			i := st.tab("deployments").add(row{scope: p, created: t, updated: t, user: m.anyUser(), ref: envs[0],
				k: m.nextK("deployments", p), flag: depRunning})
			ids = append(ids, st.tab("deployments").rows[i].id)
		}
	})
	return ids
}

// deployedMRs are the merge requests a deployment shipped, as
// Deployments::LinkMergeRequestsService links them once it succeeds
// (app/models/deployment.rb): those of its project merged after the
// previous successful deployment to its environment finished (deleted
// ones included: the links were written then), at most 30 days before,
// and up to its own finish. None until it succeeds.
func (st *store) deployedMRs(d int32) []int32 {
	tab := st.tab("deployments")
	r := &tab.rows[d]
	if r.flag != depSuccess {
		return nil
	}
	from := r.updated - 30*msPerDay
	for i := range tab.rows {
		x := &tab.rows[i]
		if x.scope == r.scope && x.ref == r.ref && x.flag == depSuccess && x.updated < r.updated {
			from = max(from, x.updated)
		}
	}
	var out []int32
	for _, m := range st.projects[r.scope].mrs {
		if mr := &st.mrs[m]; mr.state == mrMerged && mr.merged > from && mr.merged <= r.updated {
			out = append(out, m)
		}
	}
	return out
}

// listDeploymentMRs lists them as MergeRequestsFinder orders them
// (created_at desc: lib/api/deployments.rb), as
// API::Entities::MergeRequestBasic; none while the project's merge
// requests are turned off.
func listDeploymentMRs(s *Sim, sc scope, q *params) []item {
	st := s.st
	p := st.tab("deployments").rows[sc.i].scope
	if st.projects[p].disabled[featMRs] {
		return nil
	}
	mrs := st.deployedMRs(sc.i)
	return st.mrItemsNewestFirst(mrs)
}
