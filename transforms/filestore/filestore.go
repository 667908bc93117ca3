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

// Store is a files store.
type Store struct {
	root string // dir/dataset

	// afterTableCommit, when set (tests), runs once the parts of each
	// table of a commit are renamed; an error stops the commit there.
	afterTableCommit func(table string) error
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.KeyLister = (*Store)(nil)
)

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
	return &Store{root: root}, nil
}

// Root returns the directory that holds the tables.
func (s *Store) Root() string { return s.root }

func (s *Store) checkpointPath(jobID string) string {
	return filepath.Join(s.root, "_checkpoints", jobID+".json")
}

func (s *Store) stagingDir(jobID, runID string) string {
	return filepath.Join(s.root, "_staging", jobID, runID)
}

// ReadCheckpoint reads <dataset>/_checkpoints/<job id>.json.
func (s *Store) ReadCheckpoint(_ context.Context, jobID string) (*store.Checkpoint, error) {
	path := s.checkpointPath(jobID)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the checkpoint %s: %w", path, err)
	}
	var cp store.Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil || cp.StartedAt.IsZero() {
		return nil, fmt.Errorf("the checkpoint %s is corrupted (%v): repair it, or delete it to run a full backfill (set GITLAB_BACKFILL_TIMESTAMP to limit it)", path, describeErr(err, "no started_at"))
	}
	return &cp, nil
}

// ForgetCheckpoint removes the job's checkpoint file: the next run is a
// backfill.
func (s *Store) ForgetCheckpoint(_ context.Context, jobID string) error {
	path := s.checkpointPath(jobID)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("files store: removing the checkpoint %s: %w", path, err)
	}
	return nil
}

// WriteCheckpoint replaces the job's checkpoint file.
func (s *Store) WriteCheckpoint(_ context.Context, cp store.Checkpoint) error {
	path := s.checkpointPath(cp.JobID)
	b, _ := json.MarshalIndent(cp, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("files store: %w", err)
	}
	if err := writeAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("files store: writing the checkpoint %s: %w", path, err)
	}
	return nil
}

func describeErr(err error, fallback string) string {
	if err != nil {
		return err.Error()
	}
	return fallback
}

// manifest is written before the first rename of a commit.
type manifest struct {
	Run        store.Run        `json:"run"`
	Checkpoint store.Checkpoint `json:"checkpoint"`
	Moves      []move           `json:"moves"`
}

type move struct{ From, To string } // relative to the store root

const manifestName = "COMMIT.json"

// Commit renames the staged parts into their tables and the digests into
// _checkpoints/<job>.digests/, then writes the checkpoint (with the job's
// next state), then removes the staging directory and older digests.
func (s *Store) Commit(_ context.Context, run store.Run, parts []store.Part, next state.State, digests []byte) error {
	staging := s.stagingDir(run.JobID, run.RunID)
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return fmt.Errorf("files store: %w", err)
	}
	var digestMove *move
	if digests != nil {
		if err := writeAtomic(filepath.Join(staging, "digests.bin"), digests); err != nil {
			return fmt.Errorf("files store: staging the record digests: %w", err)
		}
		rel, _ := filepath.Rel(s.root, filepath.Join(staging, "digests.bin"))
		digestMove = &move{From: rel, To: s.digestsRel(run.JobID, run.RunID)}
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
		m.Moves = append(m.Moves, move{From: p.Ref, To: filepath.Join(p.Table, fmt.Sprintf("%s-%05d.ndjson", run.RunID, seq[p.Table]))})
	}
	if digestMove != nil {
		m.Moves = append(m.Moves, *digestMove)
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := writeAtomic(filepath.Join(staging, manifestName), b); err != nil {
		return fmt.Errorf("files store: writing the commit manifest: %w", err)
	}
	return s.finish(m)
}

