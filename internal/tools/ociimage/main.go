// Command ociimage builds the exporter's container image without a container
// engine (no Docker daemon, no buildah, no root), with
// github.com/google/go-containerregistry: one layer on an empty base, holding
// the static binary, the CA certificates, and /etc/passwd and /etc/group with
// a non-root user; the image config sets that user, the entrypoint, the
// working directory (/data, where the files store writes by default) and the
// version labels. scripts/build-image runs it; scripts/test-image runs the
// image it writes.
//
//	go run ./internal/tools/ociimage build -binary bin/linux/gitlab-data-export -version v1.2.3 \
//	    -ref registry.example.com/acme/gitlab-data-export:v1.2.3 -out image.tar
//	go run ./internal/tools/ociimage unpack -image image.tar -root DIR
//
// build writes a docker-archive tar (docker load, podman load and crane push
// read it: scripts/build-image pushes it with crane, run as a pinned module,
// so that no registry client is a dependency here). unpack writes the image's file system (its layers, in order) into
// a directory and prints the config's user, working directory, environment
// and entrypoint as shell assignments, for running the image's binary the way
// a container engine would where none is available.
//
// It is a build tool: the exporter's binary does not link it.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's user: not root, a fixed id (as distroless' "nonroot"), so
// that a mounted directory can be given to it (chown 65532).
const (
	uid      = 65532
	userName = "exporter"
	home     = "/home/exporter"
	workDir  = "/data"
	binPath  = "/usr/local/bin/gitlab-data-export"
	caPath   = "/etc/ssl/certs/ca-certificates.crt"
	source   = "https://github.com/gitlab-data-export/gitlab-data-export"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: ociimage build|unpack [flags] (see the package comment)"))
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = buildCmd(os.Args[2:])
	case "unpack":
		err = unpackCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: build or unpack", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ociimage:", err)
	os.Exit(1)
}

// Spec is what the image is made of.
type Spec struct {
	Binary   string    // the static exporter binary (CGO_ENABLED=0)
	CA       string    // the CA bundle to copy
	Version  string    // the exporter's version (label)
	Revision string    // the git commit (label), optional
	Arch     string    // GOARCH of the binary
	Created  time.Time // the image's and its files' time (reproducible builds: the commit's)
	// Shell: a static busybox to add as /bin/busybox with a link per applet
	// (/bin/sh...), for the image as a GitLab CI job image, whose runner
	// runs the job's script with the image's shell. "": no shell.
	Shell string
}

func buildCmd(args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	var s Spec
	fs.StringVar(&s.Binary, "binary", "", "the static exporter binary (required)")
	fs.StringVar(&s.CA, "ca", caPath, "the CA certificates bundle to put in the image")
	fs.StringVar(&s.Version, "version", "", "the exporter's version (required): the image's version label")
	fs.StringVar(&s.Revision, "revision", "", "the git commit (label)")
	fs.StringVar(&s.Arch, "arch", runtime.GOARCH, "the binary's GOARCH")
	fs.StringVar(&s.Shell, "shell", "", "a static busybox binary to add with its applets (/bin/sh...), for a GitLab CI job image (default: no shell)")
	created := fs.String("created", "", "the image's creation time, RFC 3339 (default: the Unix epoch, for reproducible images)")
	ref := fs.String("ref", "", "the image reference to tag it with, e.g. registry.example.com/acme/gitlab-data-export:v1.2.3 (required)")
	out := fs.String("out", "", "the docker-archive tar to write (required)")
	_ = fs.Parse(args)
	if s.Binary == "" || s.Version == "" || *ref == "" || *out == "" {
		return errors.New("build needs -binary, -version, -ref and -out")
	}
	if *created != "" {
		t, err := time.Parse(time.RFC3339, *created)
		if err != nil {
			return fmt.Errorf("-created: %w", err)
		}
		s.Created = t
	}
	tag, err := name.NewTag(*ref)
	if err != nil {
		return fmt.Errorf("-ref %q: %w", *ref, err)
	}
	img, err := Build(s)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if err := tarball.WriteToFile(*out, tag, img); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	fmt.Printf("image %s (%s) written to %s\n", tag, digest, *out)
	return nil
}

// Build makes the image.
func Build(s Spec) (v1.Image, error) {
	bin, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, fmt.Errorf("reading the binary: %w", err)
	}
	if len(bin) < 4 || string(bin[:4]) != "\x7fELF" {
		return nil, fmt.Errorf("%s is not a Linux (ELF) binary: build it with GOOS=linux CGO_ENABLED=0", s.Binary)
	}
	ca, err := os.ReadFile(s.CA)
	if err != nil {
		return nil, fmt.Errorf("reading the CA certificates (install the ca-certificates package, or pass -ca): %w", err)
	}
	if s.Arch == "" {
		s.Arch = runtime.GOARCH
	}
	var shell []byte
	var applets []string
	if s.Shell != "" {
		if shell, applets, err = busybox(s.Shell); err != nil {
			return nil, err
		}
	}
	layerTar, err := rootFS(s, bin, ca, shell, applets)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: s.Created}, CreatedBy: "ociimage build (scripts/build-image)",
		Comment: "the exporter, CA certificates, a non-root user"}})
	if err != nil {
		return nil, err
	}
	labels := map[string]string{
		"org.opencontainers.image.title":   "gitlab-data-export",
		"org.opencontainers.image.version": s.Version,
		"org.opencontainers.image.source":  source,
	}
	if s.Revision != "" {
		labels["org.opencontainers.image.revision"] = s.Revision
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	path := "/usr/local/bin"
	if s.Shell != "" {
		path += ":/bin"
	}
	cf.OS, cf.Architecture = "linux", s.Arch
	cf.Created = v1.Time{Time: s.Created}
	cf.Config = v1.Config{
		User:       strconv.Itoa(uid) + ":" + strconv.Itoa(uid),
		WorkingDir: workDir,
		Entrypoint: []string{binPath},
		Env: []string{
			"PATH=" + path,
			"HOME=" + home,
			"SSL_CERT_FILE=" + caPath,
			"TMPDIR=/tmp",
		},
		Labels: labels,
	}
	return mutate.ConfigFile(img, cf)
}

