package gitlabsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Projects: a group's projects (GET /groups/:id/projects, offset paging up
// to the offset limit, or keyset paging), the project itself, its forks and
// its starrers.

func init() {
	register(
		&table{name: "projects", keys: []string{"id"}, adds: noAdds, byID: true, marked: true,
			path: "groups/:id/projects", scope: scGroup, root: true,
			query: "include_subgroups=true&with_shared=false&order_by=id&sort=asc&statistics=true",
			list:  listGroupProjects, page: pageProjects,
			count: func(st *store, sc scope) int { return len(st.subtreeProjects(sc.i)) },
			also: []*endpoint{{path: "projects/:id", scope: scProject, single: true,
				list: func(s *Sim, sc scope, q *params) []item {
					statistics := q.boolean("statistics", false)
					return []item{{id: s.st.projects[sc.i].id, render: func() []byte { return s.st.renderProject(sc.i, true, statistics) }}}
				}}}},
		&table{name: "forks", keys: []string{"parent_project_id", "id"}, adds: [][2]string{{"parent_project_id", "project_id"}},
			path: "projects/:id/forks", scope: scProject, list: rowsOf("forks", atNone, (*store).renderFork)},
		&table{name: "starrers", keys: []string{"project_id", "user.id"},
			path: "projects/:id/starrers", scope: scProject, list: rowsOf("starrers", atNone, (*store).renderStarrer)},
	)
}

// listGroupProjects is GET /groups/:id/projects: include_subgroups,
// with_shared, archived, order_by/sort, simple, statistics, search,
// id_after/id_before, last_activity_after/before (paged by pageProjects).
func listGroupProjects(s *Sim, sc scope, q *params) []item {
	st := s.st
	g := sc.i
	subgroups := q.boolean("include_subgroups", false)
	withShared := q.boolean("with_shared", true)
	keyset := q.enum("pagination", "offset", "offset", "keyset") == "keyset"
	defOrder := "created_at"
	if keyset {
		defOrder = "id"
	}
	orderBy := q.enum("order_by", defOrder, "id", "name", "path", "created_at", "updated_at", "last_activity_at", "similarity", "star_count")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	simple := q.boolean("simple", false)
	statistics := q.boolean("statistics", false)
	search := strings.ToLower(q.q.Get("search"))
	idAfter, idBefore := int64(q.integer("id_after", 0)), int64(q.integer("id_before", 0))
	activity := q.window("last_activity_after", "last_activity_before")
	archivedSet := q.has("archived")
	archived := q.boolean("archived", false)
	if q.err != "" {
		return nil
	}
	var candidates []int32
	if subgroups {
		candidates = st.subtreeProjects(g)
	} else {
		candidates = append(candidates, st.groups[g].projects...)
	}
	if withShared {
		for _, p := range st.groups[g].shared {
			if !slices.Contains(candidates, p) {
				candidates = append(candidates, p)
			}
		}
	}
	var idx []int32
	for _, p := range candidates {
		pr := &st.projects[p]
		switch {
		case archivedSet && pr.archived != archived,
			idAfter > 0 && pr.id <= idAfter, idBefore > 0 && pr.id >= idBefore,
			!activity.has(pr.lastActivity),
			search != "" && !strings.Contains(strings.ToLower(pr.name), search) && !strings.Contains(pr.path, search):
			continue
		}
		idx = append(idx, p)
	}
	sortProjects(st, idx, orderBy, desc)
	out := make([]item, len(idx))
	for n, p := range idx {
		out[n] = item{id: st.projects[p].id, render: func() []byte {
			if simple {
				return st.renderProjectSimple(p)
			}
			return st.renderProject(p, false, statistics)
		}}
	}
	return out
}

