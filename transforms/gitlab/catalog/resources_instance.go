package catalog

// Resources of the GitLab instance itself: one object each per run.

var instanceResources = []Resource{
	{
		Name: "instance_version", Doc: "The instance's GitLab version and revision (one row per run).", Key: []string{"version"}, Tier: "Free", Unreconciled: true, Instance: true,
		Sources: []Source{
			{Modes: AnyGroup, Path: "version", Single: true},
			// A project export plans only its project (its resources are
			// its children): the instance is read once, as a child of
			// that single project.
			{Modes: ProjectMode, Parent: "projects", Path: "version", Single: true},
		},
	},
	{
		Name: "instance_metadata", Doc: "The instance's metadata: version, revision, KAS, enterprise (one row per run).", Key: []string{"version"}, Tier: "Free", Unreconciled: true, Instance: true,
		Sources: []Source{
			{Modes: AnyGroup, Path: "metadata", Single: true},
			{Modes: ProjectMode, Parent: "projects", Path: "metadata", Single: true},
		},
	},
}
