package gitlabsim

import (
	"sort"
	"strings"
	"time"
)

// The data of an instance, held compactly: texts that follow from ids are
// derived when served; references are indexes into the store's slices. The
// hand-modelled objects (groups, projects, issues, merge requests, notes,
// pipelines, jobs, labels, milestones, epics, members) have structs of
// their own; every other table holds rows: small, uniform records whose
// fields each table gives a meaning (see its generator and renderer).

const (
	featIssues = iota
	featMRs
	featPipelines
	// Features whose endpoints answer 404 while disabled (see table.feature).
	featWiki
	featRegistry
	featSnippets
	numFeatures
)

var featureIndex = map[string]int{"issues": featIssues, "merge_requests": featMRs, "pipelines": featPipelines,
	"wiki": featWiki, "container_registry": featRegistry, "snippets": featSnippets}

// featureNames lists the features SetFeatureDisabled knows, for messages.
const featureNames = "issues|merge_requests|pipelines|wiki|container_registry|snippets"

type user struct {
	id             int64
	username, name string
	created        int64
}

type member struct {
	user      int32
	access    int
	created   int64
	expires   int64 // 0 = never
	createdBy int32
	seq       int32
}

type group struct {
	id                             int64
	parent                         int32 // -1 for the root
	name, path, fullPath, fullName string
	created                        int64
	children, projects, shared     []int32 // shared: projects of other groups shared with this one
	labels, milestones, epics      []int32
	members                        []member
	nextMilestoneIID, nextEpicIID  int32
}

type project struct {
	id                             int64
	group                          int32
	name, path, fullPath           string
	created, updated, lastActivity int64
	importedAt                     int64 // when it was imported (its older objects are imported ones); 0 = never
	archived                       bool
	disabled                       [numFeatures]bool
	creator                        int32
	issues, mrs, pipelines         []int32 // issues[iid-1], mrs[iid-1], pipelines in creation order
	labels, milestones             []int32
	members                        []member
	sharedWith                     []int32 // groups
	nextMilestoneIID               int32
	stars, forks                   int
}

type issue struct {
	id                          int64
	iid, project                int32
	rev                         uint16
	closed, confidential        bool
	incident                    bool
	created, updated, closedAt  int64
	due                         int64
	author, closedBy, milestone int32 // -1 = none
	assignees, labels, notes    []int32
	weight                      int8 // -1 = null
	upvotes, downvotes, mrCount uint8
}

const (
	mrOpened = iota
	mrClosed
	mrMerged
	mrLocked
)

var mrStates = []string{"opened", "closed", "merged", "locked"}

type mergeRequest struct {
	id                                 int64
	iid, project                       int32
	rev                                uint16
	state                              uint8
	draft                              bool
	created, updated, closedAt, merged int64
	author, closedBy, mergedBy         int32
	milestone                          int32
	assignees, reviewers, labels       []int32
	notes                              []int32
	upvotes, downvotes                 uint8
}

type note struct {
	id               int64
	parent           int32 // index of the issue or merge request
	author           int32
	created, updated int64
	rev              uint16 // edits of the body
	system, internal bool
}

var pipelineStatuses = []string{"success", "failed", "canceled", "running", "skipped", "manual", "pending", "created"}

const (
	stSuccess = iota
	stFailed
	stCanceled
	stRunning
	stSkipped
	stManual
	stPending
	stCreated
)

// pipelineSources: the generator draws from the first generatedSources.
var pipelineSources = []string{"push", "merge_request_event", "schedule", "web", "api", "external"}

const generatedSources = 5

type pipeline struct {
	id                                  int64
	iid, project                        int32
	status, source                      uint8
	onDefault                           bool // ref is the default branch, else a feature branch
	created, updated, started, finished int64
	user                                int32
	commit, ref                         int32 // its commit (a row of commits) and ref (store.names); -1 = none
	jobs                                []int32
}

