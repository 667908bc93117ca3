package gitlabsim

import (
	"container/heap"
	"fmt"
	"strings"
	"time"
)

// Repositories as git keeps them. Per project:
//   - a commit DAG: the rows of the commits table (scope = project): id (the
//     sha follows from it), created = the committed date, updated = the
//     authored date (git dates have whole seconds), user = the author, k =
//     the committer (-1: the author), ref = the first parent (-1: a root
//     commit); a merge commit's second parent is in store.mergeParents;
//   - branches: the rows of repository_branches: k = the name
//     (store.names), ref = the head commit; "main" is the default branch;
//   - tags: the rows of repository_tags: ref = the commit.
//
// Pushes move heads — fast-forwards, old local work (commits dated long
// before the push), merges of old branches, force-pushes, new and deleted
// branches, the first push of an imported history — and each adds a push
// event (events.go). The commits listing walks the DAG as git log does
// (lib/api/commits.rb, Gitaly's FindCommits running git log).

// defaultBranch is every project's default branch.
const defaultBranch = "main"

// push is what one push did to one branch: its event's push_data.
type push struct {
	from, to int32 // the old and new head (commit rows); -1: a new branch, a deletion
	name     int32 // the branch (store.names)
	count    int32 // commits pushed
	title    int32 // the commit whose title the event shows (-1: none)
}

// name interns a ref name.
func (st *store) name(s string) int32 {
	if i, ok := st.nameIndex[s]; ok {
		return i
	}
	st.names = append(st.names, s)
	i := int32(len(st.names) - 1)
	st.nameIndex[s] = i
	return i
}

// gitSeconds truncates a time to git's whole seconds.
func gitSeconds(ms int64) int64 { return ms - ms%1000 }

// branchRow is the row of project p's branch name, or -1.
func (st *store) branchRow(p int32, name string) int32 {
	n, ok := st.nameIndex[name]
	if !ok {
		return -1
	}
	tab := st.tab("repository_branches")
	for _, i := range tab.live(p) {
		if tab.rows[i].k == n {
			return i
		}
	}
	return -1
}

// head is the head commit of project p's branch, or -1.
func (st *store) head(p int32, name string) int32 {
	if b := st.branchRow(p, name); b >= 0 {
		return st.tab("repository_branches").rows[b].ref
	}
	return -1
}

// parents lists a commit's parents, first parent first.
func (st *store) parents(c int32) []int32 {
	r := &st.tab("commits").rows[c]
	if r.ref < 0 {
		return nil
	}
	if second, ok := st.mergeParents[c]; ok {
		return []int32{r.ref, second}
	}
	return []int32{r.ref}
}

// newCommit adds a commit of project p by user, committed (and authored)
// at t, on parents.
func (st *store) newCommit(p int32, t int64, user int32, parents ...int32) int32 {
	t = gitSeconds(t)
	r := row{scope: p, created: t, updated: t, user: user, ref: -1, k: -1}
	if len(parents) > 0 {
		r.ref = parents[0]
	}
	c := st.tab("commits").add(r)
	if len(parents) > 1 {
		st.mergeParents[c] = parents[1]
	}
	return c
}

// setBranch points project p's branch name at head (creating it at t),
// and returns its row.
func (st *store) setBranch(p int32, name string, head int32, t int64) int32 {
	if b := st.branchRow(p, name); b >= 0 {
		st.tab("repository_branches").rows[b].ref = head
		return b
	}
	return st.tab("repository_branches").add(row{scope: p, k: st.name(name), ref: head, created: t, updated: t, user: -1})
}

// reach marks every commit reachable from tips (tips included).
func (st *store) reach(tips []int32, firstParent bool) map[int32]bool {
	seen := map[int32]bool{}
	stack := append([]int32(nil), tips...)
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c < 0 || seen[c] {
			continue
		}
		seen[c] = true
		ps := st.parents(c)
		if firstParent && len(ps) > 1 {
			ps = ps[:1]
		}
		stack = append(stack, ps...)
	}
	return seen
}

