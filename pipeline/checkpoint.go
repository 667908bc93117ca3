package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// ShowCheckpoint reads the checkpoint of CHECKPOINT_JOB_ID (nil: none).
func ShowCheckpoint(ctx context.Context, c Config) (*store.Checkpoint, error) {
	st, err := openStore(ctx, c)
	if err != nil {
		return nil, err
	}
	return st.ReadCheckpoint(ctx, c.CheckpointJobID)
}

// ResetCheckpoint makes the next run of CHECKPOINT_JOB_ID read from to (a
// zero to: a backfill, as if the job had never run) and returns the
// checkpoint it replaced. Stored records stay.
func ResetCheckpoint(ctx context.Context, c Config, to time.Time) (*store.Checkpoint, error) {
	if !to.IsZero() && to.After(time.Now().Add(time.Minute)) {
		return nil, &ConfigError{Problems: []string{fmt.Sprintf("--to %s is in the future: give a past time, or none for a full backfill", to.Format(time.RFC3339))}}
	}
	st, err := openStore(ctx, c)
	if err != nil {
		return nil, err
	}
	r, ok := st.(store.CheckpointResetter)
	if !ok {
		return nil, fmt.Errorf("the %s store cannot reset a checkpoint", c.Datastore)
	}
	old, err := st.ReadCheckpoint(ctx, c.CheckpointJobID)
	if err != nil {
		// A corrupted checkpoint is what a reset repairs.
		old = nil
	}
	if err := r.ResetCheckpoint(ctx, c.CheckpointJobID, to); err != nil {
		return nil, err
	}
	return old, nil
}

func openStore(ctx context.Context, c Config) (store.Store, error) {
	spec, err := StoreSpec(c)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, spec)
}
