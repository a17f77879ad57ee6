package baseline

// MinutesKept is how many minutes of per-minute counts a series keeps: the
// longest minute window (80) plus the allowed lateness, rounded up to a
// power of two.
const MinutesKept = 128

// Longer windows use quarter-hour blocks: BlocksKept of them give drop
// windows of up to 4 hours.
const (
	BlockMinutes = 15
	BlocksKept   = 16
)

// DaysKept is how many UTC days of totals a series keeps: the §2.6
// baseline window spans the seven days before the start day plus that day,
// and the newest events may already be a day later.
const DaysKept = 9

// Counts holds one series' counts at three resolutions: per minute for the
// most recent MinutesKept minutes, per quarter hour for the most recent
// BlocksKept blocks, per UTC day for DaysKept days. One head (the newest
// minute counted) serves all three. Minute and block counts saturate at
// 65535.
type Counts struct {
	c   [MinutesKept]uint16
	q   [BlocksKept]uint16
	d   [DaysKept]uint32
	top int32 // newest minute counted (minutes since the epoch fit int32 until year 6053); 0 = empty
}

// Head returns the newest minute counted (0 when empty).
func (r *Counts) Head() int64 { return int64(r.top) }

// advance makes m the newest minute, zeroing the minutes, blocks and days
// it skips.
func (r *Counts) advance(m int64) {
	h := r.Head()
	if h == 0 {
		r.top = int32(m)
		return
	}
	if m-h >= MinutesKept {
		r.c = [MinutesKept]uint16{}
	} else {
		for t := h + 1; t <= m; t++ {
			r.c[t&(MinutesKept-1)] = 0
		}
	}
	if hb, b := h/BlockMinutes, m/BlockMinutes; b-hb >= BlocksKept {
		r.q = [BlocksKept]uint16{}
	} else {
		for t := hb + 1; t <= b; t++ {
			r.q[t%BlocksKept] = 0
		}
	}
	if hd, d := h/1440, m/1440; d-hd >= DaysKept {
		r.d = [DaysKept]uint32{}
	} else {
		for t := hd + 1; t <= d; t++ {
			r.d[t%DaysKept] = 0
		}
	}
	r.top = int32(m)
}

// Add adds n to minute m.
func (r *Counts) Add(m int64, n int) {
	if m > r.Head() {
		r.advance(m)
	}
	h := r.Head()
	if m > h-MinutesKept {
		r.c[m&(MinutesKept-1)] = Sat16(int(r.c[m&(MinutesKept-1)]) + n)
	}
	if b := m / BlockMinutes; b > h/BlockMinutes-BlocksKept {
		r.q[b%BlocksKept] = Sat16(int(r.q[b%BlocksKept]) + n)
	}
	if d := m / 1440; d > h/1440-DaysKept {
		r.d[d%DaysKept] += uint32(n)
	}
}

// Sat16 returns v saturated to 16 bits.
func Sat16(v int) uint16 {
	if v > 0xffff {
		return 0xffff
	}
	return uint16(v)
}

// Get returns the count of minute m (0 when not held).
func (r *Counts) Get(m int64) float64 {
	if h := r.Head(); m > h || m <= h-MinutesKept {
		return 0
	}
	return float64(r.c[m&(MinutesKept-1)])
}

// Sum returns the total count of minutes [from, to].
func (r *Counts) Sum(from, to int64) float64 {
	s := 0.0
	for m := from; m <= to; m++ {
		s += r.Get(m)
	}
	return s
}

// OldestBlock is the oldest quarter-hour block still held.
func (r *Counts) OldestBlock() int64 { return r.Head()/BlockMinutes - BlocksKept + 1 }

// Block returns the count of block b (0 when not held).
func (r *Counts) Block(b int64) float64 {
	if b > r.Head()/BlockMinutes || b < r.OldestBlock() {
		return 0
	}
	return float64(r.q[b%BlocksKept])
}

// BlockSum returns the total of blocks [b0, b1].
func (r *Counts) BlockSum(b0, b1 int64) float64 {
	s := 0.0
	for b := b0; b <= b1; b++ {
		s += r.Block(b)
	}
	return s
}

// Day returns the total of UTC day d (days since the epoch; 0 when not held).
func (r *Counts) Day(d int64) float64 {
	if h := r.Head() / 1440; d > h || d <= h-DaysKept {
		return 0
	}
	return float64(r.d[d%DaysKept])
}
