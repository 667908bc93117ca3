package filestore

import (
	"context"
	"errors"
	"io"
)

// Objects is where a store of this layout keeps its files: named objects
// under the store's root (its FILES_DIR/<dataset> directory, or a bucket's
// <prefix>/<dataset>/), named by slash-separated paths relative to it
// ("issues/<run>-00001.ndjson"). Directory holds the files store's; the
// GCS store (transforms/gcsstore) has a bucket's. The layout, the commit
// and the recovery are this package's alone.
type Objects interface {
	// Where names an object for people (a path, a gs:// URL).
	Where(name string) string
	// Create starts a new object (a staged part) that no other writer
	// is writing; it is readable by name once Close returns nil, never
	// in part.
	Create(ctx context.Context, name string) (ObjectWriter, error)
	// Put writes a whole object: a reader sees the old bytes or the new.
	Put(ctx context.Context, name string, data []byte) error
	// Get reads a whole object; an error wrapping fs.ErrNotExist when
	// there is none.
	Get(ctx context.Context, name string) ([]byte, error)
	// Open reads an object as a stream (fs.ErrNotExist as Get).
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Move renames an object, which appears whole under its new name
	// (a rename, or a copy then a delete); a move of a missing object
	// whose new name exists is done already: nil.
	Move(ctx context.Context, from, to string) error
	// Delete removes an object; nil when there is none.
	Delete(ctx context.Context, name string) error
	// DeleteAll removes every object under dir; nil when there is none.
	DeleteAll(ctx context.Context, dir string) error
	// List returns the names of what lies directly under dir (objects
	// and directories: the next path element only), sorted; none when
	// dir does not exist.
	List(ctx context.Context, dir string) ([]string, error)
}

// ObjectWriter writes one object created by Objects.Create.
type ObjectWriter interface {
	io.Writer
	// Close makes the object readable, durably.
	Close() error
	// Abort discards the object.
	Abort()
}

// Versioned is implemented by objects that have generations (a bucket's):
// a store over them guards its commits with them, so that two runs of one
// job cannot both commit (see Store.Commit).
type Versioned interface {
	// GetGen reads an object and its generation; nil, 0 and no error
	// when there is none.
	GetGen(ctx context.Context, name string) ([]byte, int64, error)
	// PutIf writes a whole object if its generation is still gen (0:
	// if there is none), else fails with ErrPrecondition.
	PutIf(ctx context.Context, name string, data []byte, gen int64) error
	// DeleteIf removes an object if its generation is still gen, else
	// fails with ErrPrecondition; nil when there is none.
	DeleteIf(ctx context.Context, name string, gen int64) error
}

// ErrPrecondition: a Versioned write or delete found the object changed.
var ErrPrecondition = errors.New("the object changed since it was read")

// ErrConcurrentCommit: a commit found that another run of the job
// committed, or is committing, since this run started (stores over
// Versioned objects only).
var ErrConcurrentCommit = errors.New("another run of the job commits or committed")
