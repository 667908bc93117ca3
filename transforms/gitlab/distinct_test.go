package gitlab

import (
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
)

func init() {
	register.Function2x0(readPath)
	register.Function2x0(duplicatePath)
	register.Emitter1[string]()
}

func TestMain(m *testing.M) { ptest.Main(m) }

func readPath(it plan.Item, emit func(string)) {
	if !it.Duplicate {
		emit(it.Path)
	}
}

func duplicatePath(it plan.Item, emit func(string)) {
	if it.Duplicate {
		emit(it.Path)
	}
}

// Equal items (the commit_merge_requests listing a commit of two merge
// requests spawns twice) are read once; the others pass as they are.
func TestDistinctReadsEqualItemsOnce(t *testing.T) {
	commit := plan.Item{Resource: "commit_merge_requests", Path: "projects/1/repository/commits/abc/merge_requests", Parent: []byte(`{"commit_id":"abc","project_id":1}`), Child: true}
	other := commit
	other.Path = "projects/1/repository/commits/def/merge_requests"
	p, s := beam.NewPipelineWithRoot()
	out := Distinct(s, beam.CreateList(s, []plan.Item{commit, other, commit}))
	read := beam.ParDo(s, readPath, out)
	dups := beam.ParDo(s, duplicatePath, out)
	passert.Equals(s, read, commit.Path, other.Path)
	passert.Equals(s, dups, commit.Path)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
}