// pageProjects pages a group's projects: keyset paging (pagination=keyset,
// order_by=id only: 405 otherwise), or offset paging up to OffsetLimit
// records (405 beyond).
func pageProjects(s *Sim, r *http.Request, q *params, items []item) *response {
	keyset := q.enum("pagination", "offset", "offset", "keyset") == "keyset"
	defOrder := "created_at"
	if keyset {
		defOrder = "id"
	}
	orderBy := q.enum("order_by", defOrder, "id", "name", "path", "created_at", "updated_at", "last_activity_at", "similarity", "star_count")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	if keyset && orderBy != "id" {
		return messageResponse(http.StatusMethodNotAllowed, "Keyset pagination is not yet available for this type of request")
	}
	page, per := pageParams(r.URL.Query())
	if keyset {
		n := min(per, len(items))
		out := make([][]byte, 0, n)
		for _, it := range items[:n] {
			out = append(out, it.render())
		}
		var next map[string]string
		if n < len(items) {
			last := strconv.FormatInt(items[n-1].id, 10)
			if desc {
				next = map[string]string{"id_before": last}
			} else {
				next = map[string]string{"id_after": last}
			}
		}
		return keysetList(r, out, per, next)
	}
	if page*per > s.opts.OffsetLimit {
		return messageResponse(http.StatusMethodNotAllowed, fmt.Sprintf("Offset pagination has a maximum allowed offset of %d "+
			"for requests that return objects of type Project. Remaining records can be retrieved using keyset pagination.", s.opts.OffsetLimit))
	}
	return s.offsetList(r, len(items), func(i int) []byte { return items[i].render() })
}

func sortProjects(st *store, idx []int32, orderBy string, desc bool) {
	less := func(a, b *project) int {
		switch orderBy {
		case "name":
			return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
		case "path":
			return strings.Compare(a.path, b.path)
		case "created_at":
			return cmpInt(a.created, b.created)
		case "updated_at":
			return cmpInt(a.updated, b.updated)
		case "last_activity_at":
			return cmpInt(a.lastActivity, b.lastActivity)
		case "star_count":
			return cmpInt(int64(a.stars), int64(b.stars))
		}
		return 0
	}
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := &st.projects[idx[i]], &st.projects[idx[j]]
		c := less(a, b)
		if c == 0 {
			c = cmpInt(a.id, b.id)
		}
		return (c < 0) != desc
	})
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type namespaceJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	Kind      string `json:"kind"`
	FullPath  string `json:"full_path"`
	ParentID  any    `json:"parent_id"`
	AvatarURL any    `json:"avatar_url"`
	WebURL    string `json:"web_url"`
}

type projectLinks struct {
	Self          string `json:"self"`
	Issues        string `json:"issues,omitempty"`
	MergeRequests string `json:"merge_requests,omitempty"`
	RepoBranches  string `json:"repo_branches"`
	Labels        string `json:"labels"`
	Events        string `json:"events"`
	Members       string `json:"members"`
	ClusterAgents string `json:"cluster_agents"`
}

type sharedWithGroup struct {
	GroupID          int64  `json:"group_id"`
	GroupName        string `json:"group_name"`
	GroupFullPath    string `json:"group_full_path"`
	GroupAccessLevel int    `json:"group_access_level"`
	ExpiresAt        any    `json:"expires_at"`
}

type projectStatistics struct {
	CommitCount           int   `json:"commit_count"`
	StorageSize           int64 `json:"storage_size"`
	RepositorySize        int64 `json:"repository_size"`
	WikiSize              int64 `json:"wiki_size"`
	LFSObjectsSize        int64 `json:"lfs_objects_size"`
	JobArtifactsSize      int64 `json:"job_artifacts_size"`
	PipelineArtifactsSize int64 `json:"pipeline_artifacts_size"`
	PackagesSize          int64 `json:"packages_size"`
	SnippetsSize          int64 `json:"snippets_size"`
	UploadsSize           int64 `json:"uploads_size"`
	ContainerRegistrySize int64 `json:"container_registry_size"`
}

type containerExpirationPolicy struct {
	Cadence       string `json:"cadence"`
	Enabled       bool   `json:"enabled"`
	KeepN         int    `json:"keep_n"`
	OlderThan     string `json:"older_than"`
	NameRegex     string `json:"name_regex"`
	NameRegexKeep any    `json:"name_regex_keep"`
	NextRunAt     string `json:"next_run_at"`
}

type permissionsJSON struct {
	ProjectAccess any `json:"project_access"`
	GroupAccess   any `json:"group_access"`
}

