// Package filestore is the embedded default store: newline-delimited JSON
// files on the local disk, readable as they are by DuckDB, jq or pandas.
//
// Layout under FILES_DIR:
//
//	<dataset>_v4/<table>/<run id>-<nnnnn>.ndjson   committed data, one object per line
//	<dataset>_v4/_checkpoints/<job id>.json        the checkpoint of each job
//	<dataset>_v4/_checkpoints/<job id>.runs        the runs each job committed, one id per line
//	<dataset>_v4/_staging/<job id>/<run id>/...    a running job's private staging area
//
// Bundles write staged files (*.part) under the run's staging directory. The
// final step writes a commit manifest, renames every staged file of the
// successful bundles into its table directory, writes the checkpoint and
// removes the staging directory; each of those steps is atomic (rename) and
// the whole is idempotent, so an interrupted commit is finished by the next
// run's Recover and a failed run leaves nothing that a reader could take for
// data.
//
// The layout, the commit and the recovery are written over Objects (see
// objects.go): a Directory for this store, a bucket for the GCS store
// (transforms/gcsstore), which New builds a Store over. Over Versioned
// objects, commits are also guarded against a second run of the job (see
// Store.Commit).
package filestore

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// Kind is the name of this store (DATASTORE=files).
const Kind = "files"

// EnvDir is the directory of the store.
const EnvDir = "FILES_DIR"

func init() {
	store.Register(store.Description{
		Name:     Kind,
		Help:     "newline-delimited JSON under " + EnvDir,
		Section:  "Files store",
		Fallback: true,
		// Remote workers would each write to their own disk.
		LocalOnly: "writes to this machine's disk",
		Options: []store.Option{
			{Env: EnvDir, Default: "./gitlab-data-export", Param: "dir", Help: "Directory of the files store.",
				Check: func(v string) string {
					if strings.TrimSpace(v) == "" {
						return EnvDir + " is empty: set it to the directory to write to, e.g. ./gitlab-data-export"
					}
					return ""
				},
				Resolve: filepath.Abs},
		},
		Open:     Open,
		Describe: func(s store.Spec) string { return filepath.Join(s.Params["dir"], s.Params["dataset"]) },
	})
}

// Spec describes a files store at dir/dataset.
func Spec(dir, dataset string) store.Spec {
	return store.Spec{Kind: Kind, Params: map[string]string{"dir": dir, "dataset": dataset}}
}

// Store is a store of this package's layout over Objects: the files store
// (a Directory), or the GCS store's bucket.
type Store struct {
	objs  Objects
	label string    // what starts its errors: "files store", "GCS store"
	ver   Versioned // objs as Versioned, or nil: commits are then unguarded
	root  string    // the directory of a files store; "" for other objects

	// afterTableCommit, when set (tests), runs once the parts of each
	// table of a commit are moved; an error stops the commit there.
	afterTableCommit func(table string) error
}

var (
	_ store.Store              = (*Store)(nil)
	_ store.KeyLister          = (*Store)(nil)
	_ store.CheckpointResetter = (*Store)(nil)
)

// New returns a store of this layout over objs (its root: the dataset's
// directory or prefix); label starts its errors ("GCS store"). When objs
// are Versioned, commits are guarded: see Commit.
func New(objs Objects, label string) *Store {
	s := &Store{objs: objs, label: label}
	s.ver, _ = objs.(Versioned)
	if d, ok := objs.(Directory); ok {
		s.root = string(d)
	}
	return s
}

// Open opens (creating it when missing) the store described by spec.
func Open(_ context.Context, spec store.Spec) (store.Store, error) {
	dir, ds := spec.Params["dir"], spec.Params["dataset"]
	if dir == "" || ds == "" {
		return nil, errors.New("files store: FILES_DIR and the dataset name are required")
	}
	root := filepath.Join(dir, ds)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("files store: creating %s (check FILES_DIR): %w", root, err)
	}
	return New(Directory(root), "files store"), nil
}

// Root returns the directory that holds the tables ("" when the store is
// not a directory).
func (s *Store) Root() string { return s.root }

