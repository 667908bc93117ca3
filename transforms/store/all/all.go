// Package all imports every store, so that each registers itself (see
// store.Register). A new store is one package of its own and one import
// here.
package all

import (
	// The stores.
	_ "github.com/gitlab-data-export/gitlab-data-export/transforms/bigqueryio"
	_ "github.com/gitlab-data-export/gitlab-data-export/transforms/filestore"
	_ "github.com/gitlab-data-export/gitlab-data-export/transforms/gcsstore"
)
