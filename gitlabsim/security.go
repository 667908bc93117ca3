package gitlabsim

// Security: vulnerabilities (Ultimate).

func init() {
	register(&table{name: "vulnerabilities", keys: []string{"id"}, tier: tierUltimate, path: "projects/:id/vulnerabilities", scope: scProject,
		list: rowsOf("vulnerabilities", atNone, (*store).renderVulnerability)})
}

var vulnerabilityKinds = []struct{ title, severity, report string }{
	{"Improper neutralization of SQL statements", "high", "sast"},
	{"Vulnerable dependency lodash < 4.17.21", "critical", "dependency_scanning"},
	{"Missing Content-Security-Policy header", "low", "dast"},
	{"Hard-coded password", "medium", "secret_detection"},
}

func (st *store) renderVulnerability(r *row) []byte {
	p := &st.projects[r.scope]
	v := vulnerabilityKinds[int(r.k)%len(vulnerabilityKinds)]
	state := []string{"detected", "confirmed", "resolved", "dismissed"}[r.flag%4]
	u := st.users[r.user].id
	var confirmedAt, resolvedAt, dismissedAt, byC, byR, byD any
	switch state {
	case "confirmed":
		confirmedAt, byC = st.ts(r.updated), u
	case "resolved":
		resolvedAt, byR = st.ts(r.updated), u
	case "dismissed":
		dismissedAt, byD = st.ts(r.updated), u
	}
	return newObj().f("id", r.id).f("title", v.title).f("description", v.title+" found by "+v.report+".").f("state", state).
		f("severity", v.severity).f("confidence", "unknown").f("report_type", v.report).
		f("project", newObj().f("id", p.id).f("name", p.name).f("full_path", "/"+p.fullPath).
			f("full_name", st.groups[p.group].fullName+" / "+p.name)).
		f("author_id", u).f("updated_by_id", nil).f("last_edited_by_id", nil).f("closed_by_id", nil).
		f("start_date", nil).f("due_date", nil).f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).
		f("last_edited_at", nil).f("closed_at", nil).f("resolved_by_id", byR).f("resolved_at", resolvedAt).
		f("resolved_on_default_branch", state == "resolved").f("dismissed_by_id", byD).f("dismissed_at", dismissedAt).
		f("confirmed_by_id", byC).f("confirmed_at", confirmedAt).done()
}
