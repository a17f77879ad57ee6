package detector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Snapshots hand an Engine's state from one owner to the next (a Kafka
// partition moving on a rebalance or after a crash): baselines, warm-up,
// open Insights and everything else that shapes future output. The format
// is specified in docs/formats/snapshot.md; this file holds the envelope
// and the configuration policy, snapshot_state.go the sections.

// SnapshotVersion is the format version Snapshot writes. Restore reads it
// and every older version still listed in docs/formats/snapshot.md.
const SnapshotVersion = 3

// snapshotMagic opens every snapshot. The high-bit first byte and the
// final newline catch transports that strip the eighth bit or rewrite line
// ends, as PNG's signature does.
const snapshotMagic = "\x89TSSNAP\n"

// headerSize is the magic, the version (uint32) and the body's length
// (uint64); checksumSize the xxhash64 after the body.
const (
	headerSize   = len(snapshotMagic) + 4 + 8
	checksumSize = 8
)

var (
	// ErrNotQuiescent is returned by Snapshot when the Engine holds
	// Insights not yet sent to the sink. Advance or Flush first.
	ErrNotQuiescent = errors.New("detector: engine not quiescent")
	// ErrBadSnapshot is wrapped by every Restore error about the input
	// itself: wrong magic, unknown version, bad checksum, truncation,
	// malformed or inconsistent content.
	ErrBadSnapshot = errors.New("detector: bad snapshot")
	// ErrSnapshotVersion is wrapped, with ErrBadSnapshot, when the
	// snapshot's format version is not one this reader knows (written by
	// a newer release, say).
	ErrSnapshotVersion = errors.New("detector: unsupported snapshot version")
	// ErrSnapshotConfig is wrapped when the Config passed to Restore
	// disagrees with the snapshot on a setting its state depends on; the
	// message names the setting.
	ErrSnapshotConfig = errors.New("detector: snapshot taken with an incompatible configuration")
)

// sectionID names a section of the body. Versions 1 and 2 have exactly
// these, once each, in this order.
type sectionID byte

const (
	secConfig sectionID = 1 + iota
	secEngine
	secStrings
	secDedup
	secAccounts
	secRegions
	secAPIs
	secCalls
	secErrors
	secDirty
	numSections = secDirty
)

var sectionNames = [...]string{"", "config", "engine", "strings", "dedup", "accounts", "regions", "apis", "calls", "errors", "dirty"}

func (s sectionID) String() string {
	if int(s) < len(sectionNames) && s != 0 {
		return sectionNames[s]
	}
	return "section(" + strconv.Itoa(int(s)) + ")"
}

