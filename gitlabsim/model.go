package gitlabsim

import (
	"sort"
	"strings"
)

// The data of an instance, held compactly: texts that follow from ids are
// derived when served; references are indexes into the store's slices.

const (
	featIssues = iota
	featMRs
	featPipelines
	// Features whose endpoints answer 404 while disabled (see xtable.feature).
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
)

var pipelineSources = []string{"push", "merge_request_event", "schedule", "web", "api"}

type pipeline struct {
	id                                  int64
	iid, project                        int32
	status, source                      uint8
	onDefault                           bool // ref is the default branch, else a feature branch
	created, updated, started, finished int64
	user                                int32
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

	licensed bool    // Premium features are on (not Options.Unlicensed)
	x        *xstore // the resources of the generic engine (extra*.go)
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