// SetCommitHook makes hook run once the parts of each table of a commit
// are moved; an error stops the commit there, as a process that dies in
// its commit would (tests: storetest.Subject.InterruptCommits); nil: none.
func (s *Store) SetCommitHook(hook func(table string) error) { s.afterTableCommit = hook }

func (s *Store) errorf(format string, a ...any) error {
	return fmt.Errorf(s.label+": "+format, a...)
}

func checkpointName(jobID string) string { return "_checkpoints/" + jobID + ".json" }

// claimName is the object a guarded commit holds while it runs.
func claimName(jobID string) string { return "_checkpoints/" + jobID + ".commit" }

func stagingName(jobID, runID string) string { return "_staging/" + jobID + "/" + runID }

// ReadCheckpoint reads <dataset>/_checkpoints/<job id>.json.
func (s *Store) ReadCheckpoint(ctx context.Context, jobID string) (*store.Checkpoint, error) {
	cp, _, err := s.readCheckpoint(ctx, jobID)
	return cp, err
}

// readCheckpoint reads the checkpoint and, over Versioned objects, its
// generation (0: none).
func (s *Store) readCheckpoint(ctx context.Context, jobID string) (*store.Checkpoint, int64, error) {
	name := checkpointName(jobID)
	var b []byte
	var gen int64
	var err error
	if s.ver != nil {
		b, gen, err = s.ver.GetGen(ctx, name)
		if err == nil && b == nil {
			return nil, 0, nil
		}
	} else {
		b, err = s.objs.Get(ctx, name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, nil
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading the checkpoint %s: %w", s.objs.Where(name), err)
	}
	var cp store.Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil || cp.StartedAt.IsZero() {
		return nil, 0, fmt.Errorf("the checkpoint %s is corrupted (%v): repair it, or delete it to run a full backfill (set GITLAB_BACKFILL_TIMESTAMP to limit it)", s.objs.Where(name), describeErr(err, "no started_at"))
	}
	return &cp, gen, nil
}

// ForgetCheckpoint removes the job's checkpoint file: the next run is a
// backfill.
func (s *Store) ForgetCheckpoint(ctx context.Context, jobID string) error {
	name := checkpointName(jobID)
	if err := s.objs.Delete(ctx, name); err != nil {
		return s.errorf("removing the checkpoint %s: %w", s.objs.Where(name), err)
	}
	return nil
}

// WriteCheckpoint replaces the job's checkpoint file (over Versioned
// objects, only if no run committed since it was read).
func (s *Store) WriteCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	name := checkpointName(cp.JobID)
	b, _ := json.MarshalIndent(cp, "", "  ")
	b = append(b, '\n')
	var err error
	if s.ver != nil {
		var gen int64
		if _, gen, err = s.ver.GetGen(ctx, name); err == nil {
			err = s.ver.PutIf(ctx, name, b, gen)
		}
		if errors.Is(err, ErrPrecondition) {
			return s.errorf("a run of job %s committed while its checkpoint %s was being replaced: nothing was replaced; run the command again", cp.JobID, s.objs.Where(name))
		}
	} else {
		err = s.objs.Put(ctx, name, b)
	}
	if err != nil {
		return s.errorf("writing the checkpoint %s: %w", s.objs.Where(name), err)
	}
	return nil
}

func describeErr(err error, fallback string) string {
	if err != nil {
		return err.Error()
	}
	return fallback
}

// manifest is written before the first move of a commit.
type manifest struct {
	Run        store.Run        `json:"run"`
	Checkpoint store.Checkpoint `json:"checkpoint"`
	Moves      []move           `json:"moves"`
}

type move struct{ From, To string } // relative to the store root

const manifestName = "COMMIT.json"

