package detector

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// The sections of a version 3 snapshot (version 1 lacks the rhythms of
// call series and the gap flag of series, versions 1 and 2 the agents of
// principals and the excused bursts of series), in order.
// docs/formats/snapshot.md lists every field; keep the two in step. Lists
// are written in the Engine's own order (regList, callList, errList fix
// the order Insights of one minute are produced in, and the callIndex's
// collision map depends on insertion order); maps are written sorted by
// key, never in map order, so the bytes are deterministic.
//
// Not written, because they are caches or hooks, not state: region.slotAt
// and slotMemo (recomputed from the time zone on use), Engine.byAccount
// (rebuilt from the regions), Engine.traces (debugging hooks the caller
// sets again), Engine.dirtySet (the set of dirty, rebuilt from it), out
// (empty when quiescent), Engine.tz, lateness, warmUp and dedup.window
// (derived from the Config).

// Lower bounds of the encoded size of one element, against which counts
// are checked before anything is allocated for them.
const (
	minStringSize    = 1  // its length
	minHashSize      = 8  // a dedup hash
	minAccountSize   = 3  // name, first minute, principal count
	minPrincipalSize = 2  // id delta, first minute
	minRegionSize    = 80 // ten float64s, besides the rest
	minActorSize     = 32 // id delta, counts (23+), peak, last (agent: v3)
	minAPISize       = 32 // four names, counts (23+), total
	minCallSize      = 64 // four ids, flags, counts (23+), model (60+)
	minErrorSize     = 32 // five ids, api, flags, counts (23+), model
	minHotSize       = 9  // id delta, count
)

func (e *Engine) writeSections(w *snapWriter) error {
	novel := 0
	for _, s := range [...]struct {
		id sectionID
		fn func(*snapWriter) error
	}{
		{secConfig, e.writeConfig}, {secEngine, e.writeEngine}, {secStrings, e.writeStrings},
		{secDedup, e.writeDedup}, {secAccounts, e.writeAccounts}, {secRegions, e.writeRegions},
		{secAPIs, e.writeAPIs},
		{secCalls, func(w *snapWriter) error { return e.writeCalls(w, &novel) }},
		{secErrors, func(w *snapWriter) error { return e.writeErrors(w, &novel) }},
		{secDirty, e.writeDirty},
	} {
		if err := w.section(s.id, func() error { return s.fn(w) }); err != nil {
			return err
		}
	}
	if novel != len(e.novel) {
		return fmt.Errorf("BUG: snapshot: %d of %d novelty rings belong to no listed series", len(e.novel)-novel, len(e.novel))
	}
	return nil
}

// engine: clock and counters.

func (e *Engine) writeEngine(w *snapWriter) error {
	for _, v := range [...]int64{e.maxMinute, e.minMinute, e.clock, e.closed} {
		w.putVarint(v)
	}
	st := &e.stats
	w.putUvarint(uint64(len(st.Events)))
	for _, v := range st.Events {
		w.putVarint(v)
	}
	for _, v := range st.Started {
		w.putVarint(v)
	}
	for _, v := range st.Ended {
		w.putVarint(v)
	}
	w.putVarint(st.ClosedMinutes)
	w.putVarint(st.GapMinutes)
	return nil
}

func (e *Engine) readEngine(r *snapReader) error {
	for _, p := range [...]*int64{&e.maxMinute, &e.minMinute, &e.clock, &e.closed} {
		*p = r.varint()
	}
	st := &e.stats
	if n := r.uvarint(); r.err == nil && n != uint64(len(st.Events)) {
		r.fail("%d event results, want %d", n, len(st.Events))
	}
	for i := range st.Events {
		st.Events[i] = r.varint()
	}
	for i := range st.Started {
		st.Started[i] = r.varint()
	}
	for i := range st.Ended {
		st.Ended[i] = r.varint()
	}
	st.ClosedMinutes = r.varint()
	st.GapMinutes = r.varint()
	return r.err
}

// strings: the value table, in id order. Id 0 is always "" and not written.