// finish carries out a manifest: renames, checkpoint, cleanup. Idempotent.
func (s *Store) finish(m manifest) error {
	dirs := map[string]bool{}
	tableOf := func(i int) string { return strings.SplitN(filepath.ToSlash(m.Moves[i].To), "/", 2)[0] }
	for i, mv := range m.Moves {
		from, to := filepath.Join(s.root, mv.From), filepath.Join(s.root, mv.To)
		if !dirs[filepath.Dir(to)] {
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				return fmt.Errorf("files store: %w", err)
			}
			dirs[filepath.Dir(to)] = true
		}
		if err := os.Rename(from, to); err != nil {
			if _, statErr := os.Stat(to); statErr != nil {
				return fmt.Errorf("files store: committing %s: %w", mv.From, err)
			} // else moved by an earlier attempt
		}
		if s.afterTableCommit != nil && (i == len(m.Moves)-1 || tableOf(i+1) != tableOf(i)) {
			if err := s.afterTableCommit(tableOf(i)); err != nil {
				return err
			}
		}
	}
	for d := range dirs {
		syncDir(d)
	}
	b, _ := json.MarshalIndent(m.Checkpoint, "", "  ")
	cpPath := s.checkpointPath(m.Run.JobID)
	if err := os.MkdirAll(filepath.Dir(cpPath), 0o755); err != nil {
		return fmt.Errorf("files store: %w", err)
	}
	if err := s.registerRun(m.Run.JobID, m.Run.RunID); err != nil {
		return err
	}
	if err := writeAtomic(cpPath, append(b, '\n')); err != nil {
		return fmt.Errorf("files store: writing the checkpoint: %w", err)
	}
	if err := os.RemoveAll(s.stagingDir(m.Run.JobID, m.Run.RunID)); err != nil {
		return fmt.Errorf("files store: removing the staging directory: %w", err)
	}
	s.dropOldDigests(m.Run.JobID, m.Checkpoint.State.Digests)
	return nil
}

// digestsDir holds a job's record digests: one file per committed run that
// kept them; only the checkpoint's counts.
func (s *Store) digestsDir(jobID string) string {
	return filepath.Join(s.root, "_checkpoints", jobID+".digests")
}

func (s *Store) digestsRel(jobID, ref string) string {
	return filepath.Join("_checkpoints", jobID+".digests", ref+".bin")
}

// ReadDigests reads the digests a checkpoint names (nil when none, or
// when the file is gone).
func (s *Store) ReadDigests(_ context.Context, jobID, ref string) ([]byte, error) {
	if ref == "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(s.root, s.digestsRel(jobID, ref)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("files store: reading the record digests of job %s: %w", jobID, err)
	}
	return b, nil
}

// dropOldDigests removes the digests of a job that its checkpoint no
// longer names (those of earlier runs); it leaves them on error.
func (s *Store) dropOldDigests(jobID, keep string) {
	entries, err := os.ReadDir(s.digestsDir(jobID))
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Name() != keep+".bin" {
			_ = os.Remove(filepath.Join(s.digestsDir(jobID), e.Name()))
		}
	}
}

func (s *Store) runsPath(jobID string) string {
	return filepath.Join(s.root, "_checkpoints", jobID+".runs")
}

// registerRun adds a committed run to the job's list of runs (once).
func (s *Store) registerRun(jobID, runID string) error {
	runs, err := s.jobRuns(jobID)
	if err != nil {
		return err
	}
	if runs[runID] {
		return nil
	}
	b, err := os.ReadFile(s.runsPath(jobID))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("files store: %w", err)
	}
	if err := writeAtomic(s.runsPath(jobID), append(b, runID+"\n"...)); err != nil {
		return fmt.Errorf("files store: recording the run: %w", err)
	}
	return nil
}

// jobRuns reads the runs a job committed.
func (s *Store) jobRuns(jobID string) (map[string]bool, error) {
	b, err := os.ReadFile(s.runsPath(jobID))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("files store: reading the runs of job %s: %w", jobID, err)
	}
	runs := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			runs[l] = true
		}
	}
	return runs, nil
}

// Recover rolls forward a commit of jobID that has its manifest, and
// removes the staging directories of runs that never reached their commit.
func (s *Store) Recover(_ context.Context, jobID string) error {
	dir := filepath.Join(s.root, "_staging", jobID)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("files store: reading %s: %w", dir, err)
	}
	for _, e := range entries {
		runDir := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(filepath.Join(runDir, manifestName))
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.RemoveAll(runDir); err != nil {
				if !errors.Is(err, syscall.ENOTEMPTY) {
					return fmt.Errorf("files store: removing what failed run %s staged: %w", e.Name(), err)
				}
				// Something still writes there (a cancelled run's last
				// bundles, in this process): its files are never renamed
				// into a table; a later run removes them.
				slog.Warn("files store: a failed run's staging area is still being written; a later run removes it", "run", e.Name(), "dir", runDir)
			}
			continue
		}
		var m manifest
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			return fmt.Errorf("files store: the commit manifest of run %s is unreadable (%v): remove %s to discard that run", e.Name(), err, runDir)
		}
		if cur, err := s.ReadCheckpoint(context.Background(), jobID); err == nil && cur != nil && cur.StartedAt.After(m.Checkpoint.StartedAt) {
			m.Checkpoint = *cur // a later run already committed: keep its checkpoint
		}
		if err := s.finish(m); err != nil {
			return fmt.Errorf("finishing the interrupted commit of run %s: %w", e.Name(), err)
		}
	}
	return nil
}