// Snapshot writes the Engine's state to w in the format of
// docs/formats/snapshot.md. Restore with the same Config rebuilds an Engine
// that goes on exactly as this one would: same Insights, byte for byte, and
// same Stats. The output is deterministic: an Engine restored from a
// snapshot snapshots to the same bytes.
//
// No Insight may wait for the sink: Advance or Flush has returned nil since
// the last Insight was produced. Otherwise Snapshot returns ErrNotQuiescent
// and writes nothing. Series whose open minutes wait for their early test
// (events observed since the last Advance) are recorded as such, so a
// snapshot may be taken between any two messages of a stream: the
// restored Engine runs those tests at its next Advance, as this one would. (With a nil sink Insights are never taken out, so such an
// Engine can be snapshotted only while it has emitted none.) The Trace
// hook is not part of the state. Snapshot does not change the Engine.
func (e *Engine) Snapshot(w io.Writer) error {
	b, err := e.appendSnapshot(nil)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// appendSnapshot appends a snapshot of e to b.
func (e *Engine) appendSnapshot(b []byte) ([]byte, error) {
	if len(e.out) != 0 {
		return nil, fmt.Errorf("%w: %d Insights not yet sent to the sink; Advance or Flush first",
			ErrNotQuiescent, len(e.out))
	}
	start := len(b)
	if b == nil {
		// Growing costs more than guessing: about 700 bytes per series,
		// 8 per dedup hash, 40 per string.
		b = make([]byte, 0, 4096+700*(len(e.callList)+len(e.errList)+len(e.apis))+
			8*(len(e.dedup.cur)+len(e.dedup.old))+40*len(e.vals.strs))
	}
	b = append(b, snapshotMagic...)
	b = binary.LittleEndian.AppendUint32(b, SnapshotVersion)
	b = binary.LittleEndian.AppendUint64(b, 0) // body length, patched below
	w := snapWriter{b: b}
	if err := e.writeSections(&w); err != nil {
		return nil, err
	}
	b = w.b
	binary.LittleEndian.PutUint64(b[start+headerSize-8:], uint64(len(b)-start-headerSize))
	return binary.LittleEndian.AppendUint64(b, xxhash.Sum64(b[start:])), nil
}

// Restore reads one snapshot from r, and nothing after it, and returns an
// Engine in the state of the one that wrote it, sending to sink and logging
// to logger (which may be nil).
//
// cfg must agree with the snapshot on the settings the stored state depends
// on, or Restore fails with ErrSnapshotConfig naming the setting: the model
// constants (cfg.Seasonal, cfg.Rate), whose learned averages mean nothing
// under other constants, and the time zone of every account with state,
// whose hourly profiles were learned in it. Every other setting may differ
// and takes effect from now on (thresholds, warm-up, allowed lateness, the
// dedup window, service events); each difference is logged.
// docs/formats/snapshot.md gives the reasons.
//
// Errors about the input wrap ErrBadSnapshot (and ErrSnapshotVersion for a
// version this reader does not know); an error reading r is returned as
// is. Restore checks every count against the bytes that remain before
// allocating, so a hostile input costs at most memory in proportion to its
// size, and never panics.
func Restore(cfg Config, sink Sink, logger *slog.Logger, r io.Reader) (*Engine, error) {
	version, body, err := readSnapshot(r)
	if err != nil {
		return nil, err
	}
	e, err := New(cfg, sink, logger)
	if err != nil {
		return nil, err
	}
	switch version {
	case 1, 2, 3:
		err = e.readSections(version, body, headerSize)
	default:
		// readSnapshot lets only known versions through.
		panic("BUG: no reader for snapshot version " + strconv.Itoa(int(version)))
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// readSnapshot reads the envelope: magic, version, body length, body and
// checksum. It returns the body once the checksum matches.
func readSnapshot(r io.Reader) (uint32, []byte, error) {
	var hdr [headerSize]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, fmt.Errorf("%w: truncated header: %d of %d bytes", ErrBadSnapshot, n, headerSize)
		}
		return 0, nil, fmt.Errorf("read snapshot: %w", err)
	}
	if string(hdr[:len(snapshotMagic)]) != snapshotMagic {
		return 0, nil, fmt.Errorf("%w: not a trailsight snapshot (magic %q)", ErrBadSnapshot, hdr[:len(snapshotMagic)])
	}
	// The version is checked before the checksum: a newer version may
	// checksum differently.
	version := binary.LittleEndian.Uint32(hdr[len(snapshotMagic):])
	if version == 0 || version > SnapshotVersion {
		return 0, nil, fmt.Errorf("%w: %w: version %d; this reader knows versions 1 to %d",
			ErrBadSnapshot, ErrSnapshotVersion, version, SnapshotVersion)
	}
	n := binary.LittleEndian.Uint64(hdr[headerSize-8:])
	if n > math.MaxInt64-checksumSize {
		return 0, nil, fmt.Errorf("%w: body length %d", ErrBadSnapshot, n)
	}
	rest, err := readN(r, int64(n)+checksumSize)
	if err != nil {
		return 0, nil, fmt.Errorf("read snapshot: %w", err)
	}
	if uint64(len(rest)) < n+checksumSize {
		return 0, nil, fmt.Errorf("%w: truncated: %d bytes after the header, want %d", ErrBadSnapshot, len(rest), n+checksumSize)
	}
	body, sum := rest[:n], binary.LittleEndian.Uint64(rest[n:])
	d := xxhash.New()
	_, _ = d.Write(hdr[:])
	_, _ = d.Write(body)
	if got := d.Sum64(); got != sum {
		return 0, nil, fmt.Errorf("%w: checksum %016x, want %016x (corrupt or truncated)", ErrBadSnapshot, got, sum)
	}
	return version, body, nil
}

// readN reads up to n bytes from r, fewer only at EOF. It allocates at most
// 1 MiB before bytes arrive, so a length the input does not back costs
// little; a snapshot up to that size is read with one allocation.
func readN(r io.Reader, n int64) ([]byte, error) {
	const upFront = 1 << 20
	b := make([]byte, min(n, upFront))
	k, err := io.ReadFull(r, b)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return b[:k], nil
	case err != nil:
		return nil, err
	case n <= upFront:
		return b, nil
	}
	more, err := io.ReadAll(io.LimitReader(r, n-upFront))
	return append(b, more...), err
}