func (e *Engine) writeStrings(w *snapWriter) error {
	strs := e.vals.strs
	if len(strs) == 0 || strs[0] != "" {
		return fmt.Errorf("BUG: snapshot: value table does not start with the empty string")
	}
	w.putUvarint(uint64(len(strs) - 1))
	for _, s := range strs[1:] {
		w.putString(s)
	}
	return nil
}

func (e *Engine) readStrings(r *snapReader) error {
	n := r.count(minStringSize)
	if n >= math.MaxUint32 {
		r.fail("%d strings: ids are 32 bits", n)
	}
	if r.err != nil {
		return r.err
	}
	// One string for the whole table; the values are substrings of it.
	base := r.pos
	all := string(r.p[base:])
	strs := make([]string, 1, n+1)
	ids := make(map[string]uint32, n)
	for i := range n {
		b := r.bytes()
		if r.err != nil {
			return r.err
		}
		off := r.pos - len(b) - base
		s := all[off : off+len(b)]
		if _, dup := ids[s]; dup {
			r.fail("string %d (%q) is already string %d", i+1, s, ids[s])
			return r.err
		}
		ids[s] = uint32(i + 1)
		strs = append(strs, s)
	}
	e.vals.strs, e.vals.ids = strs, ids
	return nil
}

// dedup: the generation start, then the current and the old generation's
// hashes, ascending.

func (e *Engine) writeDedup(w *snapWriter) error {
	d := e.dedup
	w.putVarint(d.since)
	for _, gen := range [...]map[uint64]struct{}{d.cur, d.old} {
		w.putUvarint(uint64(len(gen)))
		for _, h := range slices.Sorted(maps.Keys(gen)) {
			w.b = binary.LittleEndian.AppendUint64(w.b, h)
		}
	}
	return nil
}

func (e *Engine) readDedup(r *snapReader) error {
	d := e.dedup
	d.since = r.varint()
	for _, gen := range [...]*map[uint64]struct{}{&d.cur, &d.old} {
		n := r.count(minHashSize)
		m := make(map[uint64]struct{}, n)
		var prev uint64
		for i := range n {
			b := r.take(8)
			if b == nil {
				return r.err
			}
			h := binary.LittleEndian.Uint64(b)
			if i > 0 && h <= prev {
				r.fail("dedup hashes not strictly ascending")
				return r.err
			}
			m[h], prev = struct{}{}, h
		}
		if d.window > 0 {
			*gen = m
		} // else deduplication is now off and the hashes are dropped
	}
	return r.err
}

// accounts: by name; each with its principals by id.

func (e *Engine) writeAccounts(w *snapWriter) error {
	w.putUvarint(uint64(len(e.accounts)))
	for _, name := range slices.Sorted(maps.Keys(e.accounts)) {
		a := e.accounts[name]
		w.putString(name)
		w.putVarint(a.first)
		w.putUvarint(uint64(len(a.principals)))
		prev := uint32(0)
		for _, id := range slices.Sorted(maps.Keys(a.principals)) {
			w.putUvarint(uint64(id - prev))
			w.putVarint(int64(a.principals[id]))
			prev = id
		}
	}
	return nil
}

func (e *Engine) readAccounts(r *snapReader) error {
	n, nstr := r.count(minAccountSize), len(e.vals.strs)
	prevName := ""
	for i := range n {
		name := r.string()
		if r.err == nil && i > 0 && name <= prevName {
			r.fail("account %q after %q: not in ascending order", name, prevName)
		}
		prevName = name
		a := &account{first: r.varint()}
		np := r.count(minPrincipalSize)
		a.principals = make(map[uint32]int32, np)
		var prev uint64
		for j := range np {
			id := r.nextID(&prev, j == 0, nstr)
			a.principals[id] = r.int32()
		}
		if r.err != nil {
			return r.err
		}
		e.accounts[name] = a
	}
	return r.err
}

// regions: in regList order.