// commitAt is the commit of the first-parent line from head that was the
// head at t (the oldest when all are newer), or -1.
func (st *store) commitAt(head int32, t int64) int32 {
	rows := st.tab("commits").rows
	for c := head; c >= 0; c = rows[c].ref {
		if rows[c].created <= t || rows[c].ref < 0 {
			return c
		}
	}
	return -1
}

// walkOptions are git log's options the commits API passes on.
type walkOptions struct {
	since, until int64 // --after / --before (whole seconds), 0 = none
	firstParent  bool
	topo         bool
}

// commitQueue orders commits newest committed first, ties in insertion
// order (git's commit_list_insert_by_date).
type commitQueue struct {
	st    *store
	items []int32
	seq   []int
	next  int
}

func (q *commitQueue) Len() int { return len(q.items) }
func (q *commitQueue) Less(a, b int) bool {
	rows := q.st.tab("commits").rows
	da, db := rows[q.items[a]].created, rows[q.items[b]].created
	if da != db {
		return da > db
	}
	return q.seq[a] < q.seq[b]
}
func (q *commitQueue) Swap(a, b int) {
	q.items[a], q.items[b] = q.items[b], q.items[a]
	q.seq[a], q.seq[b] = q.seq[b], q.seq[a]
}
func (q *commitQueue) Push(x any) {
	q.items = append(q.items, x.(int32))
	q.seq = append(q.seq, q.next)
	q.next++
}
func (q *commitQueue) Pop() any {
	n := len(q.items) - 1
	c := q.items[n]
	q.items, q.seq = q.items[:n], q.seq[:n]
	return c
}

// walk lists the commits reachable from tips and not from exclude, in git
// log's order (git's revision.c): newest committed first, a commit never
// before its children; with --topo-order, no parent before all its
// children, one line of history at a time. --after (since) skips a commit
// committed before it and does not walk on through it (get_revision_1);
// with excluded commits (a range: git's limited walk) such a commit's
// ancestors are left out too (limit_list marks them uninteresting).
// --before (until) skips newer commits but walks on through them.
func (st *store) walk(tips, exclude []int32, o walkOptions) []int32 {
	rows := st.tab("commits").rows
	var excluded map[int32]bool
	limited := len(exclude) > 0 || o.topo
	if len(exclude) > 0 {
		excluded = st.reach(exclude, false)
	}
	if limited && o.since != 0 {
		// limit_list: a commit older than --since is uninteresting, and so
		// is everything it reaches.
		var old []int32
		for c := range st.reach(tips, o.firstParent) {
			if rows[c].created < o.since {
				old = append(old, c)
			}
		}
		if len(old) > 0 {
			if excluded == nil {
				excluded = map[int32]bool{}
			}
			for c := range st.reach(old, o.firstParent) {
				excluded[c] = true
			}
		}
	}
	q := &commitQueue{st: st}
	seen := map[int32]bool{}
	for _, t := range tips {
		if t >= 0 && !seen[t] {
			seen[t] = true
			heap.Push(q, t)
		}
	}
	var out []int32
	for q.Len() > 0 {
		c := heap.Pop(q).(int32)
		if !limited && o.since != 0 && rows[c].created < o.since {
			continue // not shown, and its parents are not walked from it
		}
		ps := st.parents(c)
		if o.firstParent && len(ps) > 1 {
			ps = ps[:1]
		}
		for _, p := range ps {
			if !seen[p] {
				seen[p] = true
				heap.Push(q, p)
			}
		}
		if excluded[c] || (o.until != 0 && rows[c].created > o.until) {
			continue
		}
		out = append(out, c)
	}
	if o.topo {
		out = st.topoOrder(out, o.firstParent)
	}
	return out
}

