package catalog

// The catalog's entries: one per resource (table). The types and the rules
// that check the entries are in package selection (selection.Validate).

// issuesKeyset pages a project's issues by key: GitLab 18.3 added keyset
// paging to GET /projects/:id/issues for the orderings by id, title,
// created_at, updated_at, due date, relative position and weight (lib/api/
// issues.rb: paginate_with_strategies; gitlab-org/gitlab!199887), so that
// an issue updated while the listing is read neither repeats nor shifts
// the others. Before 18.3 the parameter is unknown to the endpoint and
// ignored (offset pages, which List follows alike); a refusal (405) falls
// back to offset paging (api.Client.List).
const issuesKeyset = "pagination=keyset"

// Catalog is every resource the exporter knows, one entry each: the first
// catalog's resources, then the instance's, the groups', the projects' and
// those of issues, merge requests, pipelines and epics, then access,
// approval, CI details and statistics, then the last batch of issue 14
// (resources_instance.go, resources_group.go, resources_project.go,
// resources_work.go, resources_admin.go, resources_more.go).
var Catalog = concat(coreResources, instanceResources, groupResources, projectResources, workResources, adminResources, moreResources)

func concat(lists ...[]Resource) []Resource {
	var out []Resource
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// coreResources are the resources of the first catalog.
var coreResources = []Resource{
	{
		Name: "groups", Doc: "The root group and, for a tree, every descendant group.", Key: []string{"id"}, Tier: "Free", Scope: ScopeGroup,
		Sources: []Source{
			{Modes: AnyGroup, Path: "groups/{root}", Query: "with_projects=false", Single: true},
			// By id: the default order (name) moves a group renamed while
			// the listing is paged.
			{Modes: TreeMode, Path: "groups/{root}/descendant_groups", Query: "order_by=id&sort=asc"},
		},
	},
	{
		Name: "projects", Doc: "Every project of the export (archived ones included), with its statistics.", Key: []string{"id"}, Tier: "Free", Scope: ScopeProject, ResumesAfterID: true,
		Sources: []Source{
			{Modes: TreeMode, Path: "groups/{root}/projects", Query: "include_subgroups=true&with_shared=false&order_by=id&sort=asc&statistics=true"},
			{Modes: GroupMode, Path: "groups/{root}/projects", Query: "with_shared=false&order_by=id&sort=asc&statistics=true"},
			{Modes: ProjectMode, Path: "projects/{root}", Query: "statistics=true", Single: true},
		},
	},
	{
		// The keys listing reads the issues whole: the issues API has no
		// view=simple (merge requests have: MergeRequestSimple). A
		// project's issues are paged by key where GitLab can (see
		// issuesKeyset); a group's cannot be.
		Name: "issues", Doc: "Issues (one stream for a whole group tree).", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: TreeMode, Path: "groups/{root}/issues", Query: "scope=all&state=all&non_archived=false&order_by=updated_at&sort=desc", Filter: UpdatedFilter,
				Created: CreatedFilter, Keys: "scope=all&state=all&non_archived=false&order_by=created_at&sort=asc"},
			{Modes: TreeMode, Parent: "projects", Path: "projects/{id}/issues", Query: "scope=all&state=all&order_by=updated_at&sort=desc&" + issuesKeyset, Filter: UpdatedFilter, History: true},
			{Modes: GroupMode, Parent: "projects", Path: "projects/{id}/issues", Query: "scope=all&state=all&order_by=updated_at&sort=desc&" + issuesKeyset, Filter: UpdatedFilter,
				Keys: "scope=all&state=all&order_by=created_at&sort=asc&" + issuesKeyset},
			// The sweep of a group without its subgroups lists the group's
			// whole tree by creation time, once, and keeps its own projects'.
			{Modes: GroupMode, Path: "groups/{root}/issues", Query: "scope=all&state=all&non_archived=false&order_by=updated_at&sort=desc", Filter: UpdatedFilter,
				Created: CreatedFilter, SweepOnly: true},
			{Modes: ProjectMode, Parent: "projects", Path: "projects/{id}/issues", Query: "scope=all&state=all&order_by=updated_at&sort=desc&" + issuesKeyset, Filter: UpdatedFilter,
				Created: CreatedFilter, Keys: "scope=all&state=all&order_by=created_at&sort=asc&" + issuesKeyset},
		},
	},
	{
		// Creating or editing a note touches the issue (Note after_save
		// :touch_noteable), but an award on a note moves only the note's
		// updated_at (Note#bump_updated_at writes it with update_columns:
		// app/models/note.rb), and a deleted note moves nothing: the
		// notes are read with the issue's discussions, which are
		// refreshed. Each discussion carries its notes, the notes
		// listing's own objects: both endpoints present noteable.notes
		// that the user may read with Entities::Note (lib/api/notes.rb,
		// lib/api/discussions.rb: readable_discussion_notes,
		// lib/api/entities/discussion.rb: expose :notes, using:
		// Entities::Note), so they are written from there, without a
		// listing of their own. (One difference: the discussions endpoint
		// presents without current_user, so NotePresenter obfuscates the
		// e-mail addresses in "issue_email_participants" system notes for
		// every reader: app/presenters/note_presenter.rb.)
		Name: "issue_notes", Doc: "Comments and system notes of issues (written from the issues' discussions): with each issue updated in the window, and every issue's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: AnyMode, Parent: "issue_discussions", Within: "notes",
				Adds: []Add{{"project_id", "project_id"}, {"issue_iid", "issue_iid"}, {"issue_id", "issue_id"}}},
		},
	},
	{
		Name: "merge_requests", Doc: "Merge requests (one stream for a whole group tree).", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: TreeMode, Path: "groups/{root}/merge_requests", Query: "scope=all&state=all&non_archived=false&order_by=updated_at&sort=desc", Filter: UpdatedFilter,
				Created: CreatedFilter, Keys: "scope=all&state=all&non_archived=false&view=simple&order_by=created_at&sort=asc"},
			{Modes: TreeMode, Parent: "projects", Path: "projects/{id}/merge_requests", Query: "scope=all&state=all&order_by=updated_at&sort=desc", Filter: UpdatedFilter, History: true},
			{Modes: GroupMode, Parent: "projects", Path: "projects/{id}/merge_requests", Query: "scope=all&state=all&order_by=updated_at&sort=desc", Filter: UpdatedFilter,
				Keys: "scope=all&state=all&view=simple&order_by=created_at&sort=asc"},
			// The sweep of a group without its subgroups lists the group's
			// whole tree by creation time, once, and keeps its own projects'.
			{Modes: GroupMode, Path: "groups/{root}/merge_requests", Query: "scope=all&state=all&non_archived=false&order_by=updated_at&sort=desc", Filter: UpdatedFilter,
				Created: CreatedFilter, SweepOnly: true},
			{Modes: ProjectMode, Parent: "projects", Path: "projects/{id}/merge_requests", Query: "scope=all&state=all&order_by=updated_at&sort=desc", Filter: UpdatedFilter,
				Created: CreatedFilter, Keys: "scope=all&state=all&view=simple&order_by=created_at&sort=asc"},
		},
	},
	{
		// As issue_notes (app/models/note.rb; the discussions of a merge
		// request hold its own notes, noteable.notes, not the notes of
		// its commits that MergeRequest#related_notes adds:
		// lib/api/discussions.rb).
		Name: "merge_request_notes", Doc: "Comments and system notes of merge requests (written from the merge requests' discussions): with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: AnyMode, Parent: "merge_request_discussions", Within: "notes",
				Adds: []Add{{"project_id", "project_id"}, {"merge_request_iid", "merge_request_iid"}, {"merge_request_id", "merge_request_id"}}},
		},
	},
	{
		Name: "group_milestones", Doc: "Milestones of each group.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: AnyGroup, Parent: "groups", Path: "groups/{id}/milestones", Filter: UpdatedFilter, Adds: []Add{{"group_id", "id"}}},
		},
	},
	{
		Name: "project_milestones", Doc: "Milestones of each project.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: AnyMode, Parent: "projects", Path: "projects/{id}/milestones", Filter: UpdatedFilter, Adds: []Add{{"project_id", "id"}}},
		},
	},
	{
		Name: "epics", Doc: "Epics of the group (and its subgroups for a tree).", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: []Source{
			{Modes: TreeMode, Path: "groups/{root}/epics", Query: "include_descendant_groups=true&order_by=updated_at&sort=desc", Filter: UpdatedFilter,
				Created: CreatedFilter, Keys: "include_descendant_groups=true&order_by=created_at&sort=asc"},
			{Modes: TreeMode, Parent: "groups", Path: "groups/{id}/epics", Query: "include_descendant_groups=false&order_by=updated_at&sort=desc", Filter: UpdatedFilter, History: true},
			{Modes: GroupMode, Path: "groups/{root}/epics", Query: "include_descendant_groups=false&order_by=updated_at&sort=desc", Filter: UpdatedFilter,
				Created: CreatedFilter, Keys: "include_descendant_groups=false&order_by=created_at&sort=asc"},
		},
	},
	{
		Name: "pipelines", Doc: "CI/CD pipelines of each project.", Key: []string{"id"}, Tier: "Free",
		// A pipeline's updated_at moves only when its status changes
		// (Ci::PipelineProcessing::AtomicProcessingService#update_pipeline!
		// calls pipeline.set_status; a job's transition touches nothing
		// else: CommitStatus belongs_to :pipeline without touch), so the
		// jobs of a pipeline that stays running change unseen: they are read
		// again on every run while it is not finished.
		Open: &Open{Field: "status", Values: []string{"created", "waiting_for_resource", "preparing", "waiting_for_callback", "pending", "running", "canceling", "scheduled"},
			Doc: "not finished (running, pending…)"},
		Sources: []Source{
			{Modes: AnyMode, Parent: "projects", Path: "projects/{id}/pipelines", Query: "order_by=updated_at&sort=desc", Filter: UpdatedFilter, Adds: []Add{{"project_id", "id"}},
				Keys: "order_by=id&sort=asc"},
		},
	},
	{
		Name: "pipeline_jobs", Doc: "Jobs of pipelines updated in the window (retried jobs included).", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: AnyMode, Parent: "pipelines", Path: "projects/{project_id}/pipelines/{id}/jobs", Query: "include_retried=true",
				Adds: []Add{{"project_id", "project_id"}, {"pipeline_id", "id"}}},
		},
	},
	{
		Name: "group_labels", Doc: "Labels defined in each group.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: AnyGroup, Parent: "groups", Path: "groups/{id}/labels", Query: "include_ancestor_groups=false&include_descendant_groups=false&with_counts=true", Adds: []Add{{"group_id", "id"}}},
		},
	},
	{
		Name: "project_labels", Doc: "Labels defined in each project.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: AnyMode, Parent: "projects", Path: "projects/{id}/labels", Query: "include_ancestor_groups=false&with_counts=true", Adds: []Add{{"project_id", "id"}}},
		},
	},
	{
		Name: "group_members", Doc: "Direct members of each group.", Key: []string{"group_id", "id"}, Tier: "Free",
		Sources: []Source{
			{Modes: AnyGroup, Parent: "groups", Path: "groups/{id}/members", Adds: []Add{{"group_id", "id"}}},
		},
	},
	{
		Name: "project_members", Doc: "Direct members of each project.", Key: []string{"project_id", "id"}, Tier: "Free",
		Sources: []Source{
			{Modes: AnyMode, Parent: "projects", Path: "projects/{id}/members", Adds: []Add{{"project_id", "id"}}},
		},
	},
}
