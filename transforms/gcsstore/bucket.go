package gcsstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/filestore"
)

// bucket is a prefix of a Cloud Storage bucket as the files store's
// Objects: object names are the prefix then the layout's names. A move is
// a copy then a delete (the copy appears whole under its new name); the
// objects' generations make it Versioned.
type bucket struct {
	h      *storage.BucketHandle
	name   string // the bucket
	prefix string // "<GCS_PREFIX>/<dataset>/"
}

var (
	_ filestore.Objects   = (*bucket)(nil)
	_ filestore.Versioned = (*bucket)(nil)
)

func (b *bucket) obj(name string) *storage.ObjectHandle { return b.h.Object(b.prefix + name) }

// Where is the object's gs:// URL.
func (b *bucket) Where(name string) string { return "gs://" + b.name + "/" + b.prefix + name }

// explain adds what the user can do to the errors that need it.
func (b *bucket) explain(name string, err error) error {
	var ge *googleapi.Error
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return fmt.Errorf("%s: %w", b.Where(name), fs.ErrNotExist)
	case errors.Is(err, storage.ErrBucketNotExist):
		return b.noBucket(err)
	case errors.As(err, &ge) && ge.Code == http.StatusPreconditionFailed:
		return fmt.Errorf("%s: %w", b.Where(name), filestore.ErrPrecondition)
	case errors.As(err, &ge) && (ge.Code == http.StatusForbidden || ge.Code == http.StatusUnauthorized):
		return fmt.Errorf("%s: permission denied: grant the credentials (Application Default Credentials) Storage Object User (roles/storage.objectUser) on gs://%s: %w", b.Where(name), b.name, err)
	case errors.As(err, &ge) && ge.Code == http.StatusNotFound:
		return fmt.Errorf("%s: %w (%w)", b.Where(name), fs.ErrNotExist, err)
	}
	return fmt.Errorf("%s: %w", b.Where(name), err)
}

func (b *bucket) noBucket(err error) error {
	return fmt.Errorf("the bucket gs://%s does not exist: create it, or set %s to an existing bucket: %w", b.name, EnvBucket, err)
}

// explainWrite is explain for an upload, whose "not found" is the bucket's.
func (b *bucket) explainWrite(name string, err error) error {
	if isStatus(err, http.StatusNotFound) {
		return b.noBucket(err)
	}
	return b.explain(name, err)
}

// Create starts an upload that succeeds only if the object does not exist.
func (b *bucket) Create(ctx context.Context, name string) (filestore.ObjectWriter, error) {
	// The upload lives until Close or Abort, past the call that starts it.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := b.obj(name).If(storage.Conditions{DoesNotExist: true}).NewWriter(wctx)
	w.ChunkSize = partChunk
	w.ContentType = contentType(name)
	return &objectWriter{w: w, cancel: cancel, b: b, name: name}, nil
}

// partChunk is the size of the chunks a staged part is uploaded in (each
// writer buffers one): a bundle writes one part per table at once.
const partChunk = 1 << 20

type objectWriter struct {
	w      *storage.Writer
	cancel context.CancelFunc
	b      *bucket
	name   string
}