type job struct {
	id                         int64
	pipeline                   int32
	kind, status               uint8
	created, started, finished int64
	retried, allowFailure      bool
	user                       int32
}

type label struct {
	id             int64
	group, project int32 // the owner; -1 for the other
	name, color    string
	priority       int // -1 = null
}

type milestone struct {
	id                           int64
	iid                          int32
	group, project               int32 // the owner; -1 for the other
	rev                          uint16
	closed                       bool
	created, updated, start, due int64
	refs                         int32 // issues and merge requests that embed it
}

type epic struct {
	id                                     int64
	iid, group                             int32
	rev                                    uint16
	closed                                 bool
	created, updated, closedAt, start, due int64
	author, parent                         int32 // parent: index of the parent epic, -1 = none
	labels                                 []int32
}

// idCounters hold the next id of each table (GitLab ids are per table).
type idCounters struct {
	group, project, issue, mr, note, milestone, label, epic, pipeline, job int64
	memberSeq                                                              int32
}

type store struct {
	lo, hi int64 // history range, unix ms
	users  []user

	groups     []group
	projects   []project
	issues     []issue
	mrs        []mergeRequest
	issueNotes []note
	mrNotes    []note
	pipelines  []pipeline
	jobs       []job
	labels     []label
	milestones []milestone
	epics      []epic

	groupByID, projectByID, pipelineByID map[int64]int32
	groupByPath, projectByPath           map[string]int32 // lower-case full paths

	next idCounters

	licensed bool           // Premium features are on (not Options.Unlicensed)
	zone     *time.Location // the instance's time zone (Options.TimeZone), in which times are rendered

	// The rows of every other table, and their id sequences.
	tabs map[string]*rowTable
	seqs map[string]*int64

	// Repositories (git.go): the second parents of merge commits, ref
	// names, the push of each push event (a row of project_events), the
	// merge commit of each merged merge request.
	mergeParents map[int32]int32
	names        []string
	nameIndex    map[string]int32
	pushes       map[int64]push // by event id
	mrMerge      map[int32]int32
	mrApprovals  map[int32][]int32  // merge request -> who approved it (beyond the generated approvals of merged ones)
	reviews      map[[2]int32]uint8 // (merge request, reviewer) -> review state set by Mutate

	groupLinks []groupLink // groups shared with groups (admin.go)
	// dataNow: the time of the data's last change; fetches: git fetches
	// by project and day (unix day) beyond the generated ones (admin.go).
	dataNow int64
	fetches map[int32]map[int64]int

	issueEpic map[int32]int32   // issue -> its epic
	mrCloses  map[int32][]int32 // merge request -> the issues it closes
	mrPipes   map[int32][]int32 // merge request -> its pipelines
	pipeMR    map[int32]int32   // pipeline -> its merge request

	// issues, merge requests and pipelines [0, n) have their children
	// (award emoji, events, commits...)
	initIssues, initMRs, initPipelines int
}

func (st *store) addGroupIndex(i int32) {
	st.groupByID[st.groups[i].id] = i
	st.groupByPath[strings.ToLower(st.groups[i].fullPath)] = i
}

func (st *store) addProjectIndex(i int32) {
	st.projectByID[st.projects[i].id] = i
	st.projectByPath[strings.ToLower(st.projects[i].fullPath)] = i
}

// subtree returns g and all its descendants, in pre-order.
func (st *store) subtree(g int32) []int32 {
	out := []int32{g}
	for i := 0; i < len(out); i++ {
		out = append(out, st.groups[out[i]].children...)
	}
	return out
}

// ancestors returns g's parent, grandparent, ... up to the root.
func (st *store) ancestors(g int32) []int32 {
	var out []int32
	for p := st.groups[g].parent; p >= 0; p = st.groups[p].parent {
		out = append(out, p)
	}
	return out
}