func (e *Engine) writeRegions(w *snapWriter) error {
	w.putUvarint(uint64(len(e.regList)))
	for _, reg := range e.regList {
		// Only the two pooled priors are the region's own.
		c := reg.cfg
		c.DispersionPrior, c.DispersionPriorBlock = e.cfg.Seasonal.DispersionPrior, e.cfg.Seasonal.DispersionPriorBlock
		if c != e.cfg.Seasonal {
			return fmt.Errorf("BUG: snapshot: region %s/%s has model settings of its own", reg.account, reg.name)
		}
		w.putString(reg.account)
		w.putString(reg.name)
		w.putString(reg.loc.String())
		w.putVarint(reg.first)
		if err := w.putNested(&reg.total); err != nil {
			return err
		}
		if err := w.putNested(&reg.model); err != nil {
			return err
		}
		for _, g := range reg.gaps {
			w.putUvarint(g)
		}
		w.putVarint(int64(reg.gapRun))
		w.putVarint(reg.lastGap)
		w.putFloat64(reg.cfg.DispersionPrior)
		w.putFloat64(reg.cfg.DispersionPriorBlock)
		for _, m := range [...]*moments{&reg.pool.minute, &reg.pool.block} {
			w.putFloat64(m.m1)
			w.putFloat64(m.m2)
			w.putFloat64(m.n)
		}
		w.putFloat64(reg.writes)
		w.putFloat64(reg.novelWrites)
		w.putUvarint(uint64(len(reg.actors)))
		prev := uint32(0)
		for _, id := range slices.Sorted(maps.Keys(reg.actors)) {
			p := reg.actors[id]
			w.putUvarint(uint64(id - prev))
			if err := w.putNested(&p.counts); err != nil {
				return err
			}
			w.putFloat64(p.peak)
			w.putVarint(p.last)
			w.putUvarint(uint64(p.agent))
			prev = id
		}
	}
	return nil
}

func (e *Engine) readRegions(r *snapReader) error {
	n, nstr := r.count(minRegionSize), len(e.vals.strs)
	e.regList = make([]*region, 0, n)
	e.byAccount = map[string][]*region{}
	for range n {
		acct, name, zone := r.string(), r.string(), r.string()
		if r.err != nil {
			return r.err
		}
		k := regionKey{acct, name}
		if e.regions[k] != nil {
			r.fail("region %s/%s listed twice", acct, name)
			return r.err
		}
		loc := e.tz[acct]
		if loc == nil {
			loc = time.UTC
		}
		if zone != loc.String() {
			return fmt.Errorf("%w: detector.time_zones[%s] is %q, but the state of %s/%s was learned in %q; to change an account's zone, drop its state",
				ErrSnapshotConfig, acct, loc.String(), acct, name, zone)
		}
		reg := &region{account: acct, name: name, loc: loc, cfg: e.cfg.Seasonal}
		reg.first = r.varint()
		r.nested("region total", &reg.total)
		r.nested("region model", &reg.model)
		for i := range reg.gaps {
			reg.gaps[i] = r.uvarint()
		}
		reg.gapRun = r.int()
		reg.lastGap = r.varint()
		reg.cfg.DispersionPrior = r.float64()
		reg.cfg.DispersionPriorBlock = r.float64()
		for _, m := range [...]*moments{&reg.pool.minute, &reg.pool.block} {
			m.m1, m.m2, m.n = r.float64(), r.float64(), r.float64()
		}
		reg.writes = r.float64()
		reg.novelWrites = r.float64()
		if na := r.count(minActorSize); na > 0 {
			reg.actors = make(map[uint32]*principalSeries, na)
			var prev uint64
			for j := range na {
				id := r.nextID(&prev, j == 0, nstr)
				p := &principalSeries{}
				r.nested("principal counts", &p.counts)
				p.peak = r.float64()
				p.last = r.varint()
				if r.version >= 3 {
					p.agent = r.id(nstr)
				}
				reg.actors[id] = p
			}
		}
		if r.err != nil {
			return r.err
		}
		e.regions[k] = reg
		e.regList = append(e.regList, reg)
		e.byAccount[acct] = append(e.byAccount[acct], reg)
	}
	return r.err
}

