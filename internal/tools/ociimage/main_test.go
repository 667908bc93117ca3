package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image written and read back: its config runs the binary as the
// non-root user, and unpacking it gives the file system the config names
// (binary, certificates, users, localhost, /tmp sticky), with no shell;
// built twice from the same input it is the same image.
func TestImageBuildsAndUnpacks(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable() // an ELF binary, as the exporter's
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Binary: exe, CA: ca, Version: "v1.2.3", Revision: "abc", Arch: "amd64", Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Build(spec)
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two builds of the same input differ: %s, %s", d1, d2)
	}
	path := filepath.Join(dir, "image.tar")
	tag, _ := name.NewTag("example.com/gde:v1.2.3")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	back, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := back.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" || c.WorkingDir != "/data" || strings.Join(c.Entrypoint, " ") != binPath ||
		c.Labels["org.opencontainers.image.version"] != "v1.2.3" || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("config: %+v", cf)
	}

	if os.Geteuid() != 0 {
		t.Skip("unpacking with owners needs root")
	}
	root := filepath.Join(dir, "root")
	if err := unpackCmd([]string{"-image", path, "-root", root}); err != nil {
		t.Fatal(err)
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if !strings.Contains(string(passwd), "exporter:x:65532:65532:") {
		t.Errorf("/etc/passwd: %q", passwd)
	}
	hosts, _ := os.ReadFile(filepath.Join(root, "etc/hosts"))
	if !strings.Contains(string(hosts), "127.0.0.1\tlocalhost") {
		t.Errorf("/etc/hosts: %q", hosts)
	}
	for p, want := range map[string]os.FileMode{binPath: 0o755, caPath: 0o644, "/tmp": 0o777 | os.ModeSticky | os.ModeDir, "/data": 0o755 | os.ModeDir} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if got := fi.Mode() & (os.ModePerm | os.ModeSticky | os.ModeDir); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "data")); err == nil {
		if st, ok := statOwner(fi); ok && st != uid {
			t.Errorf("/data is owned by %d, want %d", st, uid)
		}
	}
	for _, sh := range []string{"bin/sh", "usr/bin/sh", "bin/bash"} {
		if _, err := os.Stat(filepath.Join(root, sh)); err == nil {
			t.Errorf("the image has a shell: /%s", sh)
		}
	}
}

func TestBuildRefusesANonLinuxBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "gitlab-data-export")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	if _, err := Build(Spec{Binary: bin, CA: bin, Version: "v1"}); err == nil || !strings.Contains(err.Error(), "GOOS=linux CGO_ENABLED=0") {
		t.Errorf("a script as the binary: %v", err)
	}
}
