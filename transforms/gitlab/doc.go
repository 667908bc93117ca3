// Package gitlab is the GitLab source's Beam stages: Fetch (fetch.go: the
// pages of each work item's endpoint, its records emitted, the items its
// records spawn, the keys a reconciling run sees; records.go, spawn.go,
// failure.go, commits.go for commits by push), read concurrently within a
// bundle (bundle.go), and Distinct (equal items read once). What they read
// is declared in the subpackages, one role each:
//
//   - catalog: the declarative tables (one entry per table) and their types;
//   - selection: what the tables selected imply in a mode (fetched tables,
//     parents and children, levels, read whole, swept, reconciled);
//   - plan: work items, the plan of a run, time slices, windows, the root;
//   - api: the run's client, the governor, paging, the token.
//
// The records, ledgers and keys seen that the stages pass on are package
// record's; the counters package metrics'.
package gitlab
