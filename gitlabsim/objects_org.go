package gitlabsim

import (
	"encoding/json"
	"strconv"
)

// Groups, projects, members, labels and epics.

type accessLevel struct {
	AccessLevel int `json:"access_level"`
}

type branchProtection struct {
	AllowedToPush  []accessLevel `json:"allowed_to_push"`
	AllowForcePush bool          `json:"allow_force_push"`
	AllowedToMerge []accessLevel `json:"allowed_to_merge"`
}

type groupJSON struct {
	ID                              int64            `json:"id"`
	WebURL                          string           `json:"web_url"`
	Name                            string           `json:"name"`
	Path                            string           `json:"path"`
	Description                     string           `json:"description"`
	Visibility                      string           `json:"visibility"`
	ShareWithGroupLock              bool             `json:"share_with_group_lock"`
	RequireTwoFactorAuthentication  bool             `json:"require_two_factor_authentication"`
	TwoFactorGracePeriod            int              `json:"two_factor_grace_period"`
	ProjectCreationLevel            string           `json:"project_creation_level"`
	AutoDevopsEnabled               any              `json:"auto_devops_enabled"`
	SubgroupCreationLevel           string           `json:"subgroup_creation_level"`
	EmailsDisabled                  bool             `json:"emails_disabled"`
	EmailsEnabled                   bool             `json:"emails_enabled"`
	MentionsDisabled                any              `json:"mentions_disabled"`
	LFSEnabled                      bool             `json:"lfs_enabled"`
	DefaultBranch                   any              `json:"default_branch"`
	DefaultBranchProtection         int              `json:"default_branch_protection"`
	DefaultBranchProtectionDefaults branchProtection `json:"default_branch_protection_defaults"`
	AvatarURL                       any              `json:"avatar_url"`
	RequestAccessEnabled            bool             `json:"request_access_enabled"`
	FullName                        string           `json:"full_name"`
	FullPath                        string           `json:"full_path"`
	CreatedAt                       string           `json:"created_at"`
	ParentID                        any              `json:"parent_id"`
	OrganizationID                  int              `json:"organization_id"`
	SharedRunnersSetting            string           `json:"shared_runners_setting"`
	LDAPCN                          any              `json:"ldap_cn"`
	LDAPAccess                      any              `json:"ldap_access"`
	MarkedForDeletionOn             any              `json:"marked_for_deletion_on"`
	WikiAccessLevel                 string           `json:"wiki_access_level"`
	XSim                            json.RawMessage  `json:"x_sim"`
}

// groupDetailJSON is GET /groups/:id: the list entity plus detail fields.
type groupDetailJSON struct {
	groupJSON
	SharedWithGroups                      []any              `json:"shared_with_groups"`
	RunnersToken                          string             `json:"runners_token"`
	PreventSharingGroupsOutsideHierarchy  bool               `json:"prevent_sharing_groups_outside_hierarchy"`
	PreventForkingOutsideGroup            any                `json:"prevent_forking_outside_group"`
	MembershipLock                        bool               `json:"membership_lock"`
	SharedRunnersMinutesLimit             any                `json:"shared_runners_minutes_limit"`
	ExtraSharedRunnersMinutesLimit        any                `json:"extra_shared_runners_minutes_limit"`
	IPRestrictionRanges                   any                `json:"ip_restriction_ranges"`
	ServiceAccessTokensExpirationEnforced bool               `json:"service_access_tokens_expiration_enforced"`
	Projects                              *[]json.RawMessage `json:"projects,omitempty"`
	SharedProjects                        *[]json.RawMessage `json:"shared_projects,omitempty"`
}

func (st *store) groupJSON(g int32) groupJSON {
	gr := &st.groups[g]
	out := groupJSON{ID: gr.id, WebURL: externalURL + "/groups/" + gr.fullPath, Name: gr.name, Path: gr.path,
		Description: "The " + gr.name + " group.", Visibility: "private", ProjectCreationLevel: "developer",
		SubgroupCreationLevel: "maintainer", EmailsEnabled: true, LFSEnabled: true, DefaultBranchProtection: 2,
		DefaultBranchProtectionDefaults: branchProtection{AllowedToPush: []accessLevel{{40}}, AllowedToMerge: []accessLevel{{40}}},
		RequestAccessEnabled:            true, FullName: gr.fullName, FullPath: gr.fullPath, CreatedAt: ts(gr.created),
		OrganizationID: 1, SharedRunnersSetting: "enabled", WikiAccessLevel: "enabled", XSim: xsim(int(g) + 1)}
	if gr.parent >= 0 {
		out.ParentID = st.groups[gr.parent].id
	}
	return out
}

func (st *store) renderGroup(g int32) []byte { return marshal(st.groupJSON(g)) }

