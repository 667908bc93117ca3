package state

import "testing"

func TestDigestsMergeEncodeAndDecode(t *testing.T) {
	a, b, c := KeyDigest("issues", "1"), KeyDigest("issues", "2"), KeyDigest("notes", "1")
	if a == c || a == b {
		t.Fatal("key digests collide")
	}
	d := (&Digests{}).With([]Pair{{a, 10}, {b, 20}})
	d = d.With([]Pair{{b, 21}, {c, 30}, {c, 31}}) // a later run; its last pair of a key wins
	for _, tc := range []struct {
		key, sum uint64
		want     bool
	}{{a, 10, true}, {b, 20, false}, {b, 21, true}, {c, 31, true}, {c, 30, false}, {KeyDigest("x", "y"), 1, false}} {
		if got := d.Unchanged(tc.key, tc.sum); got != tc.want {
			t.Errorf("Unchanged(%d, %d) = %v", tc.key, tc.sum, got)
		}
	}
	back, err := DecodeDigests(d.Encode())
	if err != nil || back.Len() != 3 || !back.Unchanged(c, 31) {
		t.Fatalf("round trip: %v, %d", err, back.Len())
	}
	if _, err := DecodeDigests([]byte("nonsense")); err == nil {
		t.Error("garbage decoded")
	}
	if _, err := DecodeDigests(d.Encode()[:30]); err == nil {
		t.Error("a truncated encoding decoded")
	}
	var none *Digests
	if none.Unchanged(a, 10) || none.Len() != 0 {
		t.Error("no digests: everything is new")
	}
	if SumDigest([]byte(`{"a":1}`), nil) == SumDigest([]byte(`{"a":1}`), []byte(`{"p":1}`)) {
		t.Error("the parent keys are not in the content digest")
	}
}
