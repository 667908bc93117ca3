//go:build !unix

package api

import "os"

// lockFile: no advisory locks here; the budget is not shared (each
// process paces alone).
func lockFile(*os.File) error { return errNoLock }

func unlockFile(*os.File) {}
