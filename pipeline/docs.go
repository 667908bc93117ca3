package pipeline

// The README's resource table, rendered from the catalog (TestReadmeIsGenerated).

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
)

// WriteResourceTable writes the Markdown table of every resource for the
// README: table, endpoint(s), scope, freshness (how a change reaches the
// export), key, tier, when exported, deletions, what.
func WriteResourceTable(w io.Writer) {
	fmt.Fprintln(w, "| Table | Endpoint(s) under /api/v4 | Read for | Freshness | Key | Tier | Exported | Deletions | What |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range catalog.Catalog {
		var eps, scopes []string
		for _, s := range r.Sources {
			if s.SweepOnly {
				continue
			}
			ep := "`" + s.Path + "`"
			if s.Within != "" {
				ep = "in each " + singular(s.Parent) + "'s `" + s.Within + "` (no request)"
			}
			if !slices.Contains(eps, ep) {
				eps = append(eps, ep)
			}
			scope := modeNames(s.Modes)
			if s.Parent != "" {
				scope += ", per " + singular(s.Parent)
			}
			if s.History {
				scope += " (history of a new one)"
			}
			if !slices.Contains(scopes, scope) {
				scopes = append(scopes, scope)
			}
		}
		doc := r.Doc
		for _, v := range r.Variants {
			doc += " With `" + v.Name + "` in GITLAB_RESOURCES (`" + v.Query + "`), " + v.Doc + "."
		}
		if r.Secret != nil {
			switch {
			case r.Secret.Always:
				doc += " `" + r.Secret.Field + "` is never written."
			case len(r.Secret.Flags) > 0:
				doc += " `" + r.Secret.Field + "` is never written when " + strings.Join(r.Secret.Flags, " or ") + "."
			}
		}
		tier := r.Tier
		if r.Since != "" {
			tier += ", GitLab " + r.Since + "+"
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Name, strings.Join(eps, "<br>"), strings.Join(scopes, "<br>"),
			strings.Join(freshness(r), "<br>"), strings.Join(r.Key, ", "), tier, r.Include, deletionsDoc(r), doc)
	}
}

// freshness says how a change of the table's objects reaches the export,
// one line per rule, for the resource table's Freshness column.
func freshness(r catalog.Resource) []string {
	var out []string
	add := func(how string) {
		if !slices.Contains(out, how) {
			out = append(out, how)
		}
	}
	for _, s := range r.Sources {
		switch {
		case s.SweepOnly:
		case s.Within != "":
			add("as `" + s.Parent + "`, in whose records it is written")
		case s.PerListing:
			add("by push: the commits each branch's head moved over since the last run (whole history for a new project)")
		case s.History:
			add("history of a project or group new to the job read whole")
		case s.Filter.Incremental() && strings.HasPrefix(s.Filter.After, "updated"):
			add("server filter (`" + s.Filter.After + "`)")
		case s.Filter.Incremental() && s.Activity:
			add("server filter (`" + s.Filter.After + "`): new entries (a log), for the projects with activity since (`last_activity_at`), and for all once per `GITLAB_SNAPSHOT_PERIOD`")
		case s.Filter.Incremental():
			add("server filter (`" + s.Filter.After + "`): new entries (a log)")
		case s.Parent != "" && !selection.ListedWhole(s.Modes&catalog.AnyMode, s.Parent):
			p := singular(s.Parent)
			add("parent bump (with each " + p + " updated in the window)")
			if s.Refresh {
				add("refresh period (every " + p + "'s again once per `GITLAB_REFRESH_PERIOD`)")
			}
			if s.RefreshWhole {
				add("refresh period (every " + p + "'s again once per `GITLAB_REFRESH_PERIOD`, the " + s.Parent + " listed whole)")
			}
			if pr, ok := catalog.Lookup(s.Parent); ok && pr.Open != nil {
				add("every run while its " + p + " is " + pr.Open.Doc)
			}
		case s.Activity:
			add("with the project's activity (`last_activity_at`), and whole once per `GITLAB_SNAPSHOT_PERIOD`")
		case r.Scope != "":
			add("whole every run")
		default:
			add("whole once per `GITLAB_SNAPSHOT_PERIOD`")
		}
	}
	return out
}

// deletionsDoc says, for the docs, how reconciliation covers a table in
// each mode that reads it.
func deletionsDoc(r catalog.Resource) string {
	var hows, per []string
	for _, m := range []catalog.Mode{catalog.TreeMode, catalog.GroupMode, catalog.ProjectMode} {
		used := false
		for _, s := range r.Sources {
			used = used || s.Modes&m != 0
		}
		if !used {
			continue
		}
		how := "not detected"
		if _, ok := selection.Reconciled(m, []string{r.Name})[r.Name]; ok {
			how = "from its listing"
			if r.IncrementalIn(m) {
				how = "keys listing"
			}
		} else if _, ok := selection.ReconciledPerParent(m, []string{r.Name})[r.Name]; ok {
			how = "per parent re-read"
		}
		if !slices.Contains(hows, how) {
			hows = append(hows, how)
		}
		per = append(per, modeNames(m)+": "+how)
	}
	if len(hows) == 1 {
		return hows[0]
	}
	return strings.Join(per, "<br>")
}

// singular names one record of a table: issues -> issue, repository_branches
// -> repository branch.
func singular(table string) string {
	t := strings.ReplaceAll(table, "_", " ")
	switch {
	case strings.HasSuffix(t, "ies"):
		return strings.TrimSuffix(t, "ies") + "y"
	case strings.HasSuffix(t, "ches"), strings.HasSuffix(t, "shes"):
		return strings.TrimSuffix(t, "es")
	}
	return strings.TrimSuffix(t, "s")
}

func modeNames(m catalog.Mode) string {
	var names []string
	if m&catalog.TreeMode != 0 {
		names = append(names, "group tree")
	}
	if m&catalog.GroupMode != 0 {
		names = append(names, "group only")
	}
	if m&catalog.ProjectMode != 0 {
		names = append(names, "project")
	}
	return strings.Join(names, ", ")
}
