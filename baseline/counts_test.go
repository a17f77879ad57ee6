package baseline

import "testing"

func TestRingKeepsMinutesBlocksAndDays(t *testing.T) {
	var r Counts
	day := int64(20000 * 1440) // a UTC midnight, in minutes
	r.Add(day+5, 2)
	r.Add(day+5, 1)
	r.Add(day+20, 4)
	r.Add(day+3, 1) // late, still held
	if got := r.Get(day + 5); got != 3 {
		t.Errorf("get(+5) = %v, want 3", got)
	}
	if got := r.Sum(day, day+20); got != 8 {
		t.Errorf("sum = %v, want 8", got)
	}
	if got := r.Block(day / BlockMinutes); got != 4 {
		t.Errorf("block 0 = %v, want 4", got)
	}
	if got := r.Block(day/BlockMinutes + 1); got != 4 {
		t.Errorf("block 1 = %v, want 4", got)
	}
	// Two hours later the minutes are gone, the blocks and the day remain.
	r.Add(day+140, 1)
	if got := r.Get(day + 5); got != 0 {
		t.Errorf("get(+5) after 140m = %v, want 0 (not held)", got)
	}
	if got := r.BlockSum(day/BlockMinutes, (day+140)/BlockMinutes); got != 9 {
		t.Errorf("blockSum = %v, want 9", got)
	}
	if got := r.Day(day / 1440); got != 9 {
		t.Errorf("day = %v, want 9", got)
	}
	// Five hours later the early blocks are gone; ten days later the day.
	r.Add(day+300, 1)
	if got := r.Block(day / BlockMinutes); got != 0 {
		t.Errorf("block 0 after 5h = %v, want 0", got)
	}
	r.Add(day+10*1440, 1)
	if got := r.Day(day / 1440); got != 0 {
		t.Errorf("day after 10 days = %v, want 0", got)
	}
	if got := r.Day(day/1440 + 10); got != 1 {
		t.Errorf("newest day = %v, want 1", got)
	}
	// Saturation instead of wrap-around.
	r.Add(day+10*1440+1, 70000)
	if got := r.Get(day + 10*1440 + 1); got != 65535 {
		t.Errorf("saturated minute = %v, want 65535", got)
	}
}