// Commit moves the staged parts into their tables and the digests into
// _checkpoints/<job>.digests/, then writes the checkpoint (with the job's
// next state), then removes the staging directory and older digests.
//
// Over Versioned objects (a bucket) the commit is guarded, so that two
// runs of one job cannot both commit: before anything becomes visible it
// creates the job's claim object (_checkpoints/<job>.commit, only if there
// is none) and checks that the job's checkpoint is still the one the run
// started from (run.Previous); the checkpoint is then written last, only
// if its generation is still the one checked. A run that finds the claim
// of another run, or a newer checkpoint, fails with ErrConcurrentCommit
// and makes nothing visible.
func (s *Store) Commit(ctx context.Context, run store.Run, parts []store.Part, next state.State, digests []byte) error {
	staging := stagingName(run.JobID, run.RunID)
	var digestMove *move
	if digests != nil {
		if err := s.objs.Put(ctx, staging+"/digests.bin", digests); err != nil {
			return s.errorf("staging the record digests: %w", err)
		}
		digestMove = &move{From: staging + "/digests.bin", To: digestsName(run.JobID, run.RunID)}
		next.Digests = run.RunID
	}
	cp, err := store.NewCheckpoint(run, parts, time.Now(), next)
	if err != nil {
		return err
	}
	sorted := append([]store.Part(nil), parts...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Table != sorted[j].Table {
			return sorted[i].Table < sorted[j].Table
		}
		return sorted[i].Ref < sorted[j].Ref
	})
	m := manifest{Run: run, Checkpoint: cp}
	seq := map[string]int{}
	for _, p := range sorted {
		seq[p.Table]++
		m.Moves = append(m.Moves, move{From: filepath.ToSlash(p.Ref), To: p.Table + "/" + fmt.Sprintf("%s-%05d.ndjson", run.RunID, seq[p.Table])})
	}
	if digestMove != nil {
		m.Moves = append(m.Moves, *digestMove)
	}
	var gen int64
	if s.ver != nil {
		if gen, err = s.claim(ctx, run); err != nil {
			return err
		}
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := s.objs.Put(ctx, staging+"/"+manifestName, b); err != nil {
		return s.errorf("writing the commit manifest: %w", err)
	}
	return s.finish(ctx, m, gen)
}

// claim takes the job's claim for run's commit and checks that the job's
// checkpoint is the one run started from; it returns the checkpoint's
// generation. A retried commit of run finds its own claim or checkpoint.
func (s *Store) claim(ctx context.Context, run store.Run) (int64, error) {
	body, _ := json.Marshal(map[string]string{"run_id": run.RunID, "started_at": run.StartedAt})
	claim := claimName(run.JobID)
	err := s.ver.PutIf(ctx, claim, body, 0)
	if errors.Is(err, ErrPrecondition) {
		var holder string
		if holder, _, err = s.claimHolder(ctx, run.JobID); err == nil && holder != run.RunID {
			return 0, s.errorf("run %s of job %s is committing, or its commit was interrupted (%s): this run (%s) makes nothing visible, and the job's next run finishes that commit first: %w",
				holder, run.JobID, s.objs.Where(claim), run.RunID, ErrConcurrentCommit)
		}
	}
	if err != nil {
		return 0, s.errorf("claiming the commit of job %s (%s): %w", run.JobID, s.objs.Where(claim), err)
	}
	cur, gen, err := s.readCheckpoint(ctx, run.JobID)
	if err != nil {
		s.release(ctx, run.JobID, run.RunID)
		return 0, err
	}
	if cur == nil || cur.RunID != run.RunID {
		have := ""
		if cur != nil {
			have = cur.StartedAt.UTC().Format(time.RFC3339)
		}
		if want := startOf(run.Previous); have != want {
			s.release(ctx, run.JobID, run.RunID)
			newer := "a checkpoint was removed"
			if cur != nil {
				newer = fmt.Sprintf("run %s, started %s, committed", cur.RunID, have)
			}
			from := "no checkpoint"
			if want != "" {
				from = "the checkpoint of " + want
			}
			return 0, s.errorf("the checkpoint of job %s changed since run %s started from %s (%s): this run makes nothing visible; the job's next run starts from the newer checkpoint (are two runs of the job scheduled at once? give them one GitLab CI resource_group): %w",
				run.JobID, run.RunID, from, newer, ErrConcurrentCommit)
		}
	}
	return gen, nil
}

