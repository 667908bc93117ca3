package pipeline

import (
	"slices"
	"testing"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// The stores learn every table of the catalog from the spec: its key and
// typed columns (the common ones, then its own *_id keys), whatever the
// run selects.
func TestStoreSpecDescribesEveryTable(t *testing.T) {
	c, err := load(t, append(valid, "GITLAB_RESOURCES", "issues")...)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := StoreSpec(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Tables) != len(catalog.Catalog) {
		t.Fatalf("%d tables described, the catalog has %d", len(spec.Tables), len(catalog.Catalog))
	}
	for _, r := range catalog.Catalog {
		tb, ok := spec.Table(r.Name)
		if !ok || !slices.Equal(tb.Key, r.Key) || !slices.Equal(tb.Columns[:len(commonColumns)], commonColumns) {
			t.Errorf("%s: described as %+v", r.Name, tb)
		}
	}
	if tb, _ := spec.Table("project_members"); !slices.Contains(tb.Columns, store.Column{Name: "project_id", Type: store.Integer}) || !slices.Equal(tb.Key, []string{"project_id", "id"}) {
		t.Errorf("project_members: %+v", tb)
	}
	if tb, _ := spec.Table("issue_notes"); !slices.Contains(tb.Columns, store.Column{Name: "issue_id", Type: store.Integer}) && !slices.Contains(tb.Columns, store.Column{Name: "issue_iid", Type: store.Integer}) {
		t.Errorf("issue_notes lacks its parent key: %+v", tb)
	}
}
