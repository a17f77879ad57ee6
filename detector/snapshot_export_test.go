package detector

import "math/bits"

// SnapshotProbe counts the parts of an Engine's state a snapshot must
// carry, so that tests can show their cut points have each in play.
type SnapshotProbe struct {
	OpenCall, OpenError int // open Insights by type
	OpenDrop            int // open drop Insights
	OpenGap             int // open drops opened by missed runs of a job
	Rhythms             int // call series following an established job rhythm
	Novel               int // series with calls by new principals in their ring
	HotIdle             int // series counting attribution values exactly, no Insight open
	GapMinutes          int // account-Region minutes held as delivery gaps
	ReadAPIErrors       int // error series whose calls are a read API's
	Dirty               int // series whose open minutes wait for their early test
	Excused             int // series with a burst the routine rules explained, not yet learned
}

// ProbeSnapshotState returns the probe of e.
func ProbeSnapshotState(e *Engine) SnapshotProbe {
	var p SnapshotProbe
	for _, s := range e.callList {
		if s.al != nil {
			p.OpenCall++
			if s.al.dir == Drop {
				p.OpenDrop++
			}
			if s.al.gap {
				p.OpenGap++
			}
		} else if s.attrs.hot != nil {
			p.HotIdle++
		}
		if s.rhythm.runs >= rhythmRuns {
			p.Rhythms++
		}
	}
	for _, s := range e.errList {
		if s.al != nil {
			p.OpenError++
		} else if s.attrs.hot != nil {
			p.HotIdle++
		}
		if cs := e.calls.get(e.apiKeyOf(s.id), e.vals.strs); cs == nil || s.api != &cs.counts {
			p.ReadAPIErrors++
		}
	}
	p.Novel = len(e.novel)
	p.Excused = len(e.excused)
	p.Dirty = len(e.dirty)
	for _, r := range e.regList {
		if r.gapRun <= maxGap {
			for _, g := range r.gaps {
				p.GapMinutes += bits.OnesCount64(g)
			}
		}
	}
	return p
}

// SetValueCompaction sets the size from which e's value table is
// compacted; below zero, it never is.
func SetValueCompaction(e *Engine, from int) { e.vals.compactFrom = from }

// ValueTableLen returns the size of e's value table.
func ValueTableLen(e *Engine) int { return len(e.vals.strs) }
