package gitlabsim

import (
	"fmt"
	"slices"
	"strings"
)

// Award emoji of issues, merge requests and their notes.
//
// GitLab (app/models/award_emoji.rb): after_save and after_destroy call
// expire_cache, which does awardable.try(:bump_updated_at) — only Note
// defines it (app/models/note.rb: update_columns(updated_at: now), no
// touch of the noteable) — and, for a thumbsup, update_upvotes_count,
// written with update_column. So awarding or un-awarding an issue or a
// merge request changes its upvotes / downvotes (the API counts them from
// the award emoji) but never its updated_at; awarding a note moves the
// note's updated_at, not its issue's or merge request's.

func init() {
	register(
		&table{name: "issue_award_emoji", keys: []string{"id"}, path: "projects/:id/issues/:iid/award_emoji", scope: scIssue,
			list: childRows("issue_award_emoji", (*store).renderAward), count: rowCount("issue_award_emoji")},
		&table{name: "merge_request_award_emoji", keys: []string{"id"}, path: "projects/:id/merge_requests/:iid/award_emoji", scope: scMR,
			list: childRows("merge_request_award_emoji", (*store).renderAward), count: rowCount("merge_request_award_emoji")},
		// The award emoji of notes (read per note of the notes listings).
		&table{name: "issue_note_award_emoji", keys: []string{"id"},
			path: "projects/:id/issues/:iid/notes/:note_id/award_emoji", scope: scIssueNote,
			list: childRows("issue_note_award_emoji", (*store).renderAward), count: rowCount("issue_note_award_emoji")},
		&table{name: "merge_request_note_award_emoji", keys: []string{"id"},
			path: "projects/:id/merge_requests/:iid/notes/:note_id/award_emoji", scope: scMRNote,
			list: childRows("merge_request_note_award_emoji", (*store).renderAward), count: rowCount("merge_request_note_award_emoji")},
	)
}

// awardNames are the emoji the simulator awards (row.k indexes them).
var awardNames = []string{"thumbsup", "thumbsdown", "tada", "rocket", "eyes", "heart", "smile", "100"}

const (
	awardUp   = 0 // thumbsup (AwardEmoji::UPVOTE_NAME)
	awardDown = 1 // thumbsdown (AwardEmoji::DOWNVOTE_NAME)
)

// awardTables is the table of each awardable kind.
var awardTables = map[string]string{"issue": "issue_award_emoji", "merge_request": "merge_request_award_emoji",
	"issue_note": "issue_note_award_emoji", "merge_request_note": "merge_request_note_award_emoji"}

// resourceOf names the resource an event or award belongs to.
func (st *store) resourceOf(table string, r *row) (typ string, id int64) {
	switch {
	case table == "snippet_award_emoji":
		return "Snippet", st.tab("snippets").rows[r.scope].id
	case strings.HasPrefix(table, "epic_"):
		return "Epic", st.epics[r.scope].id
	case strings.HasSuffix(table, "note_award_emoji") && strings.HasPrefix(table, "merge_request"):
		return "Note", st.mrNotes[r.scope].id
	case strings.HasSuffix(table, "note_award_emoji"):
		return "Note", st.issueNotes[r.scope].id
	case strings.HasPrefix(table, "merge_request"):
		return "MergeRequest", st.mrs[r.scope].id
	}
	return "Issue", st.issues[r.scope].id
}

func (st *store) renderAward(table string, r *row) []byte {
	typ, id := st.resourceOf(table, r)
	return newObj().f("id", r.id).f("name", awardNames[int(r.k)%len(awardNames)]).f("user", st.userJSON(r.user)).
		f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).f("awardable_id", id).f("awardable_type", typ).
		f("url", nil).done()
}

