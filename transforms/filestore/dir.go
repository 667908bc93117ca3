package filestore

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Directory is a directory on this machine as Objects: files under it,
// written through a temporary file and a rename, synced to disk. It is
// not Versioned: two runs of one job on one machine are the user's to keep
// apart (GitLab CI's resource_group).
type Directory string

var _ Objects = Directory("")

func (d Directory) path(name string) string {
	return filepath.Join(string(d), filepath.FromSlash(name))
}

// Where is the file's path.
func (d Directory) Where(name string) string { return d.path(name) }

// Create creates the file (it must not exist) and its directory.
func (d Directory) Create(_ context.Context, name string) (ObjectWriter, error) {
	path := d.path(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &fileWriter{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

type fileWriter struct {
	f *os.File
	w *bufio.Writer
}

func (w *fileWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

func (w *fileWriter) Close() error {
	err := w.w.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (w *fileWriter) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// Put writes the file through a temporary file and a rename.
func (d Directory) Put(_ context.Context, name string, data []byte) error {
	path := d.path(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeAtomic(path, data)
}

// Get reads the file.
func (d Directory) Get(_ context.Context, name string) ([]byte, error) {
	return os.ReadFile(d.path(name))
}

// Open opens the file.
func (d Directory) Open(_ context.Context, name string) (io.ReadCloser, error) {
	return os.Open(d.path(name))
}

// Move renames the file (atomic), creating the directory it moves to.
func (d Directory) Move(_ context.Context, from, to string) error {
	dst := d.path(to)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Rename(d.path(from), dst); err != nil {
		if _, statErr := os.Stat(dst); statErr != nil {
			return err
		} // else moved by an earlier attempt
	}
	return nil
}

// Sync makes the renames into dir durable.
func (d Directory) Sync(dir string) { syncDir(d.path(dir)) }

// Delete removes the file.
func (d Directory) Delete(_ context.Context, name string) error {
	if err := os.Remove(d.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// DeleteAll removes the directory and what it holds.
func (d Directory) DeleteAll(_ context.Context, dir string) error { return os.RemoveAll(d.path(dir)) }

// List reads the directory.
func (d Directory) List(_ context.Context, dir string) ([]string, error) {
	entries, err := os.ReadDir(d.path(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	sort.Strings(names)
	return names, nil
}

// writeAtomic writes a file through a temporary file and a rename.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
