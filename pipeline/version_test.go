package pipeline

import (
	"runtime/debug"
	"testing"
)

func TestVersionOfBuildInfo(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "2af565105a3c77bd452dade3fae1c2a9a5b0a73b"}}
	for _, c := range []struct {
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		{"v1.2.3", nil, "v1.2.3"}, // go install …@v1.2.3
		{"v0.0.0-20261201152836-2af565105a3c+dirty", rev, "v0.0.0-20261201152836-2af565105a3c+dirty"}, // a clone's build
		{"(devel)", rev, "dev-2af565105a3c"},
		{"(devel)", append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"}), "dev-2af565105a3c-dirty"},
		{"(devel)", nil, "dev"}, // -buildvcs=false
		{"", nil, "dev"},
	} {
		info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/gitlab-data-export/gitlab-data-export", Version: c.main}, Settings: c.settings}
		if got := versionOf(info); got != c.want {
			t.Errorf("main %q, settings %v: %q, want %q", c.main, c.settings, got, c.want)
		}
	}
}