// topoOrder reorders commits (in walk order) as git's --topo-order does
// (commit.c sort_in_topological_order, REV_SORT_IN_GRAPH_ORDER): a stack
// seeded with the tips in walk order; a parent is pushed once all its
// children in the list are out.
func (st *store) topoOrder(list []int32, firstParent bool) []int32 {
	in := map[int32]bool{}
	for _, c := range list {
		in[c] = true
	}
	children := map[int32]int{}
	parentsOf := func(c int32) []int32 {
		ps := st.parents(c)
		if firstParent && len(ps) > 1 {
			ps = ps[:1]
		}
		return ps
	}
	for _, c := range list {
		for _, p := range parentsOf(c) {
			if in[p] {
				children[p]++
			}
		}
	}
	var stack []int32
	for i := len(list) - 1; i >= 0; i-- {
		if children[list[i]] == 0 {
			stack = append(stack, list[i])
		}
	}
	out := make([]int32, 0, len(list))
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, c)
		for _, p := range parentsOf(c) {
			if !in[p] {
				continue
			}
			if children[p]--; children[p] == 0 {
				stack = append(stack, p)
			}
		}
	}
	return out
}

// refTips are the commits of every branch and tag of project p (git log
// --all).
func (st *store) refTips(p int32) []int32 {
	var out []int32
	for _, table := range []string{"repository_branches", "repository_tags"} {
		tab := st.tab(table)
		for _, i := range tab.live(p) {
			if c := tab.rows[i].ref; c >= 0 {
				out = append(out, c)
			}
		}
	}
	return out
}

// resolve finds the commit a revision names in project p: a branch, a
// tag, HEAD, refs/heads/... or refs/tags/..., or a (unique, 4 or more
// characters) sha prefix; -1 when none.
func (st *store) resolve(p int32, rev string) int32 {
	switch {
	case rev == "HEAD":
		return st.head(p, defaultBranch)
	case strings.HasPrefix(rev, "refs/heads/"):
		return st.head(p, strings.TrimPrefix(rev, "refs/heads/"))
	case strings.HasPrefix(rev, "refs/tags/"):
		return st.tagCommit(p, strings.TrimPrefix(rev, "refs/tags/"))
	}
	if c := st.head(p, rev); c >= 0 {
		return c
	}
	if c := st.tagCommit(p, rev); c >= 0 {
		return c
	}
	if len(rev) < 4 || len(rev) > 40 || strings.Trim(strings.ToLower(rev), "0123456789abcdef") != "" {
		return -1
	}
	tab := st.tab("commits")
	found := int32(-1)
	for _, c := range tab.live(p) {
		if strings.HasPrefix(commitSHA(&tab.rows[c]), strings.ToLower(rev)) {
			if found >= 0 {
				return -1 // ambiguous
			}
			found = c
		}
	}
	return found
}

// tagCommit is the commit of project p's tag name, or -1.
func (st *store) tagCommit(p int32, name string) int32 {
	tab := st.tab("repository_tags")
	for _, i := range tab.live(p) {
		if tagName(&tab.rows[i]) == name {
			return tab.rows[i].ref
		}
	}
	return -1
}

// validRevision is Gitaly's git.ValidateRevision: a revision may not start
// with '-' nor hold whitespace, NUL, ':' or '\'.
func validRevision(rev string) bool {
	return !strings.HasPrefix(rev, "-") && !strings.ContainsAny(rev, " \t\n\x00:\\")
}

// revisionCommits lists what git log <rev> lists in project p: a
// revision, a range a..b (reachable from b, not from a) or a...b (from
// either, not both); ok is false for an unknown revision.
func (st *store) revisionCommits(p int32, rev string, o walkOptions) ([]int32, bool) {
	if a, b, ok := strings.Cut(rev, "..."); ok {
		ca, cb := st.resolveOrHead(p, a), st.resolveOrHead(p, b)
		if ca < 0 || cb < 0 {
			return nil, false
		}
		ra, rb := st.reach([]int32{ca}, false), st.reach([]int32{cb}, false)
		var both []int32
		for c := range ra {
			if rb[c] {
				both = append(both, c)
			}
		}
		return st.walk([]int32{ca, cb}, both, o), true
	}
	if a, b, ok := strings.Cut(rev, ".."); ok {
		ca, cb := st.resolveOrHead(p, a), st.resolveOrHead(p, b)
		if ca < 0 || cb < 0 {
			return nil, false
		}
		return st.walk([]int32{cb}, []int32{ca}, o), true
	}
	c := st.resolve(p, rev)
	if c < 0 {
		return nil, false
	}
	return st.walk([]int32{c}, nil, o), true
}

