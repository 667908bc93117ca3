package gitlabsim

import "sync"

// listCache keeps the lists of recent requests (the scope's objects,
// filtered and ordered by the request's parameters), so that paging
// through a large stream does not list the whole collection for every
// page. Entries are valid for one data version (any change of the data
// empties the cache).
type listCache struct {
	mu      sync.Mutex
	version uint64
	m       map[string]listed
}

const maxCachedLists = 256

// get returns the cached list of key at version, building it if needed.
// The caller holds the data's read lock, so build sees that version.
func (c *listCache) get(version uint64, key string, build func() listed) listed {
	c.mu.Lock()
	if c.version != version || c.m == nil {
		c.version, c.m = version, map[string]listed{}
	}
	if l, ok := c.m[key]; ok {
		c.mu.Unlock()
		return l
	}
	c.mu.Unlock()
	l := build()
	c.mu.Lock()
	if c.version == version {
		if len(c.m) >= maxCachedLists {
			c.m = map[string]listed{}
		}
		c.m[key] = l
	}
	c.mu.Unlock()
	return l
}
