package detector

import "github.com/cespare/xxhash/v2"

// callIndex finds call-rate series by a 64-bit hash of their key. A map
// keyed by the four strings costs about 80 bytes a series; by hash, about
// 20. The series keeps its own key, which settles the (astronomically rare)
// collision: a colliding key goes to an exact map.
type callIndex struct {
	byHash map[uint64]*callSeries
	exact  map[apiKey]*callSeries
}

func newCallIndex() callIndex {
	return callIndex{byHash: map[uint64]*callSeries{}, exact: map[apiKey]*callSeries{}}
}

// get returns the series of k; strs is the Engine's string table.
func (x *callIndex) get(k apiKey, strs []string) *callSeries {
	if s := x.byHash[hashAPI(k)]; s != nil && s.is(k, strs) {
		return s
	}
	return x.exact[k]
}

func (x *callIndex) put(k apiKey, s *callSeries) {
	h := hashAPI(k)
	if _, taken := x.byHash[h]; taken {
		x.exact[k] = s
		return
	}
	x.byHash[h] = s
}

func (x *callIndex) len() int { return len(x.byHash) + len(x.exact) }

func (s *callSeries) is(k apiKey, strs []string) bool {
	return strs[s.id.account] == k.account && strs[s.id.region] == k.region &&
		strs[s.id.source] == k.source && strs[s.id.name] == k.name
}

// hashAPI hashes the four parts with a separator no part contains,
// without allocating for keys up to 256 bytes.
func hashAPI(k apiKey) uint64 {
	var buf [256]byte
	b := buf[:0]
	for _, p := range [4]string{k.account, k.region, k.source, k.name} {
		b = append(b, p...)
		b = append(b, 0)
	}
	return xxhash.Sum64(b)
}