// resolveOrHead resolves one side of a range (empty: HEAD).
func (st *store) resolveOrHead(p int32, rev string) int32 {
	if rev == "" {
		rev = "HEAD"
	}
	return st.resolve(p, rev)
}

// Pushes.

// pushCommits adds n commits by user on top of parent (-1: a root) to
// project p, committed one minute apart up to t, and returns the newest
// (-1 when n is 0).
func (m *mutator) pushCommits(p int32, parent int32, n int, t int64, user int32) int32 {
	head := parent
	for k := n - 1; k >= 0; k-- {
		head = m.st.newCommit(p, t-int64(k)*msPerMinute, user, headList(head)...)
	}
	return head
}

func headList(c int32) []int32 {
	if c < 0 {
		return nil
	}
	return []int32{c}
}

// pushed moves project p's branch name to head (deleting it when head is
// -1) by user at now, records the push event as GitLab does
// (app/services/push_event_payload_service.rb) and, for the source branch
// of an open merge request, its new commits (MergeRequests::RefreshService:
// the "added N commits" system note touches the merge request, throttled).
func (m *mutator) pushed(p int32, name string, head int32, user int32) push {
	st := m.st
	from := st.head(p, name)
	ev := push{from: from, to: head, name: st.name(name), title: head}
	switch {
	case head < 0:
		if b := st.branchRow(p, name); b >= 0 {
			st.tab("repository_branches").del(b)
		}
		ev.title = -1
	case from < 0 && name == defaultBranch:
		// The first push of a default branch counts every commit.
		ev.count = int32(len(st.walk([]int32{head}, nil, walkOptions{})))
		st.setBranch(p, name, head, m.now)
	case from < 0:
		// A new branch counts the commits the default branch lacks.
		ev.count = int32(len(st.walk([]int32{head}, headList(st.head(p, defaultBranch)), walkOptions{})))
		st.setBranch(p, name, head, m.now)
	default:
		ev.count = int32(len(st.walk([]int32{head}, []int32{from}, walkOptions{})))
		st.setBranch(p, name, head, m.now)
	}
	m.pushEvent(p, user, ev)
	if head >= 0 {
		if mr := st.openMRWithBranch(p, name); mr >= 0 {
			m.mrPushed(mr, head)
		}
	}
	m.touched[p] = true
	return ev
}

// openMRWithBranch is the open merge request of project p whose source
// branch is name, or -1.
func (st *store) openMRWithBranch(p int32, name string) int32 {
	for _, i := range st.projects[p].mrs {
		if mr := &st.mrs[i]; (mr.state == mrOpened || mr.state == mrLocked) && st.mrBranch(i) == name {
			return i
		}
	}
	return -1
}

// mrPushed updates merge request i's commits after a push to its source
// branch (the commits of target..head: a force-push drops the rewritten
// ones) and adds GitLab's system note "added N commits"
// (MergeRequests::RefreshService), which touches it, throttled.
func (m *mutator) mrPushed(i int32, head int32) {
	st := m.st
	target := st.head(st.mrs[i].project, defaultBranch)
	now := map[int32]bool{}
	news := st.walk([]int32{head}, headList(target), walkOptions{})
	for _, c := range news {
		now[c] = true
	}
	tab := st.tab("merge_request_commits")
	have := map[int32]bool{}
	for _, r := range append([]int32(nil), tab.live(i)...) {
		if c := tab.rows[r].ref; now[c] {
			have[c] = true
		} else {
			tab.del(r)
		}
	}
	added := 0
	for k := len(news) - 1; k >= 0; k-- {
		if c := news[k]; !have[c] {
			tab.add(row{scope: i, ref: c, created: m.now, user: -1})
			added++
		}
	}
	if added > 0 {
		m.addNote(true, i, true)
	}
}

// commitUser is a user who pushes to project p: one of its members, or
// anyone.
func (m *mutator) commitUser(p int32) int32 {
	if ms := m.st.projects[p].members; len(ms) > 0 {
		return ms[m.r.IntN(len(ms))].user
	}
	return m.anyUser()
}

