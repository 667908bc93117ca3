package gitlabsim

import "sync"

// listCache keeps the filtered, sorted record indexes of recent list
// queries, so that paging through a large stream does not filter and sort
// the whole collection for every page. Entries are valid for one data
// version (any change of the data empties the cache).
type listCache struct {
	mu      sync.Mutex
	version uint64
	m       map[string][]int32
}

const maxCachedLists = 256

// get returns the cached indexes of key at version, building them if needed.
// The caller holds the data's read lock, so build sees that version.
func (c *listCache) get(version uint64, key string, build func() []int32) []int32 {
	c.mu.Lock()
	if c.version != version || c.m == nil {
		c.version, c.m = version, map[string][]int32{}
	}
	if idx, ok := c.m[key]; ok {
		c.mu.Unlock()
		return idx
	}
	c.mu.Unlock()
	idx := build()
	c.mu.Lock()
	if c.version == version {
		if len(c.m) >= maxCachedLists {
			c.m = map[string][]int32{}
		}
		c.m[key] = idx
	}
	c.mu.Unlock()
	return idx
}