// readSections decodes the body of a version 1, 2 or 3 snapshot into e, a
// new Engine. at is the body's offset in the snapshot, for messages.
// Version 1 has no job rhythms: its call series start learning theirs
// afresh. Versions 1 and 2 have no principals' agents (a principal is
// taken to call on its own until its next call says otherwise) and no
// excused bursts.
func (e *Engine) readSections(version uint32, body []byte, at int) error {
	decoders := [numSections + 1]func(*snapReader) error{
		secConfig: e.readConfig, secEngine: e.readEngine, secStrings: e.readStrings, secDedup: e.readDedup,
		secAccounts: e.readAccounts, secRegions: e.readRegions, secAPIs: e.readAPIs, secCalls: e.readCalls,
		secErrors: e.readErrors, secDirty: e.readDirty,
	}
	p := body
	for id := secConfig; id <= numSections; id++ {
		if len(p) < 9 {
			return fmt.Errorf("%w: truncated before the %s section", ErrBadSnapshot, id)
		}
		if got := sectionID(p[0]); got != id {
			return fmt.Errorf("%w: %s section expected at byte %d, found %s", ErrBadSnapshot, id, at, got)
		}
		n := binary.LittleEndian.Uint64(p[1:9])
		if n > uint64(len(p)-9) {
			return fmt.Errorf("%w: %s section: length %d exceeds the %d bytes left", ErrBadSnapshot, id, n, len(p)-9)
		}
		r := &snapReader{p: p[9 : 9+n], at: int64(at + 9), sec: id, version: version, intern: e.lookupString}
		if err := decoders[id](r); err != nil {
			return err
		}
		if err := r.end(); err != nil {
			return err
		}
		p, at = p[9+n:], at+9+int(n)
	}
	if len(p) != 0 {
		return fmt.Errorf("%w: %d bytes after the last section", ErrBadSnapshot, len(p))
	}
	return nil
}

// lookupString returns the value table's copy of b, if it has one.
func (e *Engine) lookupString(b []byte) (string, bool) {
	if id, ok := e.vals.ids[string(b)]; ok {
		return e.vals.strs[id], true
	}
	return "", false
}

// The configuration policy. A snapshot records every setting that shapes
// output. Restore refuses a Config that disagrees on the model constants
// (the learned EWMAs, priors and dispersions are averages over windows the
// constants define) and, per account with state, on the time zone (the
// hourly profiles were learned in it; see readRegions). Every other setting
// is read by the Engine afresh at each use, never baked into state, so a
// new value simply applies from the restore on: this lets an operator
// retune thresholds on a redeploy without resetting every baseline and
// reopening a week of warm-up. Changing the dedup window or the allowed
// lateness is safe too: an eventID is still remembered at least the new
// window (the current generation is kept), and minutes already evaluated
// stay evaluated.