// NewWriter stages the records of one bundle under the run's staging directory.
func (s *Store) NewWriter(_ context.Context, run store.Run) (store.Writer, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return &writer{s: s, dir: s.stagingDir(run.JobID, run.RunID), id: hex.EncodeToString(rnd[:]), files: map[string]*partFile{}}, nil
}

type partFile struct {
	f       *os.File
	w       *bufio.Writer
	ref     string
	records int64
	bytes   int64
}

type writer struct {
	s     *Store
	dir   string
	id    string
	files map[string]*partFile
}

func (w *writer) Write(table string, rec []byte) error {
	pf, ok := w.files[table]
	if !ok {
		dir := filepath.Join(w.dir, table)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("files store: %w", err)
		}
		path := filepath.Join(dir, w.id+".part")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("files store: %w", err)
		}
		rel, _ := filepath.Rel(w.s.root, path)
		pf = &partFile{f: f, w: bufio.NewWriterSize(f, 256<<10), ref: rel}
		w.files[table] = pf
	}
	if len(rec) == 0 || strings.ContainsAny(string(rec), "\n\r") {
		return fmt.Errorf("files store: a %s record is empty or spans several lines", table)
	}
	pf.w.Write(rec)
	if err := pf.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("files store: writing %s: %w", pf.ref, err)
	}
	pf.records++
	pf.bytes += int64(len(rec)) + 1
	return nil
}

func (w *writer) Close(context.Context) ([]store.Part, error) {
	var parts []store.Part
	var firstErr error
	for table, pf := range w.files {
		err := pf.w.Flush()
		if err == nil {
			err = pf.f.Sync()
		}
		if cerr := pf.f.Close(); err == nil {
			err = cerr
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("files store: closing %s: %w", pf.ref, err)
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
		pf.f.Close()
		os.Remove(pf.f.Name())
	}
	w.files = map[string]*partFile{}
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

// StoredKeys reads every committed file of table written by a run of jobID
// (see the job's .runs list) and the job's rows of the deletions table.
// Files written before the store kept that list are not read.
func (s *Store) StoredKeys(_ context.Context, jobID, table string, key, scope []string, fn func(store.StoredKey) error) error {
	runs, err := s.jobRuns(jobID)
	if err != nil {
		return err
	}
	type latest struct {
		values []string
		date   string
	}
	objs := map[string]*latest{}
	fields := append(append([]string(nil), key...), scope...)
	err = s.scanJobFiles(table, runs, func(path string, rec map[string]json.RawMessage) error {
		vals := make([]string, len(fields))
		for i, f := range fields {
			v, ok := store.KeyValue(rec, f)
			if !ok && i < len(key) {
				return fmt.Errorf("files store: a record of %s in %s has no %q", table, path, f)
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
	err = s.scanJobFiles(store.DeletionsTable, runs, func(path string, rec map[string]json.RawMessage) error {
		var row struct {
			Table   string `json:"table"`
			ID      string `json:"id"`
			Deleted bool   `json:"deleted"`
			JobID   string `json:"job_id"`
		}
		b, _ := json.Marshal(rec)
		if err := json.Unmarshal(b, &row); err != nil {
			return fmt.Errorf("files store: a row of %s in %s: %w", store.DeletionsTable, path, err)
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
func (s *Store) scanJobFiles(table string, runs map[string]bool, fn func(path string, rec map[string]json.RawMessage) error) error {
	dir := filepath.Join(s.root, table)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("files store: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		run, _, ok := cutLast(strings.TrimSuffix(name, ".ndjson"), "-")
		if !strings.HasSuffix(name, ".ndjson") || !ok || !runs[run] {
			continue
		}
		path := filepath.Join(dir, name)
		if err := scanFile(path, fn); err != nil {
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

func scanFile(path string, fn func(path string, rec map[string]json.RawMessage) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("files store: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	for line := 1; sc.Scan(); line++ {
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec == nil {
			return fmt.Errorf("files store: line %d of %s is not a JSON object", line, path)
		}
		if err := fn(path, rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("files store: reading %s: %w", path, err)
	}
	return nil
}