// startOf normalises an RFC 3339 time to the checkpoint's second ("" as it is).
func startOf(t string) string {
	if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return p.UTC().Format(time.RFC3339)
	}
	return t
}

// claimHolder reads the job's claim: the run holding it ("" when none) and
// its generation.
func (s *Store) claimHolder(ctx context.Context, jobID string) (string, int64, error) {
	b, gen, err := s.ver.GetGen(ctx, claimName(jobID))
	if err != nil || b == nil {
		return "", 0, err
	}
	var c struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.RunID == "" {
		return "?", gen, nil // unreadable: held by nobody we can name
	}
	return c.RunID, gen, nil
}

// release drops the job's claim if runID holds it.
func (s *Store) release(ctx context.Context, jobID, runID string) {
	if holder, gen, err := s.claimHolder(ctx, jobID); err == nil && holder == runID {
		_ = s.ver.DeleteIf(ctx, claimName(jobID), gen)
	}
}

// finish carries out a manifest: moves, checkpoint (over Versioned objects
// only if its generation is still gen), cleanup. Idempotent.
func (s *Store) finish(ctx context.Context, m manifest, gen int64) error {
	dirs := map[string]bool{}
	tableOf := func(i int) string { return strings.SplitN(m.Moves[i].To, "/", 2)[0] }
	for i, mv := range m.Moves {
		if err := s.objs.Move(ctx, mv.From, mv.To); err != nil {
			if s.ver != nil && errors.Is(err, fs.ErrNotExist) {
				return s.abandon(ctx, m, mv.From)
			}
			return s.errorf("committing %s: %w", mv.From, err)
		}
		dirs[path.Dir(mv.To)] = true
		if s.afterTableCommit != nil && (i == len(m.Moves)-1 || tableOf(i+1) != tableOf(i)) {
			if err := s.afterTableCommit(tableOf(i)); err != nil {
				return err
			}
		}
	}
	if d, ok := s.objs.(interface{ Sync(dir string) }); ok {
		for dir := range dirs {
			d.Sync(dir)
		}
	}
	b, _ := json.MarshalIndent(m.Checkpoint, "", "  ")
	b = append(b, '\n')
	if err := s.registerRun(ctx, m.Run.JobID, m.Run.RunID); err != nil {
		return err
	}
	name := checkpointName(m.Run.JobID)
	if s.ver != nil {
		err := s.ver.PutIf(ctx, name, b, gen)
		if errors.Is(err, ErrPrecondition) {
			cur, _, rerr := s.readCheckpoint(ctx, m.Run.JobID)
			if rerr != nil || cur == nil || cur.RunID != m.Checkpoint.RunID {
				return s.errorf("the checkpoint %s changed during the commit of run %s (a checkpoint reset?): its records are visible, the checkpoint is not this run's: %w", s.objs.Where(name), m.Run.RunID, ErrConcurrentCommit)
			} // else written by another process finishing this commit
		} else if err != nil {
			return s.errorf("writing the checkpoint: %w", err)
		}
		s.release(ctx, m.Run.JobID, m.Run.RunID)
	} else if err := s.objs.Put(ctx, name, b); err != nil {
		return s.errorf("writing the checkpoint: %w", err)
	}
	if err := s.objs.DeleteAll(ctx, stagingName(m.Run.JobID, m.Run.RunID)); err != nil {
		return s.errorf("removing the staging directory: %w", err)
	}
	s.dropOldDigests(ctx, m.Run.JobID, m.Checkpoint.State.Digests)
	return nil
}

// errPartLost: a guarded commit cannot be finished, a part it names is gone.
var errPartLost = errors.New("a staged part of the commit is gone")

