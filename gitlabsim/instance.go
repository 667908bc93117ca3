package gitlabsim

// The instance: its version and metadata.

const (
	simVersion  = "17.5.0-ee"
	simRevision = "9f0e3c1a2b4"
)

func init() {
	register(
		&table{name: "instance_version", keys: []string{"version"}, path: "version", scope: scInstance, root: true, single: true,
			list: func(*Sim, scope, *params) []item { return []item{{render: versionJSON}} }},
		&table{name: "instance_metadata", keys: []string{"version"}, path: "metadata", scope: scInstance, root: true, single: true,
			list: func(*Sim, scope, *params) []item { return []item{{render: metadataJSON}} }},
	)
}

func versionJSON() []byte {
	return newObj().f("version", simVersion).f("revision", simRevision).done()
}

func metadataJSON() []byte {
	return newObj().f("version", simVersion).f("revision", simRevision).
		f("kas", newObj().f("enabled", true).f("externalUrl", "wss://gitlab.example.com/-/kubernetes-agent/").
			f("externalK8sProxyUrl", externalURL+"/-/kubernetes-agent/k8s-proxy/").f("version", "17.5.0")).
		f("enterprise", true).done()
}
