package transforms

import (
	"context"
	"errors"
	"testing"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// fakeStore records the commits it is asked for (a unit test of Commit's
// ledger; the stores themselves are tested on real files and the emulator).
type fakeStore struct{ commits [][]store.Part }

func (f *fakeStore) Recover(context.Context, string) error { return nil }
func (f *fakeStore) ReadCheckpoint(context.Context, string) (*store.Checkpoint, error) {
	return nil, nil
}
func (f *fakeStore) NewWriter(context.Context, store.Run) (store.Writer, error)  { return nil, nil }
func (f *fakeStore) ReadDigests(context.Context, string, string) ([]byte, error) { return nil, nil }
func (f *fakeStore) Commit(_ context.Context, _ store.Run, parts []store.Part, _ state.State, _ []byte) error {
	f.commits = append(f.commits, parts)
	return nil
}

var fake = &fakeStore{}

func init() {
	store.Register(store.Description{Name: "fake-commit-test", Open: func(context.Context, store.Spec) (store.Store, error) { return fake, nil }})
}

func TestCommitChecksTheLedger(t *testing.T) {
	item := func(path string) plan.Item { return plan.Item{Resource: "r", Path: path} }
	ledger := func(items ...plan.Item) record.Ledger {
		var l record.Ledger
		for _, it := range items {
			l.Add(it.Digest())
		}
		return l
	}
	roots := []plan.Item{item("root/a"), item("root/b")}
	fn := &commitFn{Store: store.Spec{Kind: "fake-commit-test"}, Run: store.Run{JobID: "j", RunID: "r"}, Roots: plan.PlanLedger(roots)}
	part := func(table string) store.Part { return store.Part{Table: table, Ref: table + "-1", Records: 1} }
	a1, a2, a3, a3x := item("a/1"), item("a/2"), item("a/3"), item("a/3/x")
	// root/a spawned a/1, a/2, a/3; a/3 spawned a/3/x.
	complete := []Staged{
		{Parts: []store.Part{part("groups")}, Items: ledger(roots[0]), Spawned: ledger(a1, a2, a3)},
		{Parts: []store.Part{part("issues")}, Items: ledger(roots[1])},
		{Parts: []store.Part{part("projects")}, Items: ledger(a1, a3), Spawned: ledger(a3x)},
		{Items: ledger(a2)},                          // an item with no records (an empty list)
		{Parts: []store.Part{part("pipeline_jobs")}}, // parts whose item ended in another bundle
		{Items: ledger(a3x)},
	}
	// Two leaf items in place of the two roots: the count matches, not the digests.
	sameCount := []Staged{{Items: ledger(a1, a2)}}
	for name, tc := range map[string]struct {
		staged []Staged
		ok     bool
	}{
		"complete":                  {complete, true},
		"empty side input":          {nil, false},
		"a level missing":           {complete[:4], false},
		"a root missing":            {complete[1:], false},
		"only the leaf items":       {complete[3:], false},
		"same count, other items":   {sameCount, false},
		"an item written twice":     {append(append([]Staged{}, complete...), Staged{Items: ledger(a2)}), false},
		"a spawned item never done": {append(append([]Staged{}, complete...), Staged{Spawned: ledger(item("a/4"))}), false},
	} {
		fake.commits = nil
		err := fn.ProcessElement(context.Background(), nil, iterOf(tc.staged))
		var inc *IncompleteError
		switch {
		case tc.ok && (err != nil || len(fake.commits) != 1 || len(fake.commits[0]) != 4):
			t.Errorf("%s: err %v, commits %v", name, err, fake.commits)
		case !tc.ok && (!errors.As(err, &inc) || len(fake.commits) != 0):
			t.Errorf("%s: err %v, commits %v: want an IncompleteError and no commit", name, err, fake.commits)
		}
	}
}

func TestItemDigestsDiffer(t *testing.T) {
	base := plan.Item{Resource: "issues", Path: "projects/1/issues", Query: "updated_after=x"}
	seen := map[uint64]string{base.Digest(): "base"}
	for name, it := range map[string]plan.Item{
		"resource": {Resource: "issue", Path: base.Path, Query: base.Query},
		"path":     {Resource: base.Resource, Path: "projects/2/issues", Query: base.Query},
		"query":    {Resource: base.Resource, Path: base.Path, Query: "updated_after=y"},
		"parent":   {Resource: base.Resource, Path: base.Path, Query: base.Query, Parent: []byte(`{"project_id":1}`)},
		"boundary": {Resource: "issuesprojects/1/issues", Query: base.Query},
	} {
		if other, dup := seen[it.Digest()]; dup {
			t.Errorf("items differing by %s share a digest with %s", name, other)
		}
		seen[it.Digest()] = name
	}
	if base.Digest() != (plan.Item{Resource: "issues", Path: "projects/1/issues", Query: "updated_after=x"}).Digest() {
		t.Error("the digest is not deterministic")
	}
}
