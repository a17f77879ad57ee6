package emitters

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
)

// trailStateVersion is the version of the Trail state format
// (docs/formats/trail-state.md).
const trailStateVersion = 1

// ErrTrailState reports a Trail state that cannot be restored.
var ErrTrailState = errors.New("trail state")

// trailState is a Trail's state in JSON: everything that is not
// configuration. Lists are sorted, so equal states encode to equal bytes.
type trailState struct {
	Version  int               `json:"version"`
	Trail    string            `json:"trail"`
	Clock    time.Time         `json:"clock"`
	NextTick time.Time         `json:"next_tick"`
	Full     []acctRegionState `json:"full,omitempty"`
	Buffers  []bufferState     `json:"buffers,omitempty"`
	SeenHour int64             `json:"seen_hour"`
	Seen     [2][]uint64       `json:"seen"`
	Chains   []chainState      `json:"chains,omitempty"`
	Stats    TrailStats        `json:"stats"`
}

type acctRegionState struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

type bufferState struct {
	acctRegionState
	Oldest  int64             `json:"oldest"`
	Newest  int64             `json:"newest"`
	Records []json.RawMessage `json:"records"`
}

type chainState struct {
	acctRegionState
	Start      time.Time                  `json:"start"`
	Files      []cloudtrail.DigestLogFile `json:"files,omitempty"`
	PrevBucket string                     `json:"prev_bucket,omitempty"`
	PrevKey    string                     `json:"prev_key,omitempty"`
	PrevHash   string                     `json:"prev_hash,omitempty"`
	PrevSig    string                     `json:"prev_sig,omitempty"`
}

// AppendState appends t's state (records waiting for delivery, digest
// chains, recent event IDs, the clock) to dst, for a checkpoint.
func (t *Trail) AppendState(dst []byte) ([]byte, error) {
	st := trailState{Version: trailStateVersion, Trail: t.cfg.Name, Clock: t.clock, NextTick: t.nextTick,
		SeenHour: t.seenHour, Stats: t.Stats}
	for _, k := range t.full {
		st.Full = append(st.Full, acctRegionState{k.account, k.region})
	}
	keys := make([]acctRegion, 0, len(t.buffers))
	for k := range t.buffers {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmpAcctRegion)
	for _, k := range keys {
		b := t.buffers[k]
		bs := bufferState{acctRegionState: acctRegionState{k.account, k.region}, Oldest: b.oldest, Newest: b.newest,
			Records: make([]json.RawMessage, len(b.records))}
		for i, r := range b.records {
			bs.Records[i] = r // compact JSON (compactRecord): encoded as is
		}
		st.Buffers = append(st.Buffers, bs)
	}
	for i := range t.seen {
		for id := range t.seen[i] {
			st.Seen[i] = append(st.Seen[i], id)
		}
		slices.Sort(st.Seen[i])
	}
	for _, k := range t.chainKeys() {
		c := t.chains[k]
		st.Chains = append(st.Chains, chainState{acctRegionState: acctRegionState{k.account, k.region},
			Start: c.start, Files: c.files, PrevBucket: c.prevBucket, PrevKey: c.prevKey, PrevHash: c.prevHash, PrevSig: c.prevSig})
	}
	// Without HTML escaping: it would turn the & of a sign-in URL into
	// \u0026 in a buffered record, and the restored record would no longer
	// be the one delivered before.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&st); err != nil {
		return dst, fmt.Errorf("trail %q: encode state: %w", t.cfg.Name, err)
	}
	return append(dst, bytes.TrimSuffix(out.Bytes(), []byte("\n"))...), nil
}

// RestoreState replaces t's state with one AppendState wrote, by a Trail
// of the same name.
func (t *Trail) RestoreState(b []byte) error {
	var st trailState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("%w: trail %q: %v", ErrTrailState, t.cfg.Name, err)
	}
	switch {
	case st.Version != trailStateVersion:
		return fmt.Errorf("%w: trail %q: version %d, want %d", ErrTrailState, t.cfg.Name, st.Version, trailStateVersion)
	case st.Trail != t.cfg.Name:
		return fmt.Errorf("%w: state of trail %q given to trail %q", ErrTrailState, st.Trail, t.cfg.Name)
	}
	t.clock, t.nextTick, t.seenHour, t.Stats = st.Clock.UTC(), st.NextTick.UTC(), st.SeenHour, st.Stats
	t.full = t.full[:0]
	for _, k := range st.Full {
		t.full = append(t.full, acctRegion{k.Account, k.Region})
	}
	t.buffers = map[acctRegion]*logBuffer{}
	for _, bs := range st.Buffers {
		buf := &logBuffer{oldest: bs.Oldest, newest: bs.Newest}
		for _, r := range bs.Records {
			buf.records = append(buf.records, []byte(r))
			buf.bytes += len(r) + 1
		}
		t.buffers[acctRegion{bs.Account, bs.Region}] = buf
	}
	for i := range t.seen {
		t.seen[i] = make(map[uint64]struct{}, len(st.Seen[i]))
		for _, id := range st.Seen[i] {
			t.seen[i][id] = struct{}{}
		}
	}
	t.chains = map[acctRegion]*digestChain{}
	for _, c := range st.Chains {
		if strings.TrimSpace(c.Account) == "" {
			return fmt.Errorf("%w: trail %q: a digest chain without an account", ErrTrailState, t.cfg.Name)
		}
		t.chains[acctRegion{c.Account, c.Region}] = &digestChain{start: c.Start.UTC(), files: c.Files,
			prevBucket: c.PrevBucket, prevKey: c.PrevKey, prevHash: c.PrevHash, prevSig: c.PrevSig}
	}
	return nil
}
