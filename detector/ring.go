package detector

// ringSize is how many minutes of per-minute counts a series keeps: the
// longest test window (60) plus the allowed lateness (at most 60), rounded
// up to a power of two.
const ringSize = 128

// blocksKept quarter-hour blocks give the longest drop windows (4 hours).
const (
	blockMinutes = 15
	blocksKept   = 16
)

// ring holds the per-minute counts of the most recent ringSize minutes, and
// quarter-hour sums of the most recent blocksKept blocks. Counts saturate
// at 65535 per minute and per block.
type ring struct {
	c     [ringSize]uint16
	head_ int32 // newest minute represented (minutes since the epoch fit int32 until year 6053); 0 = empty
	q     [blocksKept]uint16
	qhead int32 // newest block represented (minute/blockMinutes)
}

// addBlock adds n to the block of minute m.
func (r *ring) addBlock(m int64, n int) {
	b := m / blockMinutes
	h := int64(r.qhead)
	if b > h {
		if h == 0 || b-h >= blocksKept {
			r.q = [blocksKept]uint16{}
		} else {
			for t := h + 1; t <= b; t++ {
				r.q[t%blocksKept] = 0
			}
		}
		r.qhead = int32(b)
		h = b
	}
	if b <= h-blocksKept {
		return
	}
	v := int(r.q[b%blocksKept]) + n
	if v > 0xffff {
		v = 0xffff
	}
	r.q[b%blocksKept] = uint16(v)
}

// block returns the count of block b (0 when not held).
func (r *ring) block(b int64) float64 {
	if h := int64(r.qhead); b > h || b <= h-blocksKept {
		return 0
	}
	return float64(r.q[b%blocksKept])
}

func (r *ring) head() int64 { return int64(r.head_) }

// advance makes m the newest minute, zeroing the minutes it skips.
func (r *ring) advance(m int64) {
	h := r.head()
	if h == 0 || m-h >= ringSize {
		r.c = [ringSize]uint16{}
		r.head_ = int32(m)
		return
	}
	for t := h + 1; t <= m; t++ {
		r.c[t&(ringSize-1)] = 0
	}
	if m > h {
		r.head_ = int32(m)
	}
}

// add adds n to minute m and reports whether m is still held.
func (r *ring) add(m int64, n int) bool {
	r.addBlock(m, n)
	if m > r.head() {
		r.advance(m)
	}
	if m <= r.head()-ringSize {
		return false
	}
	i := m & (ringSize - 1)
	v := int(r.c[i]) + n
	if v > 0xffff {
		v = 0xffff
	}
	r.c[i] = uint16(v)
	return true
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

// daysKept is how many UTC days of totals a series keeps: the §2.6
// baseline window spans the seven days before the start day plus that day.
const daysKept = 9

// days holds per-UTC-day totals, for baseline statistics.
type days struct {
	c    [daysKept]uint32
	head int32 // newest day represented (days since the epoch)
}

func (d *days) add(day int32, n int) {
	if day > d.head {
		if d.head == 0 || day-d.head >= daysKept {
			d.c = [daysKept]uint32{}
		} else {
			for t := d.head + 1; t <= day; t++ {
				d.c[int(t)%daysKept] = 0
			}
		}
		d.head = day
	}
	if day <= d.head-daysKept {
		return
	}
	d.c[int(day)%daysKept] += uint32(n)
}

func (d *days) get(day int32) float64 {
	if day > d.head || day <= d.head-daysKept {
		return 0
	}
	return float64(d.c[int(day)%daysKept])
}

// blockSum returns the total of blocks [b0, b1].
func (r *ring) blockSum(b0, b1 int64) float64 {
	s := 0.0
	for b := b0; b <= b1; b++ {
		s += r.block(b)
	}
	return s
}
