package pipeline

import (
	"runtime/debug"
)

// Version is the exporter's version: set at build time with -ldflags
// "-X github.com/gitlab-data-export/gitlab-data-export/pipeline.Version=v1.2.3",
// else the module's version from the build info (v1.2.3 for `go install
// …@v1.2.3`; the pseudo-version Go derives from the commit for a build of
// a clone), else "dev" and the commit go build recorded.
var Version = "dev"

func init() {
	if info, ok := debug.ReadBuildInfo(); ok && Version == "dev" {
		Version = versionOf(info)
	}
}

// versionOf is the version a binary's build info gives.
func versionOf(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return "dev"
	}
	return "dev-" + rev + dirty
}
