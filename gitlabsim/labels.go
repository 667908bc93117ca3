package gitlabsim

import (
	"encoding/json"
	"sort"
	"strings"
)

// Labels of groups and projects.

func init() {
	register(
		&table{name: "group_labels", keys: []string{"id"}, adds: noAdds, byID: true, marked: true,
			path: "groups/:id/labels", scope: scGroup, query: "include_ancestor_groups=false&include_descendant_groups=false&with_counts=true",
			list: groupLabels, count: func(st *store, sc scope) int { return len(st.groups[sc.i].labels) }},
		&table{name: "project_labels", keys: []string{"id"}, adds: noAdds, byID: true, marked: true,
			path: "projects/:id/labels", scope: scProject, query: "include_ancestor_groups=false&with_counts=true",
			list: projectLabels, count: func(st *store, sc scope) int { return len(st.projects[sc.i].labels) }},
	)
}

// groupLabels: include_ancestor_groups (default true) adds the ancestors'
// labels, include_descendant_groups (default false) the descendants'.
func groupLabels(s *Sim, sc scope, q *params) []item {
	st := s.st
	g := sc.i
	ancestors := q.boolean("include_ancestor_groups", true)
	descendants := q.boolean("include_descendant_groups", false)
	var labels []int32
	groups := []int32{g}
	if descendants {
		groups = st.subtree(g)
	}
	if ancestors {
		groups = append(groups, st.ancestors(g)...)
	}
	for _, x := range groups {
		labels = append(labels, st.groups[x].labels...)
	}
	return s.listLabels(q, labels)
}

// projectLabels: include_ancestor_groups (default true) adds the labels of
// the project's group and its ancestors.
func projectLabels(s *Sim, sc scope, q *params) []item {
	st := s.st
	p := sc.i
	ancestors := q.boolean("include_ancestor_groups", true)
	labels := append([]int32(nil), st.projects[p].labels...)
	if ancestors {
		g := st.projects[p].group
		for _, x := range append([]int32{g}, st.ancestors(g)...) {
			labels = append(labels, st.groups[x].labels...)
		}
	}
	return s.listLabels(q, labels)
}

// listLabels lists labels by name: with_counts, search.
func (s *Sim) listLabels(q *params, labels []int32) []item {
	st := s.st
	withCounts := q.boolean("with_counts", false)
	search := strings.ToLower(q.q.Get("search"))
	var idx []int32
	for _, l := range labels {
		if search == "" || strings.Contains(strings.ToLower(st.labels[l].name), search) {
			idx = append(idx, l)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		la, lb := &st.labels[idx[a]], &st.labels[idx[b]]
		if la.name != lb.name {
			return la.name < lb.name
		}
		return la.id < lb.id
	})
	out := make([]item, len(idx))
	for n, l := range idx {
		out[n] = item{id: st.labels[l].id, render: func() []byte { return st.renderLabel(l, withCounts) }}
	}
	return out
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
		IsProjectLabel: lb.project >= 0, XSim: simField(int(l) + 1)}
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

func (st *store) labelNames(ls []int32) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, st.labels[l].name)
	}
	sort.Strings(out)
	return out
}

func (st *store) labelRef(l int32) *obj {
	lb := &st.labels[l]
	return newObj().f("id", lb.id).f("name", lb.name).f("color", lb.color).f("text_color", "#FFFFFF").
		f("description", "Label "+lb.name+".")
}