type projectJSON struct {
	ID                               int64                     `json:"id"`
	Description                      string                    `json:"description"`
	Name                             string                    `json:"name"`
	NameWithNamespace                string                    `json:"name_with_namespace"`
	Path                             string                    `json:"path"`
	PathWithNamespace                string                    `json:"path_with_namespace"`
	CreatedAt                        string                    `json:"created_at"`
	DefaultBranch                    string                    `json:"default_branch"`
	TagList                          []string                  `json:"tag_list"`
	Topics                           []string                  `json:"topics"`
	SSHURLToRepo                     string                    `json:"ssh_url_to_repo"`
	HTTPURLToRepo                    string                    `json:"http_url_to_repo"`
	WebURL                           string                    `json:"web_url"`
	ReadmeURL                        string                    `json:"readme_url"`
	ForksCount                       int                       `json:"forks_count"`
	AvatarURL                        any                       `json:"avatar_url"`
	StarCount                        int                       `json:"star_count"`
	LastActivityAt                   string                    `json:"last_activity_at"`
	Namespace                        namespaceJSON             `json:"namespace"`
	ContainerRegistryImagePrefix     string                    `json:"container_registry_image_prefix"`
	Links                            projectLinks              `json:"_links"`
	PackagesEnabled                  bool                      `json:"packages_enabled"`
	EmptyRepo                        bool                      `json:"empty_repo"`
	Archived                         bool                      `json:"archived"`
	Visibility                       string                    `json:"visibility"`
	ResolveOutdatedDiffDiscussions   bool                      `json:"resolve_outdated_diff_discussions"`
	ContainerExpirationPolicy        containerExpirationPolicy `json:"container_expiration_policy"`
	RepositoryObjectFormat           string                    `json:"repository_object_format"`
	IssuesEnabled                    bool                      `json:"issues_enabled"`
	MergeRequestsEnabled             bool                      `json:"merge_requests_enabled"`
	WikiEnabled                      bool                      `json:"wiki_enabled"`
	JobsEnabled                      bool                      `json:"jobs_enabled"`
	SnippetsEnabled                  bool                      `json:"snippets_enabled"`
	ContainerRegistryEnabled         bool                      `json:"container_registry_enabled"`
	ServiceDeskEnabled               bool                      `json:"service_desk_enabled"`
	CanCreateMergeRequestIn          bool                      `json:"can_create_merge_request_in"`
	IssuesAccessLevel                string                    `json:"issues_access_level"`
	RepositoryAccessLevel            string                    `json:"repository_access_level"`
	MergeRequestsAccessLevel         string                    `json:"merge_requests_access_level"`
	ForkingAccessLevel               string                    `json:"forking_access_level"`
	WikiAccessLevel                  string                    `json:"wiki_access_level"`
	BuildsAccessLevel                string                    `json:"builds_access_level"`
	SnippetsAccessLevel              string                    `json:"snippets_access_level"`
	PagesAccessLevel                 string                    `json:"pages_access_level"`
	AnalyticsAccessLevel             string                    `json:"analytics_access_level"`
	ContainerRegistryAccessLevel     string                    `json:"container_registry_access_level"`
	SecurityAndComplianceAccessLevel string                    `json:"security_and_compliance_access_level"`
	ReleasesAccessLevel              string                    `json:"releases_access_level"`
	EnvironmentsAccessLevel          string                    `json:"environments_access_level"`
	FeatureFlagsAccessLevel          string                    `json:"feature_flags_access_level"`
	InfrastructureAccessLevel        string                    `json:"infrastructure_access_level"`
	MonitorAccessLevel               string                    `json:"monitor_access_level"`
	EmailsDisabled                   bool                      `json:"emails_disabled"`
	EmailsEnabled                    bool                      `json:"emails_enabled"`
	SharedRunnersEnabled             bool                      `json:"shared_runners_enabled"`
	LFSEnabled                       bool                      `json:"lfs_enabled"`
	CreatorID                        int64                     `json:"creator_id"`
	ImportURL                        any                       `json:"import_url"`
	ImportType                       any                       `json:"import_type"`
	ImportStatus                     string                    `json:"import_status"`
	ImportError                      any                       `json:"import_error"`
	OpenIssuesCount                  *int                      `json:"open_issues_count,omitempty"`
	DescriptionHTML                  string                    `json:"description_html"`
	UpdatedAt                        string                    `json:"updated_at"`
	CIDefaultGitDepth                int                       `json:"ci_default_git_depth"`
	CIForwardDeploymentEnabled       bool                      `json:"ci_forward_deployment_enabled"`
	CIJobTokenScopeEnabled           bool                      `json:"ci_job_token_scope_enabled"`
	CISeparatedCaches                bool                      `json:"ci_separated_caches"`
	BuildGitStrategy                 string                    `json:"build_git_strategy"`
	KeepLatestArtifact               bool                      `json:"keep_latest_artifact"`
	RestrictUserDefinedVariables     bool                      `json:"restrict_user_defined_variables"`
	GroupRunnersEnabled              bool                      `json:"group_runners_enabled"`
	AutoCancelPendingPipelines       string                    `json:"auto_cancel_pending_pipelines"`
	BuildTimeout                     int                       `json:"build_timeout"`
	AutoDevopsEnabled                bool                      `json:"auto_devops_enabled"`
	AutoDevopsDeployStrategy         string                    `json:"auto_devops_deploy_strategy"`
	CIConfigPath                     any                       `json:"ci_config_path"`
	PublicJobs                       bool                      `json:"public_jobs"`
	SharedWithGroups                 []sharedWithGroup         `json:"shared_with_groups"`
	OnlyAllowMergeIfPipelineSucceeds bool                      `json:"only_allow_merge_if_pipeline_succeeds"`
	AllowMergeOnSkippedPipeline      any                       `json:"allow_merge_on_skipped_pipeline"`
	RequestAccessEnabled             bool                      `json:"request_access_enabled"`
	OnlyAllowMergeIfAllResolved      bool                      `json:"only_allow_merge_if_all_discussions_are_resolved"`
	RemoveSourceBranchAfterMerge     bool                      `json:"remove_source_branch_after_merge"`
	MergeMethod                      string                    `json:"merge_method"`
	SquashOption                     string                    `json:"squash_option"`
	SuggestionCommitMessage          any                       `json:"suggestion_commit_message"`
	MergeCommitTemplate              any                       `json:"merge_commit_template"`
	AutocloseReferencedIssues        bool                      `json:"autoclose_referenced_issues"`
	ApprovalsBeforeMerge             int                       `json:"approvals_before_merge"`
	Mirror                           bool                      `json:"mirror"`
	MarkedForDeletionAt              any                       `json:"marked_for_deletion_at"`
	MarkedForDeletionOn              any                       `json:"marked_for_deletion_on"`
	Permissions                      *permissionsJSON          `json:"permissions,omitempty"`
	Statistics                       *projectStatistics        `json:"statistics,omitempty"`
	XSim                             json.RawMessage           `json:"x_sim"`
}

