package gitlab

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// A fuzz target for the handling of what GitLab sends (objects); CI runs
// it briefly (scripts/test).

// FuzzRecord: any object GitLab could send is either refused with an error
// or handled: emitted unchanged (or redacted), its children's paths filled.
func FuzzRecord(f *testing.F) {
	f.Add([]byte(`{"id":1,"iid":2,"project_id":3,"updated_at":"2024-01-01T00:00:00Z"}`), []byte(`{"project_id":3}`))
	f.Add([]byte(`{"id":"a/b","user":{"id":5}}`), []byte(nil))
	f.Add([]byte(`[1,2]`), []byte(`{}`))
	f.Add([]byte(`{"id":null}`), []byte(`{"project_id":"x"}`))
	fn := &fetchFn{Mode: catalog.TreeMode}
	fn.children = selection.ChildSources(catalog.TreeMode, nil)
	fn.Reconciled = selection.Reconciled(catalog.TreeMode, catalog.Tables())
	f.Fuzz(func(t *testing.T, obj, parent []byte) {
		if len(parent) > 0 && !json.Valid(parent) {
			parent = nil
		}
		for _, table := range []string{"issues", "projects", "repository_branches", "project_variables"} {
			res, _ := catalog.Lookup(table)
			var emitted []record.Record
			err := fn.handle(context.Background(), res, plan.Item{Resource: table, Path: "p", Parent: parent}, obj, "p",
				func(r record.Record) { emitted = append(emitted, r) }, func(plan.Item) {}, func(record.Seen) {}, &state.Delta{}, &listing{})
			if err != nil {
				continue
			}
			if len(emitted) != 1 || !json.Valid(emitted[0].Data) {
				t.Errorf("%s: %q handled without an error but emitted %d records", table, obj, len(emitted))
			}
		}
	})
}