// abandon discards a guarded commit that cannot be finished because a part
// it names is gone (another run of the job started while this one ran, and
// its recovery took this run's staging for a failed run's): its manifest
// and staging go and the claim is released. What it made visible stays; its
// checkpoint is not written, so the job's next run reads those records
// again: nothing is lost.
func (s *Store) abandon(ctx context.Context, m manifest, part string) error {
	if err := s.objs.DeleteAll(ctx, stagingName(m.Run.JobID, m.Run.RunID)); err != nil {
		return s.errorf("discarding the commit of run %s, whose staged part %s is gone: %w", m.Run.RunID, part, err)
	}
	s.release(ctx, m.Run.JobID, m.Run.RunID)
	return s.errorf("the staged part %s of run %s is gone (did another run of job %s start while this one ran? give the job's runs one GitLab CI resource_group): the commit is discarded; what it made visible stays, its checkpoint is not written, and the next run reads those records again: %w",
		s.objs.Where(part), m.Run.RunID, m.Run.JobID, errPartLost)
}

// digestsDir holds a job's record digests: one file per committed run that
// kept them; only the checkpoint's counts.
func digestsDir(jobID string) string { return "_checkpoints/" + jobID + ".digests" }

func digestsName(jobID, ref string) string { return digestsDir(jobID) + "/" + ref + ".bin" }

// ReadDigests reads the digests a checkpoint names (nil when none, or
// when the file is gone).
func (s *Store) ReadDigests(ctx context.Context, jobID, ref string) ([]byte, error) {
	if ref == "" {
		return nil, nil
	}
	b, err := s.objs.Get(ctx, digestsName(jobID, ref))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, s.errorf("reading the record digests of job %s: %w", jobID, err)
	}
	return b, nil
}

// dropOldDigests removes the digests of a job that its checkpoint no
// longer names (those of earlier runs); it leaves them on error.
func (s *Store) dropOldDigests(ctx context.Context, jobID, keep string) {
	names, err := s.objs.List(ctx, digestsDir(jobID))
	if err != nil {
		return
	}
	for _, n := range names {
		if n != keep+".bin" {
			_ = s.objs.Delete(ctx, digestsDir(jobID)+"/"+n)
		}
	}
}

func runsName(jobID string) string { return "_checkpoints/" + jobID + ".runs" }

// registerRun adds a committed run to the job's list of runs (once).
func (s *Store) registerRun(ctx context.Context, jobID, runID string) error {
	b, err := s.objs.Get(ctx, runsName(jobID))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return s.errorf("reading the runs of job %s: %w", jobID, err)
	}
	if parseRuns(b)[runID] {
		return nil
	}
	if err := s.objs.Put(ctx, runsName(jobID), append(b, runID+"\n"...)); err != nil {
		return s.errorf("recording the run: %w", err)
	}
	return nil
}

// jobRuns reads the runs a job committed.
func (s *Store) jobRuns(ctx context.Context, jobID string) (map[string]bool, error) {
	b, err := s.objs.Get(ctx, runsName(jobID))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, s.errorf("reading the runs of job %s: %w", jobID, err)
	}
	return parseRuns(b), nil
}

func parseRuns(b []byte) map[string]bool {
	runs := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			runs[l] = true
		}
	}
	return runs
}