// subtreeProjects returns the projects of g's subtree, by id.
func (st *store) subtreeProjects(g int32) []int32 {
	var out []int32
	for _, sg := range st.subtree(g) {
		out = append(out, st.groups[sg].projects...)
	}
	sortByID(out, func(i int32) int64 { return st.projects[i].id })
	return out
}

func sortByID(idx []int32, id func(int32) int64) {
	sort.Slice(idx, func(a, b int) bool { return id(idx[a]) < id(idx[b]) })
}

// availableLabels are the labels an issue of project p can carry: the
// project's and its groups' (namespace and ancestors).
func (st *store) availableLabels(p int32) []int32 {
	pr := &st.projects[p]
	out := append([]int32(nil), pr.labels...)
	out = append(out, st.groups[pr.group].labels...)
	for _, a := range st.ancestors(pr.group) {
		out = append(out, st.groups[a].labels...)
	}
	return out
}

// row is one object of a table that has no struct of its own. The meaning
// of user, ref, k and flag is the table's (see its generator and renderer).
type row struct {
	id               int64
	created, updated int64
	scope            int32 // the index of its scope object (group, project, issue, ..., or row of the parent table)
	user, ref        int32 // a user; a reference (label, milestone, commit row, tag row, issue...) or -1
	k                int32 // an ordinal or variant
	rev              uint16
	flag             uint8
	dead             bool
}

// rowTable holds the rows of one table.
type rowTable struct {
	rows    []row
	byScope [][]int32         // live rows per scope, in creation order
	sparse  map[int32][]int32 // the same, for tables of few rows in many scopes (byScope unused)
	next    *int64            // the table's id sequence (shared by tables that are one table in GitLab)
}

// sparseTables hang off many scopes with few rows (notes' award emoji).
var sparseTables = map[string]bool{"issue_note_award_emoji": true, "merge_request_note_award_emoji": true, "commit_notes": true}

// add appends r (its id taken from the sequence when 0) and returns its index.
func (t *rowTable) add(r row) int32 {
	if r.id == 0 {
		r.id = *t.next
		*t.next++
	}
	t.rows = append(t.rows, r)
	i := int32(len(t.rows) - 1)
	t.setLive(r.scope, append(t.live(r.scope), i))
	return i
}

// live lists the live rows of a scope.
func (t *rowTable) live(sc int32) []int32 {
	if t.sparse != nil {
		return t.sparse[sc]
	}
	if sc < 0 || int(sc) >= len(t.byScope) {
		return nil
	}
	return t.byScope[sc]
}

func (t *rowTable) setLive(sc int32, list []int32) {
	if t.sparse != nil {
		t.sparse[sc] = list
		return
	}
	for int(sc) >= len(t.byScope) {
		t.byScope = append(t.byScope, nil)
	}
	t.byScope[sc] = list
}

// del deletes row i.
func (t *rowTable) del(i int32) {
	r := &t.rows[i]
	if r.dead {
		return
	}
	r.dead = true
	list := t.live(r.scope)
	for n, x := range list {
		if x == i {
			t.setLive(r.scope, append(list[:n:n], list[n+1:]...))
			break
		}
	}
}