// projectByID finds a project (panics for an unknown one: a mistake in the
// calling test).
func (st *store) projectIndex(what string, id int64) int32 {
	p, ok := st.projectByID[id]
	if !ok {
		panic(fmt.Sprintf("gitlabsim: %s: no project %d", what, id))
	}
	return p
}

// Push pushes n new commits to a branch of a project, committed (and
// authored) age before now, one minute apart: a fast-forward of the branch,
// created from main's head when it does not exist. The commits carry their
// own dates, however old: git log --since compares committed dates, so a
// push of old local work lists nothing newer than the push. It records
// the push event (push_data: commit_from, null for a new branch;
// commit_to; commit_count) and returns the old and new head ("" for a new
// branch): ref_name=from..to lists exactly the pushed commits.
func (s *Sim) Push(projectID int64, branch string, n int, age time.Duration) (from, to string) {
	s.change(func(m *mutator) {
		st := m.st
		p := st.projectIndex("Push", projectID)
		base := st.head(p, branch)
		if base >= 0 {
			from = commitSHA(&st.tab("commits").rows[base])
		} else {
			base = st.head(p, defaultBranch)
		}
		user := m.commitUser(p)
		head := m.pushCommits(p, base, max(n, 1), m.now-age.Milliseconds(), user)
		m.pushed(p, branch, head, user)
		to = commitSHA(&st.tab("commits").rows[head])
	})
	return from, to
}

// MergeBranch merges branch source into target as GitLab's merge does: a
// merge commit (parents: target's head, source's head) committed now, the
// push event of target (its commit_count counts the merged branch's
// commits, however old). An open merge request of source into target is
// merged (state, merged_at, merge commit). It returns the merge commit's
// sha. The source branch stays.
func (s *Sim) MergeBranch(projectID int64, source, target string) (sha string) {
	s.change(func(m *mutator) {
		st := m.st
		p := st.projectIndex("MergeBranch", projectID)
		src, dst := st.head(p, source), st.head(p, target)
		if src < 0 || dst < 0 {
			panic(fmt.Sprintf("gitlabsim: MergeBranch: project %d has no branch %s or %s", projectID, source, target))
		}
		user := m.commitUser(p)
		if mr := st.openMRWithBranch(p, source); mr >= 0 && target == defaultBranch {
			m.mergeMR(mr, user, false)
			sha = commitSHA(&st.tab("commits").rows[st.head(p, target)])
			return
		}
		c := st.newCommit(p, m.now, user, dst, src)
		m.pushed(p, target, c, user)
		sha = commitSHA(&st.tab("commits").rows[c])
	})
	return sha
}

// ForcePush rewrites a branch: n new commits on the parent of its head (a
// new head that is not a descendant of the old one), committed now; the
// push event has the old head as commit_from.
func (s *Sim) ForcePush(projectID int64, branch string, n int) (from, to string) {
	s.change(func(m *mutator) {
		st := m.st
		p := st.projectIndex("ForcePush", projectID)
		old := st.head(p, branch)
		if old < 0 {
			panic(fmt.Sprintf("gitlabsim: ForcePush: project %d has no branch %s", projectID, branch))
		}
		from = commitSHA(&st.tab("commits").rows[old])
		user := m.commitUser(p)
		head := m.pushCommits(p, st.tab("commits").rows[old].ref, max(n, 1), m.now, user)
		m.pushed(p, branch, head, user)
		to = commitSHA(&st.tab("commits").rows[head])
	})
	return from, to
}

// DeleteBranch deletes a branch (not the default one): the push event has
// no commit_to; the branch's commits that no other ref reaches are no
// longer listed (all=true), though they stay readable by sha.
func (s *Sim) DeleteBranch(projectID int64, branch string) {
	s.change(func(m *mutator) {
		st := m.st
		p := st.projectIndex("DeleteBranch", projectID)
		if branch == defaultBranch || st.branchRow(p, branch) < 0 {
			return
		}
		m.pushed(p, branch, -1, m.commitUser(p))
	})
}
