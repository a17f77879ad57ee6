package detector

import "strings"

// The value table (values) interns every string the state refers to by id:
// key parts, principals, agents and attribution values. Key parts and
// principals stay referred to for as long as their series and accounts
// exist, but attribution values churn: an assumed-role session's ARN names
// the session (an EC2 instance, an ECS task, a pipeline run, a botocore
// session), so a service that runs for months meets millions of them, and
// user agents change with every SDK release, while a series' sketches
// remember five of each. Without compaction, the table, its map and every
// snapshot would grow by each of them for good.

// minCompactValues is the table size below which it is not compacted: a
// few thousand strings cost less than a pass over the state.
const minCompactValues = 4096

// compactValues drops the values no state refers to when they are at least
// half of the table, and renumbers the others in their order: every order
// between ids (the leader's tie-break among principals, the sorted lists
// of a snapshot) stays as it was, so no result changes. It is called
// hourly; the pass over the state that finds the values in use (about
// 250 ns a series) runs only once the table holds minCompactValues and
// twice the values in use at the last pass, so its cost is a constant per
// value interned.
//
// An Engine restored from a snapshot has no count of the last pass and
// makes one at its first hour: it may compact at another hour than the
// original, and its ids differ from then on, but no result does.
func (e *Engine) compactValues() {
	strs := e.vals.strs
	if from := e.vals.compactFrom; from < 0 || len(strs) < max(from, 2*e.vals.inUse) {
		return
	}
	live := make([]bool, len(strs))
	live[0] = true
	n := 1
	e.rewriteIDs(func(id uint32) uint32 {
		if !live[id] {
			live[id] = true
			n++
		}
		return id
	})
	e.vals.inUse = n
	if 2*n > len(strs) {
		return
	}
	remap := make([]uint32, len(strs))
	kept := make([]string, 1, n)
	ids := make(map[string]uint32, n)
	for id, s := range strs {
		if id == 0 || !live[id] {
			continue
		}
		// A copy: a value cut from a record or from a restored
		// snapshot's table would keep all of it alive.
		s = strings.Clone(s)
		remap[id] = uint32(len(kept))
		ids[s] = uint32(len(kept))
		kept = append(kept, s)
	}
	e.rewriteIDs(func(id uint32) uint32 { return remap[id] })
	e.vals.strs, e.vals.ids = kept, ids
}

// rewriteIDs calls f with every id the state refers to and puts what f
// returns in its place. It must reach every id that a snapshot writes
// (snapshot_state.go): an id it missed would name another value after a
// compaction. TestValueCompactionChangesNoResult holds the two together,
// and TestSnapshotCoversEveryField points new fields here.
func (e *Engine) rewriteIDs(f func(uint32) uint32) {
	key := func(k *keyID) {
		k.account, k.region, k.source, k.name, k.code = f(k.account), f(k.region), f(k.source), f(k.name), f(k.code)
	}
	ser := func(s *series) {
		key(&s.id)
		for i := range s.attrs.base {
			for j := range s.attrs.base[i].e {
				en := &s.attrs.base[i].e[j]
				en.value = f(en.value)
			}
		}
		if h := s.attrs.hot; h != nil {
			for i := range h.vals {
				h.vals[i] = rekey(h.vals[i], f)
			}
		}
	}
	for _, s := range e.callList {
		ser(&s.series)
	}
	for _, s := range e.errList {
		ser(&s.series)
	}
	for _, a := range e.accounts {
		a.principals = rekey(a.principals, f)
	}
	for _, r := range e.regList {
		for _, p := range r.actors {
			p.agent = f(p.agent)
		}
		r.actors = rekey(r.actors, f)
	}
}

// rekey returns m with its keys mapped by f: m itself when f changes none.
func rekey[V any](m map[uint32]V, f func(uint32) uint32) map[uint32]V {
	same := true
	for k := range m {
		if f(k) != k {
			same = false
			break
		}
	}
	if same {
		return m
	}
	out := make(map[uint32]V, len(m))
	for k, v := range m {
		out[f(k)] = v
	}
	return out
}