func (st *store) renderGroupDetail(g int32, withProjects bool) []byte {
	out := groupDetailJSON{groupJSON: st.groupJSON(g), SharedWithGroups: []any{},
		RunnersToken: "GR1348941" + fullSHA(st.groups[g].id)[:20]}
	if withProjects {
		projects, shared := []json.RawMessage{}, []json.RawMessage{}
		for _, p := range st.groups[g].projects {
			projects = append(projects, st.renderProject(p, false, false))
		}
		for _, p := range st.groups[g].shared {
			shared = append(shared, st.renderProject(p, false, false))
		}
		out.Projects, out.SharedProjects = &projects, &shared
	}
	return marshal(out)
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
		CreatedAt: ts(p.created), DefaultBranch: "main", TagList: []string{}, Topics: []string{},
		SSHURLToRepo: "git@gitlab.example.com:" + p.fullPath + ".git", HTTPURLToRepo: externalURL + "/" + p.fullPath + ".git",
		WebURL: externalURL + "/" + p.fullPath, ReadmeURL: externalURL + "/" + p.fullPath + "/-/blob/main/README.md",
		ForksCount: p.forks, StarCount: p.stars, LastActivityAt: ts(p.lastActivity),
		Namespace: namespaceJSON{ID: g.id, Name: g.name, Path: g.path, Kind: "group", FullPath: g.fullPath,
			WebURL: externalURL + "/groups/" + g.fullPath},
		ContainerRegistryImagePrefix: "registry.gitlab.example.com/" + p.fullPath,
		Links: projectLinks{Self: api, RepoBranches: api + "/repository/branches", Labels: api + "/labels",
			Events: api + "/events", Members: api + "/members", ClusterAgents: api + "/cluster_agents"},
		PackagesEnabled: true, Archived: p.archived, Visibility: "private",
		ContainerExpirationPolicy: containerExpirationPolicy{Cadence: "1d", KeepN: 10, OlderThan: "90d", NameRegex: ".*",
			NextRunAt: ts(p.created + msPerDay)},
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
		UpdatedAt:       ts(p.updated), CIDefaultGitDepth: 20, CIForwardDeploymentEnabled: true, CISeparatedCaches: true,
		BuildGitStrategy: "fetch", KeepLatestArtifact: true, GroupRunnersEnabled: true,
		AutoCancelPendingPipelines: "enabled", BuildTimeout: 3600, AutoDevopsDeployStrategy: "continuous",
		SharedWithGroups: []sharedWithGroup{}, RequestAccessEnabled: true, MergeMethod: "merge", SquashOption: "default_off",
		AutocloseReferencedIssues: true, XSim: xsim(int(pi) + 1)}
	if p.group >= 0 && g.parent >= 0 {
		out.Namespace.ParentID = st.groups[g.parent].id
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

type memberJSON struct {
	userJSON
	AccessLevel       int             `json:"access_level"`
	CreatedAt         string          `json:"created_at"`
	CreatedBy         userJSON        `json:"created_by"`
	ExpiresAt         any             `json:"expires_at"`
	GroupSAMLIdentity any             `json:"group_saml_identity"`
	MembershipState   string          `json:"membership_state"`
	MemberRole        any             `json:"member_role"`
	XSim              json.RawMessage `json:"x_sim"`
}

func (st *store) renderMember(m *member) []byte {
	return marshal(memberJSON{userJSON: st.userJSON(m.user), AccessLevel: m.access, CreatedAt: ts(m.created),
		CreatedBy: st.userJSON(m.createdBy), ExpiresAt: datep(m.expires), MembershipState: "active", XSim: xsim(int(m.seq))})
}

type labelJSON struct {
	ID                     int64           `json:"id"`
	Name                   string          `json:"name"`
	Description            string          `json:"description"`
	DescriptionHTML        string          `json:"description_html"`
	TextColor              string          `json:"text_color"`
	Color                  string          `json:"color"`
	Subscribed             bool            `json:"subscribed"`
	Priority               any             `json:"priority"`
	IsProjectLabel         bool            `json:"is_project_label"`
	OpenIssuesCount        *int            `json:"open_issues_count,omitempty"`
	ClosedIssuesCount      *int            `json:"closed_issues_count,omitempty"`
	OpenMergeRequestsCount *int            `json:"open_merge_requests_count,omitempty"`
	XSim                   json.RawMessage `json:"x_sim"`
}

// renderLabel renders a label; counts (with_counts=true) are issue and
// merge request counts of the label within its owner's scope.
func (st *store) renderLabel(l int32, withCounts bool) []byte {
	lb := &st.labels[l]
	out := labelJSON{ID: lb.id, Name: lb.name, Description: "Label " + lb.name + ".",
		DescriptionHTML: "Label " + lb.name + ".", TextColor: "#FFFFFF", Color: lb.color,
		IsProjectLabel: lb.project >= 0, XSim: xsim(int(l) + 1)}
	if lb.priority >= 0 {
		out.Priority = lb.priority
	}
	if withCounts {
		oi, ci, om := st.labelCounts(l)
		out.OpenIssuesCount, out.ClosedIssuesCount, out.OpenMergeRequestsCount = &oi, &ci, &om
	}
	return marshal(out)
}

func (st *store) labelCounts(l int32) (openIssues, closedIssues, openMRs int) {
	lb := &st.labels[l]
	var projects []int32
	if lb.project >= 0 {
		projects = []int32{lb.project}
	} else {
		projects = st.subtreeProjects(lb.group)
	}
	for _, p := range projects {
		for _, i := range st.projects[p].issues {
			is := &st.issues[i]
			for _, x := range is.labels {
				if x == l {
					if is.closed {
						closedIssues++
					} else {
						openIssues++
					}
				}
			}
		}
		for _, i := range st.projects[p].mrs {
			mr := &st.mrs[i]
			for _, x := range mr.labels {
				if x == l && mr.state == mrOpened {
					openMRs++
				}
			}
		}
	}
	return
}

type epicLinks struct {
	Self       string `json:"self"`
	EpicIssues string `json:"epic_issues"`
	Group      string `json:"group"`
	Parent     any    `json:"parent"`
}

type epicJSON struct {
	ID               int64           `json:"id"`
	IID              int32           `json:"iid"`
	Color            string          `json:"color"`
	TextColor        string          `json:"text_color"`
	GroupID          int64           `json:"group_id"`
	ParentID         any             `json:"parent_id"`
	ParentIID        any             `json:"parent_iid"`
	Title            string          `json:"title"`
	Description      string          `json:"description"`
	Confidential     bool            `json:"confidential"`
	Author           userJSON        `json:"author"`
	StartDate        any             `json:"start_date"`
	StartDateIsFixed bool            `json:"start_date_is_fixed"`
	StartDateFixed   any             `json:"start_date_fixed"`
	EndDate          any             `json:"end_date"`
	DueDate          any             `json:"due_date"`
	DueDateIsFixed   bool            `json:"due_date_is_fixed"`
	DueDateFixed     any             `json:"due_date_fixed"`
	State            string          `json:"state"`
	WebEditURL       string          `json:"web_edit_url"`
	WebURL           string          `json:"web_url"`
	Reference        string          `json:"reference"`
	References       references      `json:"references"`
	CreatedAt        string          `json:"created_at"`
	UpdatedAt        string          `json:"updated_at"`
	ClosedAt         any             `json:"closed_at"`
	Labels           []string        `json:"labels"`
	Upvotes          int             `json:"upvotes"`
	Downvotes        int             `json:"downvotes"`
	Links            epicLinks       `json:"_links"`
	Imported         bool            `json:"imported"`
	ImportedFrom     string          `json:"imported_from"`
	XSim             json.RawMessage `json:"x_sim"`
}

func (st *store) renderEpic(e int32) []byte {
	ep := &st.epics[e]
	g := &st.groups[ep.group]
	iid := strconv.Itoa(int(ep.iid))
	api := externalURL + "/api/v4/groups/" + strconv.FormatInt(g.id, 10)
	out := epicJSON{ID: ep.id, IID: ep.iid, Color: "#1068bf", TextColor: "#FFFFFF", GroupID: g.id,
		Title: itemTitle(ep.id, ep.rev), Description: itemDescription("epic", ep.id, ep.rev), Author: st.userJSON(ep.author),
		StartDate: datep(ep.start), StartDateIsFixed: ep.start != 0, StartDateFixed: datep(ep.start),
		EndDate: datep(ep.due), DueDate: datep(ep.due), DueDateIsFixed: ep.due != 0, DueDateFixed: datep(ep.due),
		State: "opened", WebEditURL: "/groups/" + g.fullPath + "/-/epics/" + iid,
		WebURL: externalURL + "/groups/" + g.fullPath + "/-/epics/" + iid, Reference: "&" + iid,
		References: references{Short: "&" + iid, Relative: "&" + iid, Full: g.fullPath + "&" + iid},
		CreatedAt:  ts(ep.created), UpdatedAt: ts(ep.updated), ClosedAt: tsp(ep.closedAt), Labels: st.labelNames(ep.labels),
		Links: epicLinks{Self: api + "/epics/" + iid, EpicIssues: api + "/epics/" + iid + "/issues", Group: api},
		XSim:  xsim(int(e) + 1)}
	if ep.closed {
		out.State = "closed"
	}
	if ep.parent >= 0 {
		pe := &st.epics[ep.parent]
		out.ParentID, out.ParentIID = pe.id, pe.iid
		out.Links.Parent = externalURL + "/api/v4/groups/" + strconv.FormatInt(st.groups[pe.group].id, 10) +
			"/epics/" + strconv.Itoa(int(pe.iid))
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