// xsequences names the id sequence of tables that GitLab keeps in one
// database table, and where each sequence starts.
var (
	sharedSequences = map[string]string{
		"group_audit_events": "audit_events", "project_audit_events": "audit_events",
		"issue_award_emoji": "award_emoji", "merge_request_award_emoji": "award_emoji",
		"issue_resource_label_events": "label_events", "merge_request_resource_label_events": "label_events",
		"issue_resource_state_events": "state_events", "merge_request_resource_state_events": "state_events",
		"issue_resource_milestone_events": "milestone_events", "merge_request_resource_milestone_events": "milestone_events",
		"group_boards": "boards", "project_boards": "boards",
		"group_badges": "badges", "project_badges": "badges",
		"group_hooks": "hooks", "project_hooks": "hooks",
		"group_protected_environments": "protected_environments", "project_protected_environments": "protected_environments",
		"group_runners":       "runners",
		"snippet_award_emoji": "award_emoji", "group_deploy_tokens": "deploy_tokens",
		"group_access_tokens": "access_tokens", "project_access_tokens": "access_tokens",
		"group_invitations": "invitations", "project_invitations": "invitations",
		"group_integrations": "integrations", "project_integrations": "integrations",
	}
	sequenceStarts = map[string]int64{
		"audit_events": 80001, "award_emoji": 40001, "label_events": 60001, "state_events": 62001, "milestone_events": 64001,
		"issue_resource_weight_events": 66001, "boards": 301, "badges": 501, "hooks": 701, "runners": 31,
		"group_iterations": 1201, "commits": 70000001, "epic_issues": 9001, "issue_links": 3001, "packages": 2201,
		"snippets": 4101, "deploy_keys": 5101, "deploy_tokens": 5501, "container_repositories": 6101, "freeze_periods": 6501,
		"remote_mirrors": 6801, "vulnerabilities": 7101, "project_events": 200001, "forks": 900001, "pipeline_schedules": 7601,
		"deployments": 7801, "environments": 8101, "protected_branches": 8301, "merge_request_commits": 1,
		"project_runners": 20001, "project_approval_rules": 9501, "merge_trains": 9701, "external_status_checks": 9901,
		"group_protected_branches": 9951, "package_files": 12001,
		"epic_resource_label_events": 9500001,
		"access_tokens":              13001, "invitations": 13501, "integrations": 14001, "pipeline_triggers": 14501,
		"feature_flag_user_lists": 15001, "resource_groups": 15501, "secure_files": 16001, "cluster_agents": 16501,
		"status_check_responses": 17001, "group_epic_boards": 17501, "package_protection_rules": 18001,
		"container_repository_protection_rules": 18501, "cluster_agent_tokens": 19001,
	}
)

// initRows prepares the row tables (after the hand-modelled data).
func (st *store) initRows() {
	st.tabs, st.seqs = map[string]*rowTable{}, map[string]*int64{}
	st.issueEpic, st.mrCloses, st.mrPipes, st.pipeMR = map[int32]int32{}, map[int32][]int32{}, map[int32][]int32{}, map[int32]int32{}
	st.seqs["notes"] = &st.next.note // epic notes are notes
	st.mergeParents, st.nameIndex, st.pushes, st.mrMerge = map[int32]int32{}, map[string]int32{}, map[int64]push{}, map[int32]int32{}
	st.mrApprovals = map[int32][]int32{}
	st.reviews = map[[2]int32]uint8{}
}

// tab returns a table's rows (created empty on first use).
func (st *store) tab(name string) *rowTable {
	if t, ok := st.tabs[name]; ok {
		return t
	}
	seq := name
	if s, ok := sharedSequences[name]; ok {
		seq = s
	}
	if name == "epic_notes" || name == "commit_notes" || name == "snippet_notes" {
		seq = "notes"
	}
	next, ok := st.seqs[seq]
	if !ok {
		next = new(int64)
		*next = 1
		if v, ok := sequenceStarts[seq]; ok {
			*next = v
		}
		st.seqs[seq] = next
	}
	t := &rowTable{next: next}
	if sparseTables[name] {
		t.sparse = map[int32][]int32{}
	}
	st.tabs[name] = t
	return t
}

// rowIndex finds the index of a live row of a table by its id.
func (st *store) rowIndex(table string, r *row) int32 {
	tab := st.tab(table)
	for _, i := range tab.live(r.scope) {
		if tab.rows[i].id == r.id {
			return i
		}
	}
	return -1
}

// importedFrom is what imported / imported_from say of an object of
// project p created at t: imported from GitLab when the project was
// imported after it.
func (st *store) importedFrom(p int32, t int64) (bool, string) {
	if at := st.projects[p].importedAt; at != 0 && t < at {
		return true, "gitlab_project"
	}
	return false, "none"
}