// apis: the count-only series of read APIs, by key.

func compareAPI(a, b apiKey) int {
	return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.region, b.region),
		cmp.Compare(a.source, b.source), cmp.Compare(a.name, b.name))
}

func (e *Engine) writeAPIs(w *snapWriter) error {
	w.putUvarint(uint64(len(e.apis)))
	for _, k := range slices.SortedFunc(maps.Keys(e.apis), compareAPI) {
		api := e.apis[k]
		for _, s := range [...]string{k.account, k.region, k.source, k.name} {
			w.putString(s)
		}
		if err := w.putNested(&api.counts); err != nil {
			return err
		}
		w.putFloat64(api.total)
	}
	return nil
}

func (e *Engine) readAPIs(r *snapReader) error {
	n := r.count(minAPISize)
	var prev apiKey
	for i := range n {
		k := apiKey{r.string(), r.string(), r.string(), r.string()}
		if r.err == nil && i > 0 && compareAPI(prev, k) >= 0 {
			r.fail("api %v after %v: not in ascending order", k, prev)
		}
		prev = k
		api := &apiSeries{}
		r.nested("api counts", &api.counts)
		api.total = r.float64()
		if r.err != nil {
			return r.err
		}
		e.apis[k] = api
	}
	return r.err
}

// calls: the call-rate series, in callList order.

func (e *Engine) writeCalls(w *snapWriter, novel *int) error {
	w.putUvarint(uint64(len(e.callList)))
	for _, s := range e.callList {
		if s.id.typ != APICallRate || s.id.code != 0 || s.kind != s {
			return fmt.Errorf("BUG: snapshot: call series %s is not one", e.key(s.id))
		}
		for _, id := range [...]uint32{s.id.account, s.id.region, s.id.source, s.id.name} {
			w.putUvarint(uint64(id))
		}
		if err := e.writeSeries(w, &s.series, novel); err != nil {
			return err
		}
		if err := w.putNested(&s.model); err != nil {
			return err
		}
		rh := &s.rhythm
		w.putVarint(int64(rh.last))
		for _, b := range [...]byte{rh.period, rh.runs, rh.missed, rh.flags} {
			w.putByte(b)
		}
	}
	return nil
}

func (e *Engine) readCalls(r *snapReader) error {
	n, nstr := r.count(minCallSize), len(e.vals.strs)
	e.callList = make([]*callSeries, 0, n)
	for range n {
		s := &callSeries{}
		s.id = keyID{account: r.id(nstr), region: r.id(nstr), source: r.id(nstr), name: r.id(nstr), typ: APICallRate}
		k := e.apiKeyOf(s.id)
		if r.err == nil && e.calls.get(k, e.vals.strs) != nil {
			r.fail("call series %s listed twice", e.key(s.id))
		}
		s.reg = e.seriesRegion(r, s.id)
		s.kind = s
		e.readSeries(r, &s.series)
		r.nested("call model", &s.model)
		if r.version >= 2 {
			e.readRhythm(r, s)
		}
		if r.err != nil {
			return r.err
		}
		e.calls.put(k, s)
		e.callList = append(e.callList, s)
		s.reg.calls = append(s.reg.calls, s)
	}
	return r.err
}

func (e *Engine) readRhythm(r *snapReader, s *callSeries) {
	rh := &s.rhythm
	rh.last = r.int32()
	rh.period, rh.runs, rh.missed, rh.flags = r.byte(), r.byte(), r.byte(), r.byte()
	switch {
	case r.err != nil:
	case rh.period != 0 && (rh.period < minRhythmPeriod || rh.period > maxRhythmPeriod):
		r.fail("series %s: rhythm period %d outside [%d, %d]", e.key(s.id), rh.period, minRhythmPeriod, maxRhythmPeriod)
	case rh.runs >= rhythmMaxRuns:
		r.fail("series %s: rhythm runs %d, at most %d", e.key(s.id), rh.runs, rhythmMaxRuns-1)
	case rh.flags&^rhythmFlags != 0 || rh.flags&(rhythmLong|rhythmShort) == rhythmLong|rhythmShort ||
		rh.flags&rhythmSlow == rhythmSlow:
		r.fail("series %s: rhythm flags %#x", e.key(s.id), rh.flags)
	case rh.last < 0:
		r.fail("series %s: rhythm last run %d", e.key(s.id), rh.last)
	}
}

