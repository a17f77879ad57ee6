package detector

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/trailsight/trailsight/models"
)

// TestSnapshotCoversEveryField fails when a type whose values a snapshot
// carries gains or loses a field: decide whether the new field is state
// (write it in snapshot_state.go, read it back, document it in
// docs/formats/snapshot.md and bump SnapshotVersion) or a cache, and update
// the list here. A field that holds ids of the value table must also be
// renumbered by rewriteIDs (compact.go).
func TestSnapshotCoversEveryField(t *testing.T) {
	for _, tc := range []struct {
		v      any
		fields string
	}{
		// cfg: config section; sink, log: Restore's arguments; tz,
		// lateness, warmUp: from the Config; out: empty when quiescent;
		// dirty: the dirty section; dirtySet: rebuilt from it; traces: hooks, not state; regions,
		// calls, apis, errs, byAccount: rebuilt from the lists and sections; touched,
		// checked: scratch of one Advance.
		{Engine{}, "cfg sink log regions calls apis errs callList errList regList byAccount dedup vals maxMinute minMinute clock closed " +
			"lateness warmUp out stats traces dirty dirtySet touched checked novel accounts excused tz"},
		// Series, ErrorSeries, Regions, Open, Warming, WarmingHistory:
		// computed by Stats from the state.
		{Stats{}, "Events Series ErrorSeries Regions Open Started Ended ClosedMinutes GapMinutes Warming WarmingHistory"},
		// slotAt, slotMemo: a cache of slot(m); loc: from the Config,
		// checked against the recorded zone; drops: rebuilt from the
		// series' open alarms; calls: rebuilt from the call series;
		// touched: scratch of one Advance.
		{region{}, "account name loc first total model gaps gapRun lastGap slotAt slotMemo cfg pool writes novelWrites actors drops calls touched"},
		{dispersionPool{}, "minute block"},
		{moments{}, "m1 m2 n"},
		{principalSeries{}, "counts peak last agent"},
		{account{}, "first principals"},
		{dedup{}, "window cur old since"},
		// compactFrom: a setting of tests; inUse: when the next count of
		// values in use is due, which a restored Engine makes at once.
		{values{}, "ids strs compactFrom inUse"},
		{series{}, "id reg kind counts attrs al rearm decayed"},
		{keyID{}, "account region source name code typ"},
		{callSeries{}, "series model rhythm"},
		{rhythm{}, "last period runs missed flags"},
		{errSeries{}, "series api model"},
		{apiSeries{}, "counts total"},
		{attrs{}, "base hot"},
		{sketch{}, "e"},
		{sketchEntry{}, "value count"},
		{hotAttrs{}, "since calm vals"},
		{alarm{}, "dir gap start scale p last sum exp cusum best end sumAtEnd expAtEnd calm baseAvg baseDur"},
		{novelRing{}, "c head"},
		// Every setting is recorded (config section) or, for TimeZones,
		// checked per region; QuietPrincipals decide Starts only and
		// apply as configured (docs/formats/snapshot.md).
		{Config{}, "AllowedLateness DedupWindow WarmUp StartP EndP MinCount CoolDown TimeZones ServiceEvents QuietPrincipals Seasonal Rate"},
	} {
		typ := reflect.TypeOf(tc.v)
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if want := strings.Fields(tc.fields); !slices.Equal(got, want) {
			t.Errorf("%s has fields %v; the snapshot was written for %v", typ.Name(), got, want)
		}
	}
	// Every model constant is in the config section.
	c := DefaultConfig()
	var names []string
	for _, s := range modelSettings(&c) {
		names = append(names, s.name)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[models.SeasonalConfig](), reflect.TypeFor[models.RateConfig]()} {
		for i := range typ.NumField() {
			name := strings.TrimSuffix(typ.Name(), "Config") + "." + typ.Field(i).Name
			if f := typ.Field(i); f.Type.Kind() != reflect.Float64 || !slices.Contains(names, name) {
				t.Errorf("model setting %s (%s) is not recorded in snapshots", name, f.Type)
			}
		}
	}
}
