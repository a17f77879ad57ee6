package detector

// ringSize is how many minutes of per-minute counts a series keeps: the
// longest minute window (80) plus the allowed lateness, rounded up to a
// power of two.
const ringSize = 128

// Longer windows use quarter-hour blocks: blocksKept of them give drop
// windows of up to 4 hours.
const (
	blockMinutes = 15
	blocksKept   = 16
)

// daysKept is how many UTC days of totals a series keeps: the §2.6
// baseline window spans the seven days before the start day plus that day,
// and the newest events may already be a day later.
const daysKept = 9

// ring holds one series' counts at three resolutions: per minute for the
// most recent ringSize minutes, per quarter hour for the most recent
// blocksKept blocks, per UTC day for daysKept days. One head (the newest
// minute counted) serves all three. Minute and block counts saturate at
// 65535.
type ring struct {
	c   [ringSize]uint16
	q   [blocksKept]uint16
	d   [daysKept]uint32
	top int32 // newest minute counted (minutes since the epoch fit int32 until year 6053); 0 = empty
}

func (r *ring) head() int64 { return int64(r.top) }

// advance makes m the newest minute, zeroing the minutes, blocks and days
// it skips.
func (r *ring) advance(m int64) {
	h := r.head()
	if h == 0 {
		r.top = int32(m)
		return
	}
	if m-h >= ringSize {
		r.c = [ringSize]uint16{}
	} else {
		for t := h + 1; t <= m; t++ {
			r.c[t&(ringSize-1)] = 0
		}
	}
	if hb, b := h/blockMinutes, m/blockMinutes; b-hb >= blocksKept {
		r.q = [blocksKept]uint16{}
	} else {
		for t := hb + 1; t <= b; t++ {
			r.q[t%blocksKept] = 0
		}
	}
	if hd, d := h/1440, m/1440; d-hd >= daysKept {
		r.d = [daysKept]uint32{}
	} else {
		for t := hd + 1; t <= d; t++ {
			r.d[t%daysKept] = 0
		}
	}
	r.top = int32(m)
}

// add adds n to minute m.
func (r *ring) add(m int64, n int) {
	if m > r.head() {
		r.advance(m)
	}
	h := r.head()
	if m > h-ringSize {
		r.c[m&(ringSize-1)] = sat16(int(r.c[m&(ringSize-1)]) + n)
	}
	if b := m / blockMinutes; b > h/blockMinutes-blocksKept {
		r.q[b%blocksKept] = sat16(int(r.q[b%blocksKept]) + n)
	}
	if d := m / 1440; d > h/1440-daysKept {
		r.d[d%daysKept] += uint32(n)
	}
}

func sat16(v int) uint16 {
	if v > 0xffff {
		return 0xffff
	}
	return uint16(v)
}

// get returns the count of minute m (0 when not held).
func (r *ring) get(m int64) float64 {
	if h := r.head(); m > h || m <= h-ringSize {
		return 0
	}
	return float64(r.c[m&(ringSize-1)])
}

// sum returns the total count of minutes [from, to].
func (r *ring) sum(from, to int64) float64 {
	s := 0.0
	for m := from; m <= to; m++ {
		s += r.get(m)
	}
	return s
}

// oldestBlock is the oldest quarter-hour block still held.
func (r *ring) oldestBlock() int64 { return r.head()/blockMinutes - blocksKept + 1 }

// block returns the count of block b (0 when not held).
func (r *ring) block(b int64) float64 {
	if b > r.head()/blockMinutes || b < r.oldestBlock() {
		return 0
	}
	return float64(r.q[b%blocksKept])
}

// blockSum returns the total of blocks [b0, b1].
func (r *ring) blockSum(b0, b1 int64) float64 {
	s := 0.0
	for b := b0; b <= b1; b++ {
		s += r.block(b)
	}
	return s
}

// day returns the total of UTC day d (days since the epoch; 0 when not held).
func (r *ring) day(d int64) float64 {
	if h := r.head() / 1440; d > h || d <= h-daysKept {
		return 0
	}
	return float64(r.d[d%daysKept])
}
