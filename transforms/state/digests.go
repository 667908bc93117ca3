package state

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
)

// Digests are what the job last wrote of each object: for each object (a
// table and the values of its key), a digest of its content. A run writes
// an object only when its content differs from the digest, so that the
// store gets a new row exactly when something changed (a record read again
// by a snapshot, a sweep, a window's overlap is not written twice). They
// are kept apart from the State document, in the store (16 bytes an
// object: 16 MB for a million), committed with the checkpoint that names
// them (State.Digests).
type Digests struct {
	keys, sums []uint64 // sorted by key
}

// Pair is one object's key digest and content digest.
type Pair struct{ Key, Sum uint64 }

// KeyDigest identifies an object: its table and its key's values
// (store.KeyString).
func KeyDigest(table, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return h.Sum64()
}

// SumDigest digests an object's content: the API's object as written and
// the parent keys added to it.
func SumDigest(data, parent []byte) uint64 {
	h := fnv.New64a()
	h.Write(data)
	h.Write([]byte{0})
	h.Write(parent)
	return h.Sum64()
}

// Len is the number of objects.
func (d *Digests) Len() int {
	if d == nil {
		return 0
	}
	return len(d.keys)
}

// Unchanged reports whether the object of key was last written with the
// content of sum.
func (d *Digests) Unchanged(key, sum uint64) bool {
	if d == nil {
		return false
	}
	i, ok := slices.BinarySearch(d.keys, key)
	return ok && d.sums[i] == sum
}

// With returns the digests with the pairs of a run (written after them:
// they win; of one key's pairs, the last). It sorts pairs in place.
func (d *Digests) With(pairs []Pair) *Digests {
	p := pairs
	slices.SortStableFunc(p, func(a, b Pair) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	out := &Digests{keys: make([]uint64, 0, d.Len()+len(p)), sums: make([]uint64, 0, d.Len()+len(p))}
	i, j := 0, 0
	add := func(k, s uint64) {
		if n := len(out.keys); n > 0 && out.keys[n-1] == k {
			out.sums[n-1] = s // the last of a run's pairs of one key
			return
		}
		out.keys, out.sums = append(out.keys, k), append(out.sums, s)
	}
	for i < d.Len() || j < len(p) {
		switch {
		case j == len(p) || (i < d.Len() && d.keys[i] < p[j].Key):
			add(d.keys[i], d.sums[i])
			i++
		case i == d.Len() || p[j].Key < d.keys[i]:
			add(p[j].Key, p[j].Sum)
			j++
		default: // the same key: the run's pair
			i++
		}
	}
	return out
}

// AppendPair appends a pair as Staged carries it: 16 bytes, little-endian.
func AppendPair(b []byte, key, sum uint64) []byte {
	return binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(b, key), sum)
}

// AppendPairs appends to pairs those that AppendPair wrote in b.
func AppendPairs(pairs []Pair, b []byte) []Pair {
	for o := 0; o+16 <= len(b); o += 16 {
		pairs = append(pairs, Pair{Key: binary.LittleEndian.Uint64(b[o:]), Sum: binary.LittleEndian.Uint64(b[o+8:])})
	}
	return pairs
}

// digestsMagic starts the encoding of Digests (version 1).
var digestsMagic = []byte("GDED\x01")

// Encode renders the digests for the store.
func (d *Digests) Encode() []byte {
	n := d.Len()
	b := make([]byte, len(digestsMagic)+8+16*n)
	copy(b, digestsMagic)
	binary.LittleEndian.PutUint64(b[len(digestsMagic):], uint64(n))
	o := len(digestsMagic) + 8
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint64(b[o:], d.keys[i])
		binary.LittleEndian.PutUint64(b[o+8:], d.sums[i])
		o += 16
	}
	return b
}

// DecodeDigests reads what Encode wrote (nil or empty: none).
func DecodeDigests(b []byte) (*Digests, error) {
	if len(b) == 0 {
		return &Digests{}, nil
	}
	m := len(digestsMagic)
	if len(b) < m+8 || string(b[:m]) != string(digestsMagic) {
		return nil, fmt.Errorf("the job's record digests are not in a format this exporter reads")
	}
	n := binary.LittleEndian.Uint64(b[m:])
	if uint64(len(b)-m-8) != 16*n {
		return nil, fmt.Errorf("the job's record digests are truncated (%d bytes for %d objects)", len(b), n)
	}
	d := &Digests{keys: make([]uint64, n), sums: make([]uint64, n)}
	o := m + 8
	for i := range d.keys {
		d.keys[i] = binary.LittleEndian.Uint64(b[o:])
		d.sums[i] = binary.LittleEndian.Uint64(b[o+8:])
		if i > 0 && d.keys[i] <= d.keys[i-1] {
			return nil, fmt.Errorf("the job's record digests are not sorted")
		}
		o += 16
	}
	return d, nil
}
