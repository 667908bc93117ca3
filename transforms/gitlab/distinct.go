package gitlab

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
)

func init() {
	register.DoFn2x1[plan.Item, func(string, plan.Item), error](&keyItemFn{})
	register.Emitter2[string, plan.Item]()
	register.DoFn3x0[string, func(*plan.Item) bool, func(plan.Item)](&firstItemFn{})
	register.Iter1[plan.Item]()
	register.Emitter1[plan.Item]()
}

// Distinct passes each distinct work item once to be read, and its equal
// ones marked Duplicate (done without a request, so that the commit's
// ledger of spawned items still balances). Records of two parents can
// spawn the same listing: a commit in two merge requests (a branch opened
// again as a new merge request, stacked merge requests) spawns its
// commit_merge_requests listing twice, with the same path, query, window
// and parent keys. Reading it once writes the same records once. The
// grouping by item also does what a Reshuffle does between two levels: it
// ends the fused stage and spreads the items over the workers.
func Distinct(s beam.Scope, items beam.PCollection) beam.PCollection {
	s = s.Scope("Distinct")
	keyed := beam.ParDo(s, &keyItemFn{}, items)
	return beam.ParDo(s, &firstItemFn{}, beam.GroupByKey(s, keyed))
}

// keyItemFn keys an item by the digest of its whole encoding.
type keyItemFn struct{}

func (*keyItemFn) ProcessElement(it plan.Item, emit func(string, plan.Item)) error {
	b, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("encoding a work item of %s: %w", it.Resource, err)
	}
	sum := sha256.Sum256(b)
	emit(string(sum[:]), it)
	return nil
}

// firstItemFn emits the first item of each group of equal items as it is,
// the others as duplicates.
type firstItemFn struct{}

func (*firstItemFn) ProcessElement(_ string, items func(*plan.Item) bool, emit func(plan.Item)) {
	var it plan.Item
	for first := true; items(&it); first = false {
		it.Duplicate = !first
		emit(it)
	}
}