// rootFS is the layer: the directories, the binary, the certificates, the
// user and group files, localhost. No shell, no package manager.
func rootFS(s Spec, bin, ca, shell []byte, applets []string) ([]byte, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", userName, uid, uid, userName, home)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", userName, uid)
	// localhost for the in-process runner's own servers (Prism listens on
	// localhost:<port>); a container engine mounts its own over it.
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	type entry struct {
		path     string
		mode     int64
		owner    int
		contents []byte // nil: a directory (or a link)
		link     string // a symbolic link to this
	}
	entries := []entry{
		{"etc", 0o755, 0, nil, ""},
		{"etc/ssl", 0o755, 0, nil, ""},
		{"etc/ssl/certs", 0o755, 0, nil, ""},
		{"home", 0o755, 0, nil, ""},
		{strings.TrimPrefix(home, "/"), 0o755, uid, nil, ""},
		{"root", 0o700, 0, nil, ""},
		{"tmp", 0o1777, 0, nil, ""},
		{"usr", 0o755, 0, nil, ""},
		{"usr/local", 0o755, 0, nil, ""},
		{"usr/local/bin", 0o755, 0, nil, ""},
		{strings.TrimPrefix(workDir, "/"), 0o755, uid, nil, ""},
		{"etc/passwd", 0o644, 0, []byte(passwd), ""},
		{"etc/group", 0o644, 0, []byte(group), ""},
		{"etc/hosts", 0o644, 0, []byte(hosts), ""},
		{strings.TrimPrefix(caPath, "/"), 0o644, 0, ca, ""},
		{strings.TrimPrefix(binPath, "/"), 0o755, 0, bin, ""},
	}
	if shell != nil {
		entries = append(entries, entry{"bin", 0o755, 0, nil, ""}, entry{"bin/busybox", 0o755, 0, shell, ""})
		for _, a := range applets {
			entries = append(entries, entry{"bin/" + a, 0o777, 0, nil, "busybox"})
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.path, Mode: e.mode, Uid: e.owner, Gid: e.owner, ModTime: s.Created, Format: tar.FormatPAX}
		if e.owner == uid {
			h.Uname, h.Gname = userName, userName
		} else {
			h.Uname, h.Gname = "root", "root"
		}
		switch {
		case e.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
		case e.contents == nil:
			h.Typeflag, h.Name = tar.TypeDir, e.path+"/"
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.contents))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.contents); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// busybox reads a static busybox and its applets' names (busybox --list),
// less busybox itself.
func busybox(path string) ([]byte, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("-shell: %w (Debian: apt-get install busybox-static)", err)
	}
	out, err := exec.Command(path, "--list").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("-shell %s --list: %w", path, err)
	}
	var applets []string
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			applets = append(applets, a)
		}
	}
	if !slices.Contains(applets, "sh") {
		return nil, nil, fmt.Errorf("-shell %s has no sh applet", path)
	}
	return b, applets, nil
}

func unpackCmd(args []string) error {
	fs := flag.NewFlagSet("unpack", flag.ExitOnError)
	image := fs.String("image", "", "the docker-archive tar (required)")
	root := fs.String("root", "", "the directory to write the image's file system into (required)")
	_ = fs.Parse(args)
	if *image == "" || *root == "" {
		return errors.New("unpack needs -image and -root")
	}
	img, err := tarball.ImageFromPath(*image, nil)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *image, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	rc := mutate.Extract(img) // the layers flattened, whiteouts applied
	defer rc.Close()
	if err := extract(tar.NewReader(rc), *root); err != nil {
		return err
	}
	c := cf.Config
	fmt.Printf("IMAGE_USER=%s\nIMAGE_WORKDIR=%s\nIMAGE_ENTRYPOINT=%s\nIMAGE_ENV=%s\n",
		shellQuote(c.User), shellQuote(c.WorkingDir), shellQuote(strings.Join(c.Entrypoint, " ")), shellQuote(strings.Join(c.Env, "\n")))
	return nil
}

// extract writes a tar stream under root, with modes, and owners when run
// as root; it refuses paths that leave root.
func extract(tr *tar.Reader, root string) error {
	var dirs []*tar.Header
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		clean := filepath.Clean("/" + h.Name)
		dst := filepath.Join(root, clean)
		if clean == "/" {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, h)
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, os.FileMode(h.Mode).Perm())
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, tr); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			if err := own(dst, h); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, dst); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: tar entry type %q not supported", h.Name, h.Typeflag)
		}
	}
	// Directories last, deepest first: their modes (/tmp's sticky bit) and owners.
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i].Name) > len(dirs[j].Name) })
	for _, h := range dirs {
		dst := filepath.Join(root, filepath.Clean("/"+h.Name))
		if err := os.Chmod(dst, fileMode(h.Mode)); err != nil {
			return err
		}
		if err := own(dst, h); err != nil {
			return err
		}
	}
	return nil
}

func fileMode(m int64) os.FileMode {
	mode := os.FileMode(m).Perm()
	if m&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	return mode
}

func own(path string, h *tar.Header) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if err := os.Lchown(path, h.Uid, h.Gid); err != nil {
		return err
	}
	if h.Typeflag == tar.TypeReg {
		return os.Chmod(path, os.FileMode(h.Mode).Perm())
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