func enabled(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}

// renderProject is the project entity of lists; detail adds permissions
// (GET /projects/:id), statistics is added on request.
func (st *store) renderProject(pi int32, detail, statistics bool) []byte {
	p := &st.projects[pi]
	g := &st.groups[p.group]
	api := externalURL + "/api/v4/projects/" + strconv.FormatInt(p.id, 10)
	issuesOn, mrsOn, ciOn := !p.disabled[featIssues], !p.disabled[featMRs], !p.disabled[featPipelines]
	wikiOn, registryOn, snippetsOn := !p.disabled[featWiki], !p.disabled[featRegistry], !p.disabled[featSnippets]
	out := projectJSON{ID: p.id, Description: "Synthetic project " + p.name + " of " + g.fullName + ".",
		Name: p.name, NameWithNamespace: g.fullName + " / " + p.name, Path: p.path, PathWithNamespace: p.fullPath,
		CreatedAt: st.ts(p.created), DefaultBranch: "main", TagList: []string{}, Topics: []string{},
		SSHURLToRepo: "git@gitlab.example.com:" + p.fullPath + ".git", HTTPURLToRepo: externalURL + "/" + p.fullPath + ".git",
		WebURL: externalURL + "/" + p.fullPath, ReadmeURL: externalURL + "/" + p.fullPath + "/-/blob/main/README.md",
		ForksCount: p.forks, StarCount: p.stars, LastActivityAt: st.ts(p.lastActivity),
		Namespace: namespaceJSON{ID: g.id, Name: g.name, Path: g.path, Kind: "group", FullPath: g.fullPath,
			WebURL: externalURL + "/groups/" + g.fullPath},
		ContainerRegistryImagePrefix: "registry.gitlab.example.com/" + p.fullPath,
		Links: projectLinks{Self: api, RepoBranches: api + "/repository/branches", Labels: api + "/labels",
			Events: api + "/events", Members: api + "/members", ClusterAgents: api + "/cluster_agents"},
		PackagesEnabled: true, Archived: p.archived, Visibility: "private",
		ContainerExpirationPolicy: containerExpirationPolicy{Cadence: "1d", KeepN: 10, OlderThan: "90d", NameRegex: ".*",
			NextRunAt: st.ts(p.created + msPerDay)},
		RepositoryObjectFormat: "sha1", IssuesEnabled: issuesOn, MergeRequestsEnabled: mrsOn, WikiEnabled: wikiOn,
		JobsEnabled: ciOn, SnippetsEnabled: snippetsOn, ContainerRegistryEnabled: registryOn, CanCreateMergeRequestIn: true,
		IssuesAccessLevel: enabled(issuesOn), RepositoryAccessLevel: "enabled", MergeRequestsAccessLevel: enabled(mrsOn),
		ForkingAccessLevel: "enabled", WikiAccessLevel: enabled(wikiOn), BuildsAccessLevel: enabled(ciOn),
		SnippetsAccessLevel: enabled(snippetsOn), PagesAccessLevel: "private", AnalyticsAccessLevel: "enabled",
		ContainerRegistryAccessLevel: enabled(registryOn), SecurityAndComplianceAccessLevel: "private",
		ReleasesAccessLevel: "enabled", EnvironmentsAccessLevel: "enabled", FeatureFlagsAccessLevel: "enabled",
		InfrastructureAccessLevel: "enabled", MonitorAccessLevel: "enabled", EmailsEnabled: true,
		SharedRunnersEnabled: true, LFSEnabled: true, CreatorID: st.users[p.creator].id, ImportStatus: "none",
		DescriptionHTML: "<p data-sourcepos=\"1:1-1:40\" dir=\"auto\">Synthetic project " + p.name + "</p>",
		UpdatedAt:       st.ts(p.updated), CIDefaultGitDepth: 20, CIForwardDeploymentEnabled: true, CISeparatedCaches: true,
		BuildGitStrategy: "fetch", KeepLatestArtifact: true, GroupRunnersEnabled: true,
		AutoCancelPendingPipelines: "enabled", BuildTimeout: 3600, AutoDevopsDeployStrategy: "continuous",
		SharedWithGroups: []sharedWithGroup{}, RequestAccessEnabled: true, MergeMethod: "merge", SquashOption: "default_off",
		AutocloseReferencedIssues: true, XSim: simField(int(pi) + 1)}
	if p.group >= 0 && g.parent >= 0 {
		out.Namespace.ParentID = st.groups[g.parent].id
	}
	if p.importedAt != 0 {
		out.ImportStatus = "finished"
	}
	if issuesOn {
		out.Links.Issues = api + "/issues"
		open := 0
		for _, i := range p.issues {
			if !st.issues[i].closed {
				open++
			}
		}
		out.OpenIssuesCount = &open
	}
	if mrsOn {
		out.Links.MergeRequests = api + "/merge_requests"
	}
	for _, sg := range p.sharedWith {
		gr := &st.groups[sg]
		out.SharedWithGroups = append(out.SharedWithGroups, sharedWithGroup{GroupID: gr.id, GroupName: gr.name,
			GroupFullPath: gr.fullPath, GroupAccessLevel: 30})
	}
	if detail {
		out.Permissions = &permissionsJSON{GroupAccess: map[string]int{"access_level": 50, "notification_level": 3}}
	}
	if statistics {
		h := mix(p.id)
		repo := 1<<20 + h%(200<<20)
		out.Statistics = &projectStatistics{CommitCount: 10 + int(h%5000), RepositorySize: repo, StorageSize: repo + 4096,
			WikiSize: 4096, JobArtifactsSize: int64(len(p.pipelines)) * 1024}
	}
	return marshal(out)
}