// modelSetting is one model constant of the Config.
type modelSetting struct {
	name string
	v    *float64
}

// modelSettings lists the model constants in snapshot order.
func modelSettings(c *Config) []modelSetting {
	s, r := &c.Seasonal, &c.Rate
	return []modelSetting{
		{"Seasonal.ProfileWeeks", &s.ProfileWeeks}, {"Seasonal.LevelMinutes", &s.LevelMinutes},
		{"Seasonal.LevelPrior", &s.LevelPrior}, {"Seasonal.DispersionMinutes", &s.DispersionMinutes},
		{"Seasonal.DispersionPrior", &s.DispersionPrior}, {"Seasonal.DispersionPriorBlock", &s.DispersionPriorBlock},
		{"Seasonal.DispersionPriorCalls", &s.DispersionPriorCalls}, {"Seasonal.SlotPrior", &s.SlotPrior},
		{"Seasonal.HourPrior", &s.HourPrior}, {"Seasonal.HourMinutes", &s.HourMinutes},
		{"Seasonal.Clip", &s.Clip}, {"Seasonal.MinRelError", &s.MinRelError},
		{"Rate.Minutes", &r.Minutes}, {"Rate.PriorErrors", &r.PriorErrors}, {"Rate.PriorCalls", &r.PriorCalls},
		{"Rate.DispersionPrior", &r.DispersionPrior}, {"Rate.Clip", &r.Clip}, {"Rate.MinRelError", &r.MinRelError},
	}
}

func (e *Engine) writeConfig(w *snapWriter) error {
	c := &e.cfg
	w.putVarint(int64(c.AllowedLateness))
	w.putVarint(int64(c.DedupWindow))
	w.putVarint(int64(c.WarmUp))
	w.putFloat64(c.StartP)
	w.putFloat64(c.EndP)
	w.putVarint(int64(c.MinCount))
	w.putVarint(int64(c.CoolDown))
	w.putBool(c.ServiceEvents)
	for _, s := range modelSettings(c) {
		w.putFloat64(*s.v)
	}
	return nil
}

func (e *Engine) readConfig(r *snapReader) error {
	var c Config
	c.AllowedLateness = time.Duration(r.varint())
	c.DedupWindow = time.Duration(r.varint())
	c.WarmUp = time.Duration(r.varint())
	c.StartP = r.float64()
	c.EndP = r.float64()
	c.MinCount = r.int()
	c.CoolDown = r.int()
	c.ServiceEvents = r.bool()
	for _, s := range modelSettings(&c) {
		*s.v = r.float64()
	}
	if r.err != nil {
		return r.err
	}
	now := modelSettings(&e.cfg)
	for i, s := range modelSettings(&c) {
		if math.Float64bits(*s.v) != math.Float64bits(*now[i].v) {
			return fmt.Errorf("%w: %s is %g, the snapshot's state was learned with %g", ErrSnapshotConfig, s.name, *now[i].v, *s.v)
		}
	}
	for _, d := range []struct {
		flag          string
		snap, current any
	}{
		{"detector.allowed-lateness", c.AllowedLateness, e.cfg.AllowedLateness},
		{"detector.dedup-window", c.DedupWindow, e.cfg.DedupWindow},
		{"detector.warm-up", c.WarmUp, e.cfg.WarmUp},
		{"detector.start-p", c.StartP, e.cfg.StartP},
		{"detector.end-p", c.EndP, e.cfg.EndP},
		{"detector.min-count", c.MinCount, e.cfg.MinCount},
		{"detector.cool-down", c.CoolDown, e.cfg.CoolDown},
		{"detector.service-events", c.ServiceEvents, e.cfg.ServiceEvents},
	} {
		if d.snap != d.current {
			e.log.Info("restored snapshot: setting changed, the new value applies from now on",
				"setting", d.flag, "snapshot", fmt.Sprint(d.snap), "now", fmt.Sprint(d.current))
		}
	}
	return nil
}