// Award awards emoji name ("thumbsup", "thumbsdown", "tada", "rocket",
// "eyes", "heart", "smile", "100") to an issue, a merge request or a note
// of either, as GitLab does (see above): kind is "issue", "merge_request",
// "issue_note" or "merge_request_note", parentID the awardable's id. The
// award is by a user who has not awarded that emoji to it yet, at s.Now().
// It panics on an unknown kind, emoji or awardable (a mistake in the
// calling test), and returns 0 when every user has awarded it already.
func (s *Sim) Award(kind string, parentID int64, name string) (awardID int64) {
	k := slices.Index(awardNames, name)
	if k < 0 {
		panic(fmt.Sprintf("gitlabsim: Award: unknown emoji %q", name))
	}
	s.change(func(m *mutator) {
		sc, ok := m.st.awardable(kind, parentID)
		if !ok {
			panic(fmt.Sprintf("gitlabsim: Award: no %s %d", kind, parentID))
		}
		awardID = m.award(kind, sc, int32(k))
	})
	return awardID
}

// RemoveAward removes an award (as its awarder does): the counters and
// the note's updated_at follow as for Award. Unknown awards are ignored.
func (s *Sim) RemoveAward(kind string, awardID int64) {
	s.change(func(m *mutator) {
		table, ok := awardTables[kind]
		if !ok {
			panic("gitlabsim: RemoveAward: unknown kind " + kind)
		}
		tab := m.st.tab(table)
		for i := range tab.rows {
			if r := &tab.rows[i]; r.id == awardID && !r.dead {
				m.unaward(kind, int32(i))
				return
			}
		}
	})
}

// awardable finds the issue, merge request or note of an id.
func (st *store) awardable(kind string, id int64) (int32, bool) {
	find := func(n int, idOf func(int) int64) (int32, bool) {
		for i := 0; i < n; i++ {
			if idOf(i) == id {
				return int32(i), true
			}
		}
		return -1, false
	}
	switch kind {
	case "issue":
		return find(len(st.issues), func(i int) int64 { return st.issues[i].id })
	case "merge_request":
		return find(len(st.mrs), func(i int) int64 { return st.mrs[i].id })
	case "issue_note":
		return find(len(st.issueNotes), func(i int) int64 { return st.issueNotes[i].id })
	case "merge_request_note":
		return find(len(st.mrNotes), func(i int) int64 { return st.mrNotes[i].id })
	}
	panic("gitlabsim: unknown awardable kind " + kind)
}

// award adds award k to awardable sc of kind, by the next user (from a
// random one on) who has not awarded k to it; -1 when all have.
func (m *mutator) award(kind string, sc int32, k int32) int64 {
	st := m.st
	tab := st.tab(awardTables[kind])
	start := m.r.IntN(len(st.users))
	for n := range st.users {
		u := int32((start + n) % len(st.users))
		if slices.ContainsFunc(tab.live(sc), func(i int32) bool { return tab.rows[i].user == u && tab.rows[i].k == k }) {
			continue
		}
		r := tab.add(row{scope: sc, created: m.now, updated: m.now, user: u, ref: -1, k: k})
		m.awarded(kind, sc, k, 1)
		return tab.rows[r].id
	}
	return 0
}

// unaward deletes award row i of kind.
func (m *mutator) unaward(kind string, i int32) {
	tab := m.st.tab(awardTables[kind])
	r := tab.rows[i]
	tab.del(i)
	m.awarded(kind, r.scope, r.k, -1)
}

// awarded applies what an award (d = 1) or its removal (d = -1) does to the
// awardable: the vote counters of issues and merge requests, the
// updated_at of notes (AwardEmoji#expire_cache).
func (m *mutator) awarded(kind string, sc int32, k int32, d int) {
	st := m.st
	vote := func(up, down *uint8) {
		c := up
		if k == awardDown {
			c = down
		} else if k != awardUp {
			return
		}
		*c = uint8(min(255, max(0, int(*c)+d)))
	}
	switch kind {
	case "issue":
		is := &st.issues[sc]
		vote(&is.upvotes, &is.downvotes)
		m.mark("issues", is.id)
	case "merge_request":
		mr := &st.mrs[sc]
		vote(&mr.upvotes, &mr.downvotes)
		m.mark("merge_requests", mr.id)
	case "issue_note":
		st.issueNotes[sc].updated = m.now // Note#bump_updated_at
		m.mark("issue_notes", st.issueNotes[sc].id)
	case "merge_request_note":
		st.mrNotes[sc].updated = m.now
		m.mark("merge_request_notes", st.mrNotes[sc].id)
	}
}