// Recover rolls forward a commit of jobID that has its manifest, and
// removes the staging directories of runs that never reached their commit
// (and, over Versioned objects, a claim that no manifest follows).
func (s *Store) Recover(ctx context.Context, jobID string) error {
	dir := "_staging/" + jobID
	names, err := s.objs.List(ctx, dir)
	if err != nil {
		return s.errorf("reading %s: %w", s.objs.Where(dir), err)
	}
	for _, name := range names {
		runDir := dir + "/" + name
		b, err := s.objs.Get(ctx, runDir+"/"+manifestName)
		if errors.Is(err, fs.ErrNotExist) {
			if err := s.objs.DeleteAll(ctx, runDir); err != nil {
				if !errors.Is(err, syscall.ENOTEMPTY) {
					return s.errorf("removing what failed run %s staged: %w", name, err)
				}
				// Something still writes there (a cancelled run's last
				// bundles, in this process): its files are never moved
				// into a table; a later run removes them.
				slog.Warn(s.label+": a failed run's staging area is still being written; a later run removes it", "run", name, "dir", s.objs.Where(runDir))
			}
			continue
		}
		var m manifest
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			return s.errorf("the commit manifest of run %s is unreadable (%v): remove %s to discard that run", name, err, s.objs.Where(runDir))
		}
		if err := s.recoverCommit(ctx, m); err != nil {
			return fmt.Errorf("finishing the interrupted commit of run %s: %w", name, err)
		}
	}
	if s.ver != nil {
		// A claim whose run wrote no manifest: that run stopped before
		// its commit made anything visible.
		if holder, gen, err := s.claimHolder(ctx, jobID); err == nil && holder != "" {
			if _, err := s.objs.Get(ctx, stagingName(jobID, holder)+"/"+manifestName); errors.Is(err, fs.ErrNotExist) {
				if err := s.ver.DeleteIf(ctx, claimName(jobID), gen); err != nil && !errors.Is(err, ErrPrecondition) {
					return s.errorf("removing the claim of run %s, which never committed: %w", holder, err)
				}
			}
		}
	}
	return nil
}

// recoverCommit finishes the commit of a manifest, keeping the job's
// checkpoint when a later run already committed.
func (s *Store) recoverCommit(ctx context.Context, m manifest) error {
	if s.ver != nil {
		// Take the claim over: the commit it names is finished here.
		body, _ := json.Marshal(map[string]string{"run_id": m.Run.RunID, "started_at": m.Run.StartedAt})
		_, gen, err := s.claimHolder(ctx, m.Run.JobID)
		if err == nil {
			err = s.ver.PutIf(ctx, claimName(m.Run.JobID), body, gen)
		}
		if err != nil {
			return s.errorf("claiming the commit of job %s: %w", m.Run.JobID, err)
		}
	}
	cur, gen, err := s.readCheckpoint(ctx, m.Run.JobID)
	if err == nil && cur != nil && cur.StartedAt.After(m.Checkpoint.StartedAt) {
		m.Checkpoint = *cur // a later run already committed: keep its checkpoint
	}
	err = s.finish(ctx, m, gen)
	if errors.Is(err, errPartLost) {
		slog.Warn(s.label+": an interrupted commit could not be finished and was discarded", "run", m.Run.RunID, "error", err)
		return nil
	}
	return err
}

// NewWriter stages the records of one bundle under the run's staging directory.
func (s *Store) NewWriter(ctx context.Context, run store.Run) (store.Writer, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return &writer{s: s, ctx: ctx, dir: stagingName(run.JobID, run.RunID), id: hex.EncodeToString(rnd[:]), files: map[string]*partFile{}}, nil
}

type partFile struct {
	w       ObjectWriter
	ref     string
	records int64
	bytes   int64
}

type writer struct {
	s     *Store
	ctx   context.Context
	dir   string
	id    string
	files map[string]*partFile
}

func (w *writer) Write(table string, rec []byte) error {
	pf, ok := w.files[table]
	if !ok {
		ref := w.dir + "/" + table + "/" + w.id + ".part"
		ow, err := w.s.objs.Create(w.ctx, ref)
		if err != nil {
			return w.s.errorf("%w", err)
		}
		pf = &partFile{w: ow, ref: ref}
		w.files[table] = pf
	}
	if len(rec) == 0 || strings.ContainsAny(string(rec), "\n\r") {
		return w.s.errorf("a %s record is empty or spans several lines", table)
	}
	pf.w.Write(rec)
	if _, err := pf.w.Write([]byte{'\n'}); err != nil {
		return w.s.errorf("writing %s: %w", pf.ref, err)
	}
	pf.records++
	pf.bytes += int64(len(rec)) + 1
	return nil
}

func (w *writer) Close(context.Context) ([]store.Part, error) {
	var parts []store.Part
	var firstErr error
	for table, pf := range w.files {
		if err := pf.w.Close(); err != nil && firstErr == nil {
			firstErr = w.s.errorf("closing %s: %w", pf.ref, err)
		}
		parts = append(parts, store.Part{Table: table, Ref: pf.ref, Records: pf.records, Bytes: pf.bytes})
	}
	w.files = map[string]*partFile{}
	if firstErr != nil {
		return nil, firstErr
	}
	return parts, nil
}

