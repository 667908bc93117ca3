// Command modproxy writes a Go module proxy in a directory (GOPROXY=file://DIR)
// that serves one version of this repository's module, made from a git
// revision the way the public proxies make it (golang.org/x/mod/zip: the
// files of the module at that revision, nothing else). scripts/test-go-install
// uses it to prove that `go install <module>/cmd/gitlab-data-export@<version>`
// works from a clean module cache before the module is published.
//
//	go run ./internal/tools/modproxy -repo . -rev v0.9.0 -version v0.9.0 -out /tmp/proxy
//
// It is a build tool: the exporter's binary does not link it.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

func main() {
	repo := flag.String("repo", ".", "the git work tree of the repository")
	rev := flag.String("rev", "HEAD", "the git revision to serve (a tag, a commit)")
	version := flag.String("version", "", "the module version it is served as (semver, e.g. v0.9.0); default: -rev")
	out := flag.String("out", "", "the proxy directory to write (GOPROXY=file://<out>)")
	flag.Parse()
	if *out == "" {
		fail(fmt.Errorf("-out is required"))
	}
	if *version == "" {
		*version = *rev
	}
	if err := write(*repo, *rev, *version, *out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "modproxy:", err)
	os.Exit(1)
}

// write adds <module>/@v/<version>.{info,mod,zip} and the version to
// <module>/@v/list under out.
func write(repo, rev, version, out string) error {
	root, err := filepath.Abs(repo)
	if err != nil {
		return err
	}
	gomod, err := git(root, "show", rev+":go.mod")
	if err != nil {
		return fmt.Errorf("reading go.mod at %s: %w", rev, err)
	}
	path := modfile.ModulePath(gomod)
	if path == "" {
		return fmt.Errorf("go.mod at %s names no module", rev)
	}
	m := module.Version{Path: path, Version: version}
	if err := module.Check(m.Path, m.Version); err != nil {
		return fmt.Errorf("not a module version a proxy can serve: %w", err)
	}
	when, err := git(root, "log", "-1", "--format=%cI", rev)
	if err != nil {
		return fmt.Errorf("reading the commit time of %s: %w", rev, err)
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(string(when)))
	if err != nil {
		return err
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var zip bytes.Buffer
	if err := modzip.CreateFromVCS(&zip, m, root, rev, ""); err != nil {
		return fmt.Errorf("making the module zip of %s: %w", rev, err)
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, t.UTC()})
	files := map[string][]byte{version + ".info": info, version + ".mod": gomod, version + ".zip": zip.Bytes()}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	list, _ := os.ReadFile(filepath.Join(dir, "list"))
	if !strings.Contains("\n"+string(list), "\n"+version+"\n") {
		list = append(list, version+"\n"...)
	}
	if err := os.WriteFile(filepath.Join(dir, "list"), list, 0o644); err != nil {
		return err
	}
	fmt.Printf("%s@%s (%d-byte zip of %s) in %s\n", path, version, zip.Len(), rev, out)
	return nil
}

func git(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return b, nil
}