type projectSimpleJSON struct {
	ID                int64           `json:"id"`
	Description       string          `json:"description"`
	Name              string          `json:"name"`
	NameWithNamespace string          `json:"name_with_namespace"`
	Path              string          `json:"path"`
	PathWithNamespace string          `json:"path_with_namespace"`
	CreatedAt         string          `json:"created_at"`
	DefaultBranch     string          `json:"default_branch"`
	TagList           []string        `json:"tag_list"`
	Topics            []string        `json:"topics"`
	SSHURLToRepo      string          `json:"ssh_url_to_repo"`
	HTTPURLToRepo     string          `json:"http_url_to_repo"`
	WebURL            string          `json:"web_url"`
	ReadmeURL         string          `json:"readme_url"`
	ForksCount        int             `json:"forks_count"`
	AvatarURL         any             `json:"avatar_url"`
	StarCount         int             `json:"star_count"`
	LastActivityAt    string          `json:"last_activity_at"`
	Namespace         namespaceJSON   `json:"namespace"`
	XSim              json.RawMessage `json:"x_sim"`
}

// renderProjectSimple is the project of simple=true listings.
func (st *store) renderProjectSimple(pi int32) []byte {
	var full projectJSON
	if err := json.Unmarshal(st.renderProject(pi, false, false), &full); err != nil {
		panic(err)
	}
	return marshal(projectSimpleJSON{ID: full.ID, Description: full.Description, Name: full.Name,
		NameWithNamespace: full.NameWithNamespace, Path: full.Path, PathWithNamespace: full.PathWithNamespace,
		CreatedAt: full.CreatedAt, DefaultBranch: full.DefaultBranch, TagList: full.TagList, Topics: full.Topics,
		SSHURLToRepo: full.SSHURLToRepo, HTTPURLToRepo: full.HTTPURLToRepo, WebURL: full.WebURL, ReadmeURL: full.ReadmeURL,
		ForksCount: full.ForksCount, StarCount: full.StarCount, LastActivityAt: full.LastActivityAt,
		Namespace: full.Namespace, XSim: full.XSim})
}

