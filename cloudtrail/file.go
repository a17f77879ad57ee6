package cloudtrail

import (
	"strconv"
	"strings"
	"time"
)

// FileKind says what a file in a trail's S3 tree holds. The zero value is
// invalid.
type FileKind uint8

// Kinds of files.
const (
	_ FileKind = iota
	// FileLog is a log file of records, or any JSON file to decode as
	// one.
	FileLog
	// FileDigest is a digest file (spec §5).
	FileDigest
	// FileInsight is an Insights file.
	FileInsight
	// FileOther is anything else: folder keys, manifests, stray files.
	FileOther
)

// String returns a short name for k, fit for a metrics label.
func (k FileKind) String() string {
	switch k {
	case FileLog:
		return "log"
	case FileDigest:
		return "digest"
	case FileInsight:
		return "insight"
	case FileOther:
		return "other"
	}
	return "file_kind_" + strconv.Itoa(int(k))
}

// ClassifyPath tells from an S3 key or a local path (spec §4.1) what a file
// is. The file name's kind marker decides first (_CloudTrail-Digest_,
// _CloudTrail-Insight_); then, for a JSON or gzip file, a CloudTrail-Digest
// or CloudTrail-Insight folder anywhere in the path; then the _CloudTrail_
// marker or a .json, .jsonl, .ndjson or .gz extension makes a log file.
// Everything else, folder keys included, is FileOther.
func ClassifyPath(p string) FileKind {
	if strings.Contains(p, `\`) {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	name := p[strings.LastIndexByte(p, '/')+1:]
	dir := "/" + p[:len(p)-len(name)]
	data := hasDataExt(name)
	switch {
	case strings.Contains(name, "_CloudTrail-Digest_"):
		return FileDigest
	case strings.Contains(name, "_CloudTrail-Insight_"):
		return FileInsight
	case data && strings.Contains(dir, "/CloudTrail-Digest/"):
		return FileDigest
	case data && strings.Contains(dir, "/CloudTrail-Insight/"):
		return FileInsight
	case data, strings.Contains(name, "_CloudTrail_"):
		return FileLog
	}
	return FileOther
}

// dataExts are the extensions of files DecodeBody can read.
var dataExts = []string{".json", ".jsonl", ".ndjson", ".gz"}

func hasDataExt(name string) bool {
	for _, ext := range dataExts {
		if len(name) > len(ext) && strings.EqualFold(name[len(name)-len(ext):], ext) {
			return true
		}
	}
	return false
}

// DeliveryTime reads the delivery time from the name of a log or Insights
// file (..._<YYYYMMDDTHHmmZ>_<unique>.json.gz: the delivery minute) or of a
// digest file (..._<YYYYMMDDTHHMMSSZ>.json.gz: digestEndTime, spec §4.1),
// also with a _backfill suffix. name may be a whole key or path. ok is false
// when the name carries no such time.
func DeliveryTime(name string) (t time.Time, ok bool) {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	name = strings.TrimSuffix(name, ".gz")
	for _, ext := range []string{".json", ".jsonl", ".ndjson"} {
		name = strings.TrimSuffix(name, ext)
	}
	k := strings.LastIndexByte(name, '_')
	if k < 0 {
		return time.Time{}, false
	}
	rest, last := name[:k], name[k+1:]
	prev := rest[strings.LastIndexByte(rest, '_')+1:]
	// A log name ends in the minute and the unique part; a digest name in
	// the second. Checking the log form first keeps a unique part that
	// happens to look like a time from being read as one.
	if t, ok := parseStamp(prev, false); ok {
		return t, true
	}
	if last == "backfill" {
		return parseStamp(prev, true)
	}
	return parseStamp(last, true)
}

// parseStamp parses YYYYMMDDTHHmmZ, or YYYYMMDDTHHMMSSZ when seconds is true.
func parseStamp(s string, seconds bool) (time.Time, bool) {
	n := len("20060102T1504Z")
	if seconds {
		n = len("20060102T150405Z")
	}
	if len(s) != n || s[8] != 'T' || s[n-1] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[4:6])
	day, ok3 := digits(s[6:8])
	hour, ok4 := digits(s[9:11])
	minute, ok5 := digits(s[11:13])
	sec, ok6 := 0, true
	if seconds {
		sec, ok6 = digits(s[13:15])
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}