// errors: the error-rate series, in errList order.

// The series whose calls are an error series' denominator: the call-rate
// series of its API, or the API's count-only series.
const (
	errAPICalls    = 1
	errAPIReadOnly = 2
)

func (e *Engine) writeErrors(w *snapWriter, novel *int) error {
	w.putUvarint(uint64(len(e.errList)))
	for _, s := range e.errList {
		if s.id.typ != APIErrorRate || s.kind != s {
			return fmt.Errorf("BUG: snapshot: error series %s is not one", e.key(s.id))
		}
		for _, id := range [...]uint32{s.id.account, s.id.region, s.id.source, s.id.name, s.id.code} {
			w.putUvarint(uint64(id))
		}
		k := e.apiKeyOf(s.id)
		cs, api := e.calls.get(k, e.vals.strs), e.apis[k]
		switch {
		case cs != nil && s.api == &cs.counts:
			w.putByte(errAPICalls)
		case api != nil && s.api == &api.counts:
			w.putByte(errAPIReadOnly)
		default:
			return fmt.Errorf("BUG: snapshot: error series %s counts the calls of no series of its API", e.key(s.id))
		}
		if err := e.writeSeries(w, &s.series, novel); err != nil {
			return err
		}
		if err := w.putNested(&s.model); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) readErrors(r *snapReader) error {
	n, nstr := r.count(minErrorSize), len(e.vals.strs)
	e.errList = make([]*errSeries, 0, n)
	for range n {
		s := &errSeries{}
		s.id = keyID{account: r.id(nstr), region: r.id(nstr), source: r.id(nstr), name: r.id(nstr), code: r.id(nstr), typ: APIErrorRate}
		k := e.apiKeyOf(s.id)
		ek := errKey{k, e.vals.strs[s.id.code]}
		if r.err == nil && e.errs[ek] != nil {
			r.fail("error series %s listed twice", e.key(s.id))
		}
		switch api := r.byte(); api {
		case errAPICalls:
			if cs := e.calls.get(k, e.vals.strs); cs != nil {
				s.api = &cs.counts
			}
		case errAPIReadOnly:
			if a := e.apis[k]; a != nil {
				s.api = &a.counts
			}
		}
		if r.err == nil && s.api == nil {
			r.fail("error series %s: its API's calls are in no series", e.key(s.id))
		}
		s.reg = e.seriesRegion(r, s.id)
		s.kind = s
		e.readSeries(r, &s.series)
		r.nested("error model", &s.model)
		if r.err != nil {
			return r.err
		}
		e.errs[ek] = s
		e.errList = append(e.errList, s)
	}
	return r.err
}

func (e *Engine) apiKeyOf(id keyID) apiKey {
	v := e.vals.strs
	return apiKey{v[id.account], v[id.region], v[id.source], v[id.name]}
}

// seriesRegion returns the region of a series' account and Region, which
// the regions section must have listed.
func (e *Engine) seriesRegion(r *snapReader, id keyID) *region {
	reg := e.regions[regionKey{e.vals.strs[id.account], e.vals.strs[id.region]}]
	if r.err == nil && reg == nil {
		r.fail("series %s: no such region", e.key(id))
	}
	return reg
}

// The state both kinds of series share: flags, rearm, counts, attribution
// sketches, then the hot attribution counts, the open alarm and the
// novelty ring, each when its flag is set.

const (
	seriesAlarm = 1 << iota
	seriesHot
	seriesNovel
	seriesGap     // version 2: the alarm is a gap in a job's runs
	seriesExcused // version 3: an excused burst follows rearm
	seriesFlags   = seriesAlarm | seriesHot | seriesNovel | seriesGap | seriesExcused
)

func (e *Engine) writeSeries(w *snapWriter, s *series, novel *int) error {
	ring := e.novel[s]
	var flags byte
	if s.al != nil {
		flags |= seriesAlarm
		if s.al.gap {
			flags |= seriesGap
		}
	}
	if s.attrs.hot != nil {
		flags |= seriesHot
	}
	if ring != nil {
		flags |= seriesNovel
		*novel++
	}
	ex, excused := e.excused[s]
	if excused {
		flags |= seriesExcused
	}
	w.putByte(flags)
	w.putVarint(int64(s.rearm))
	if excused {
		w.putVarint(int64(ex[0]))
		w.putVarint(int64(ex[1]))
	}
	if err := w.putNested(&s.counts); err != nil {
		return err
	}
	a := &s.attrs
	for i := range a.base {
		// A mask of the entries in use, then those entries.
		var mask byte
		for j, en := range a.base[i].e {
			if en.value != 0 || math.Float32bits(en.count) != 0 {
				mask |= 1 << j
			}
		}
		w.putByte(mask)
		for j, en := range a.base[i].e {
			if mask&(1<<j) != 0 {
				w.putUvarint(uint64(en.value))
				w.putFloat32(en.count)
			}
		}
	}
	w.putVarint(int64(s.decayed))
	if h := a.hot; h != nil {
		w.putVarint(h.since)
		w.putVarint(h.calm)
		for _, vals := range h.vals {
			w.putUvarint(uint64(len(vals)))
			prev := uint32(0)
			for _, id := range slices.Sorted(maps.Keys(vals)) {
				w.putUvarint(uint64(id - prev))
				w.putFloat64(vals[id])
				prev = id
			}
		}
	}
	if al := s.al; al != nil {
		w.putByte(byte(al.dir))
		w.putVarint(al.start)
		w.putVarint(int64(al.scale))
		w.putFloat64(al.p)
		w.putVarint(al.last)
		for _, v := range [...]float64{al.sum, al.exp, al.cusum, al.best} {
			w.putFloat64(v)
		}
		w.putVarint(al.end)
		w.putFloat64(al.sumAtEnd)
		w.putFloat64(al.expAtEnd)
		w.putVarint(int64(al.calm))
		w.putFloat64(al.baseAvg)
		w.putVarint(int64(al.baseDur))
		// The minutes of history behind the baseline, which attributions
		// once scaled by; still written, so the layout stayed version 2.
		w.putFloat64(float64(al.start - s.reg.first))
	}
	if ring != nil {
		w.putVarint(ring.head)
		for _, c := range ring.c {
			w.putUvarint(uint64(c))
		}
	}
	return nil
}

func (e *Engine) readSeries(r *snapReader, s *series) {
	nstr := len(e.vals.strs)
	flags := r.byte()
	known := byte(seriesFlags)
	if r.version < 2 {
		known &^= seriesGap
	}
	if r.version < 3 {
		known &^= seriesExcused
	}
	if flags&^known != 0 {
		r.fail("series %s: unknown flags %#x", e.key(s.id), flags)
	}
	if flags&seriesGap != 0 && (flags&seriesAlarm == 0 || s.id.typ != APICallRate) {
		r.fail("series %s: a gap flag without a call-rate alarm", e.key(s.id))
	}
	s.rearm = r.int32()
	if flags&seriesExcused != 0 {
		from, to := r.int32(), r.int32()
		if from > to {
			r.fail("series %s: excused minutes %d to %d", e.key(s.id), from, to)
		}
		e.excused[s] = [2]int32{from, to}
	}
	r.nested("series counts", &s.counts)
	a := &s.attrs
	for i := range a.base {
		mask := r.byte()
		if mask>>sketchSize != 0 {
			r.fail("sketch mask %#x", mask)
		}
		for j := range a.base[i].e {
			if mask&(1<<j) == 0 {
				continue
			}
			en := &a.base[i].e[j]
			en.value = r.id(nstr)
			en.count = r.float32()
			if r.err == nil && en.value == 0 && math.Float32bits(en.count) == 0 {
				r.fail("empty sketch entry marked in use")
			}
		}
	}
	s.decayed = r.int32()
	if flags&seriesHot != 0 {
		h := &hotAttrs{}
		h.since = r.varint()
		h.calm = r.varint()
		for i := range h.vals {
			n := r.count(minHotSize)
			// Never nil: observe adds to them.
			h.vals[i] = make(map[uint32]float64, n)
			var prev uint64
			for j := range n {
				id := r.nextID(&prev, j == 0, nstr)
				h.vals[i][id] = r.float64()
			}
		}
		a.hot = h
	}
	if flags&seriesAlarm != 0 {
		al := &alarm{dir: Direction(r.byte()), gap: flags&seriesGap != 0}
		if r.err == nil && al.dir != Spike && al.dir != Drop {
			r.fail("series %s: alarm direction %d", e.key(s.id), al.dir)
		}
		if r.err == nil && al.gap && al.dir != Drop {
			r.fail("series %s: a gap alarm must be a drop", e.key(s.id))
		}
		al.start = r.varint()
		al.scale = r.int()
		al.p = r.float64()
		al.last = r.varint()
		for _, p := range [...]*float64{&al.sum, &al.exp, &al.cusum, &al.best} {
			*p = r.float64()
		}
		al.end = r.varint()
		al.sumAtEnd = r.float64()
		al.expAtEnd = r.float64()
		al.calm = r.int()
		al.baseAvg = r.float64()
		al.baseDur = r.int()
		_ = r.float64() // the minutes of history behind the baseline
		s.al = al
		if al.dir == Drop && !al.gap && s.id.typ == APICallRate && s.reg != nil {
			// The drops whose siblings are tested are not written: they
			// are the open drops. Their order here differs from the
			// original's; testSiblings does not depend on it.
			s.reg.addDrop(s)
		}
	}
	if flags&seriesNovel != 0 {
		ring := &novelRing{head: r.varint()}
		for k := range ring.c {
			ring.c[k] = r.uint16()
		}
		e.novel[s] = ring
	}
}

// dirty: the series with events in open minutes since the last Advance, in
// Engine.dirty order (the order their early tests run in), each as its list
// (1 call, 2 error) and index in that list.

const (
	dirtyCall  = 1
	dirtyError = 2
)

func (e *Engine) writeDirty(w *snapWriter) error {
	w.putUvarint(uint64(len(e.dirty)))
	if len(e.dirty) == 0 {
		return nil
	}
	at := make(map[*series][2]int, len(e.callList)+len(e.errList))
	for i, s := range e.callList {
		at[&s.series] = [2]int{dirtyCall, i}
	}
	for i, s := range e.errList {
		at[&s.series] = [2]int{dirtyError, i}
	}
	for _, s := range e.dirty {
		ref, ok := at[s]
		if !ok {
			return fmt.Errorf("BUG: snapshot: dirty series %s is in no list", e.key(s.id))
		}
		w.putByte(byte(ref[0]))
		w.putUvarint(uint64(ref[1]))
	}
	return nil
}

func (e *Engine) readDirty(r *snapReader) error {
	n := r.count(2)
	e.dirty = make([]*series, 0, n)
	for range n {
		kind, i := r.byte(), r.uvarint()
		if r.err != nil {
			return r.err
		}
		var s *series
		switch {
		case kind == dirtyCall && i < uint64(len(e.callList)):
			s = &e.callList[i].series
		case kind == dirtyError && i < uint64(len(e.errList)):
			s = &e.errList[i].series
		default:
			r.fail("dirty series %d of list %d: no such series", i, kind)
			return r.err
		}
		if _, dup := e.dirtySet[s]; dup {
			r.fail("dirty series %s listed twice", e.key(s.id))
			return r.err
		}
		e.dirtySet[s] = struct{}{}
		e.dirty = append(e.dirty, s)
	}
	return r.err
}