func (st *store) renderFork(r *row) []byte {
	parent := &st.projects[r.scope]
	owner := st.userJSON(r.user)
	path := owner.Username + "/" + parent.path
	ns := newObj().f("id", 100000+owner.ID).f("name", owner.Name).f("path", owner.Username).f("kind", "user").
		f("full_path", owner.Username).f("parent_id", nil).f("avatar_url", owner.AvatarURL).f("web_url", owner.WebURL)
	return newObj().f("id", r.id).f("description", "Fork of "+parent.name+".").f("name", parent.name).
		f("name_with_namespace", owner.Name+" / "+parent.name).f("path", parent.path).f("path_with_namespace", path).
		f("created_at", st.ts(r.created)).f("default_branch", "main").f("tag_list", []string{}).f("topics", []string{}).
		f("ssh_url_to_repo", "git@gitlab.example.com:"+path+".git").f("http_url_to_repo", externalURL+"/"+path+".git").
		f("web_url", externalURL+"/"+path).f("readme_url", externalURL+"/"+path+"/-/blob/main/README.md").
		f("forks_count", 0).f("avatar_url", nil).f("star_count", 0).f("last_activity_at", st.ts(r.updated)).f("namespace", ns).
		f("visibility", "private").f("owner", owner).f("archived", false).f("forked_from_project", raw(st.renderProjectSimple(r.scope))).done()
}

func (st *store) renderStarrer(r *row) []byte {
	return newObj().f("starred_since", st.ts(r.created)).f("user", st.userJSON(r.user)).done()
}
