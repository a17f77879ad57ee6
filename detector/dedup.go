package detector

import "github.com/cespare/xxhash/v2"

// dedup remembers eventIDs for at least window minutes of event time, in two
// generations of hashes: a lookup checks both, and the older generation is
// dropped whole when the newer one is window minutes old. Memory is bounded
// by the events of two windows; a 64-bit hash makes collisions negligible
// (about 1 in 10^10 for a billion IDs per window).
type dedup struct {
	window   int64
	cur, old map[uint64]struct{}
	since    int64 // minute the current generation started
}

func newDedup(windowMinutes int64) *dedup {
	return &dedup{window: windowMinutes, cur: map[uint64]struct{}{}, old: map[uint64]struct{}{}}
}

// seen reports whether id was seen before, and remembers it. now is the
// engine's clock minute.
func (d *dedup) seen(id string, now int64) bool {
	if d.window <= 0 || id == "" {
		return false
	}
	if now-d.since >= d.window {
		d.old, d.cur = d.cur, make(map[uint64]struct{}, len(d.cur))
		d.since = now
	}
	h := xxhash.Sum64String(id)
	if _, ok := d.cur[h]; ok {
		return true
	}
	if _, ok := d.old[h]; ok {
		return true
	}
	d.cur[h] = struct{}{}
	return false
}
