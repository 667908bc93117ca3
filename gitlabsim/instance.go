package gitlabsim

// The instance: its version and metadata.

import "strings"

const (
	simVersion  = "17.5.0-ee" // the default of Options.Version
	simRevision = "9f0e3c1a2b4"
)

func init() {
	register(
		&table{name: "instance_version", keys: []string{"version"}, path: "version", scope: scInstance, root: true, single: true,
			list: func(s *Sim, _ scope, _ *params) []item { return []item{{render: s.versionJSON}} }},
		&table{name: "instance_metadata", keys: []string{"version"}, path: "metadata", scope: scInstance, root: true, single: true,
			list: func(s *Sim, _ scope, _ *params) []item { return []item{{render: s.metadataJSON}} }},
	)
}

func (s *Sim) versionJSON() []byte {
	return newObj().f("version", s.opts.Version).f("revision", simRevision).done()
}

func (s *Sim) metadataJSON() []byte {
	v, _, _ := strings.Cut(s.opts.Version, "-")
	return newObj().f("version", s.opts.Version).f("revision", simRevision).
		f("kas", newObj().f("enabled", true).f("externalUrl", "wss://gitlab.example.com/-/kubernetes-agent/").
			f("externalK8sProxyUrl", externalURL+"/-/kubernetes-agent/k8s-proxy/").f("version", v)).
		f("enterprise", true).done()
}