func (w *writer) Abort() {
	for _, pf := range w.files {
		pf.w.Abort()
	}
	w.files = map[string]*partFile{}
}

// StoredKeys reads every committed file of table written by a run of jobID
// (see the job's .runs list) and the job's rows of the deletions table.
// Files written before the store kept that list are not read.
func (s *Store) StoredKeys(ctx context.Context, jobID, table string, key, scope []string, fn func(store.StoredKey) error) error {
	runs, err := s.jobRuns(ctx, jobID)
	if err != nil {
		return err
	}
	type latest struct {
		values []string
		date   string
	}
	objs := map[string]*latest{}
	fields := append(append([]string(nil), key...), scope...)
	err = s.scanJobFiles(ctx, table, runs, func(path string, rec map[string]json.RawMessage) error {
		vals := make([]string, len(fields))
		for i, f := range fields {
			v, ok := store.KeyValue(rec, f)
			if !ok && i < len(key) {
				return s.errorf("a record of %s in %s has no %q", table, path, f)
			}
			vals[i] = v
		}
		date := dataDate(rec)
		id := store.KeyString(vals[:len(key)])
		if o, ok := objs[id]; !ok || date >= o.date {
			objs[id] = &latest{values: vals, date: date}
		}
		return nil
	})
	if err != nil {
		return err
	}
	type event struct {
		deleted bool
		date    string
	}
	events := map[string]event{}
	err = s.scanJobFiles(ctx, store.DeletionsTable, runs, func(path string, rec map[string]json.RawMessage) error {
		var row struct {
			Table   string `json:"table"`
			ID      string `json:"id"`
			Deleted bool   `json:"deleted"`
			JobID   string `json:"job_id"`
		}
		b, _ := json.Marshal(rec)
		if err := json.Unmarshal(b, &row); err != nil {
			return s.errorf("a row of %s in %s: %w", store.DeletionsTable, path, err)
		}
		if row.JobID != jobID || row.Table != table {
			return nil
		}
		date := dataDate(rec)
		if e, ok := events[row.ID]; !ok || date >= e.date {
			events[row.ID] = event{deleted: row.Deleted, date: date}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, o := range objs {
		e, ok := events[id]
		k := store.StoredKey{Values: o.values, DataDate: o.date, Deleted: ok && e.deleted && e.date >= o.date}
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// dataDate is a stored record's data_date (_data_date when the API object
// has a data_date of its own), normalised to RFC 3339 UTC for comparisons.
func dataDate(rec map[string]json.RawMessage) string {
	raw, _ := store.DataDate(rec)
	var s string
	_ = json.Unmarshal(raw, &s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// scanJobFiles calls fn with every record of the committed files of table
// written by the given runs.
func (s *Store) scanJobFiles(ctx context.Context, table string, runs map[string]bool, fn func(path string, rec map[string]json.RawMessage) error) error {
	names, err := s.objs.List(ctx, table)
	if err != nil {
		return s.errorf("%w", err)
	}
	for _, name := range names {
		run, _, ok := cutLast(strings.TrimSuffix(name, ".ndjson"), "-")
		if !strings.HasSuffix(name, ".ndjson") || !ok || !runs[run] {
			continue
		}
		if err := s.scanFile(ctx, table+"/"+name, fn); err != nil {
			return err
		}
	}
	return nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func (s *Store) scanFile(ctx context.Context, name string, fn func(path string, rec map[string]json.RawMessage) error) error {
	path := s.objs.Where(name)
	f, err := s.objs.Open(ctx, name)
	if err != nil {
		return s.errorf("%w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	for line := 1; sc.Scan(); line++ {
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec == nil {
			return s.errorf("line %d of %s is not a JSON object", line, path)
		}
		if err := fn(path, rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return s.errorf("reading %s: %w", path, err)
	}
	return nil
}