func (w *objectWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

func (w *objectWriter) Close() error {
	defer w.cancel()
	if err := w.w.Close(); err != nil {
		return w.b.explainWrite(w.name, err)
	}
	return nil
}

// Abort cancels the upload: nothing of it is stored.
func (w *objectWriter) Abort() { w.cancel(); _ = w.w.Close() }

func contentType(name string) string {
	switch path.Ext(strings.TrimSuffix(name, ".part")) {
	case ".json", ".commit":
		return "application/json"
	case ".bin":
		return "application/octet-stream"
	case ".runs":
		return "text/plain"
	}
	return "application/x-ndjson"
}

func (b *bucket) put(ctx context.Context, o *storage.ObjectHandle, name string, data []byte) error {
	w := o.NewWriter(ctx)
	w.ContentType = contentType(name)
	w.ChunkSize = 0 // one request: these objects are small
	if _, err := w.Write(data); err != nil {
		w.Close()
		return b.explainWrite(name, err)
	}
	if err := w.Close(); err != nil {
		return b.explainWrite(name, err)
	}
	return nil
}

// Put uploads the object whole: readers see the old one until it is done.
func (b *bucket) Put(ctx context.Context, name string, data []byte) error {
	return b.put(ctx, b.obj(name), name, data)
}

// PutIf uploads the object if its generation is still gen (0: none).
func (b *bucket) PutIf(ctx context.Context, name string, data []byte, gen int64) error {
	return b.put(ctx, b.obj(name).If(conditions(gen)), name, data)
}

func conditions(gen int64) storage.Conditions {
	if gen == 0 {
		return storage.Conditions{DoesNotExist: true}
	}
	return storage.Conditions{GenerationMatch: gen}
}

// Get downloads the object.
func (b *bucket) Get(ctx context.Context, name string) ([]byte, error) {
	data, _, err := b.get(ctx, name)
	return data, err
}

// GetGen downloads the object with its generation; nil, 0 when there is none.
func (b *bucket) GetGen(ctx context.Context, name string) ([]byte, int64, error) {
	data, gen, err := b.get(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	return data, gen, err
}

func (b *bucket) get(ctx context.Context, name string) ([]byte, int64, error) {
	r, err := b.obj(name).NewReader(ctx)
	if err != nil {
		return nil, 0, b.explain(name, err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return nil, 0, b.explain(name, err)
	}
	// An empty object is one, not none: a checkpoint of no bytes is corrupted.
	return append([]byte{}, buf.Bytes()...), r.Attrs.Generation, nil
}

// Open streams the object.
func (b *bucket) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	r, err := b.obj(name).NewReader(ctx)
	if err != nil {
		return nil, b.explain(name, err)
	}
	return r, nil
}

// Move copies the object to its new name, then deletes it. A missing
// object whose new name exists was moved by an earlier attempt.
func (b *bucket) Move(ctx context.Context, from, to string) error {
	if _, err := b.obj(to).CopierFrom(b.obj(from)).Run(ctx); err != nil {
		if !errors.Is(err, storage.ErrObjectNotExist) && !isStatus(err, http.StatusNotFound) {
			return b.explain(from, err)
		}
		if _, aerr := b.obj(to).Attrs(ctx); aerr != nil {
			return b.explain(from, err)
		}
		return nil // moved before
	}
	return b.Delete(ctx, from)
}

func isStatus(err error, code int) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == code
}

// Delete deletes the object; nil when there is none.
func (b *bucket) Delete(ctx context.Context, name string) error {
	err := b.obj(name).Delete(ctx)
	if err == nil || errors.Is(err, storage.ErrObjectNotExist) || isStatus(err, http.StatusNotFound) {
		return nil
	}
	return b.explain(name, err)
}

// DeleteIf deletes the object if its generation is still gen.
func (b *bucket) DeleteIf(ctx context.Context, name string, gen int64) error {
	err := b.obj(name).If(storage.Conditions{GenerationMatch: gen}).Delete(ctx)
	if err == nil || errors.Is(err, storage.ErrObjectNotExist) || isStatus(err, http.StatusNotFound) {
		return nil
	}
	return b.explain(name, err)
}

// DeleteAll deletes every object under dir.
func (b *bucket) DeleteAll(ctx context.Context, dir string) error {
	it := b.h.Objects(ctx, &storage.Query{Prefix: b.prefix + dir + "/"})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return b.explain(dir, err)
		}
		if err := b.Delete(ctx, strings.TrimPrefix(a.Name, b.prefix)); err != nil {
			return err
		}
	}
}

// List lists the objects and the "directories" (common prefixes) directly
// under dir.
func (b *bucket) List(ctx context.Context, dir string) ([]string, error) {
	p := b.prefix + dir + "/"
	it := b.h.Objects(ctx, &storage.Query{Prefix: p, Delimiter: "/"})
	var names []string
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, b.explain(dir, err)
		}
		n := a.Name
		if a.Prefix != "" {
			n = a.Prefix
		}
		if n = strings.TrimSuffix(strings.TrimPrefix(n, p), "/"); n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}
