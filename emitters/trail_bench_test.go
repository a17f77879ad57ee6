package emitters_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trailsight/trailsight/cloudtrail"
	"github.com/trailsight/trailsight/emitters"
	"github.com/trailsight/trailsight/internal/objstore"
	"github.com/trailsight/trailsight/internal/s3test"
)

// benchEvents returns decoded records of accounts × regions, one every
// few seconds each, over the given minutes, with their Raw kept.
func benchEvents(b *testing.B, accounts, regions, perMinute, minutes int) []cloudtrail.Event {
	b.Helper()
	dec := cloudtrail.NewDecoder()
	var evs []cloudtrail.Event
	n := 0
	for m := range minutes {
		for i := range perMinute {
			for a := range accounts {
				for r := range regions {
					n++
					at := tt0.Add(time.Duration(m)*time.Minute + time.Duration(i*60/perMinute)*time.Second)
					rc := rec{fmt.Sprint("bench-", n), fmt.Sprintf("1111222233%02d", a), []string{"us-east-1", "eu-west-1", "ap-south-1"}[r%3],
						"ec2.amazonaws.com", "RunInstances", i%2 == 0, at}
					var ev cloudtrail.Event
					raw := []byte(rc.json())
					if err := dec.DecodeRecord(raw, &ev); err != nil {
						b.Fatal(err)
					}
					ev.Raw = raw
					evs = append(evs, ev)
				}
			}
		}
	}
	return evs
}

// BenchmarkTrailToS3 delivers an hour of records of 3 accounts in 2
// Regions (100 records a minute each) through a validating trail to MinIO:
// log files every 5 minutes and hourly digests, written 16 at a time.
func BenchmarkTrailToS3(b *testing.B) {
	srv := s3test.Shared(b)
	evs := benchEvents(b, 3, 2, 100, 60)
	kr := benchKeyRing(b)
	for _, interval := range []time.Duration{time.Minute, 5 * time.Minute} {
		b.Run("interval="+interval.String(), func(b *testing.B) {
			var objects int64
			for b.Loop() {
				bucket := srv.Bucket(b)
				s3, err := emitters.NewS3(objstore.NewS3FromClient(srv.Client(b), bucket), emitters.S3Config{}, nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				tr, err := emitters.NewTrail(emitters.TrailConfig{Name: "bench", HomeRegion: "us-east-1", MultiRegion: true,
					Bucket: bucket, LogFileValidation: true, DeliveryInterval: interval}, s3, bucket, kr)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				for i := range evs {
					if err := tr.Advance(ctx, time.Unix(evs[i].EventTime, 0).Add(time.Minute)); err != nil {
						b.Fatal(err)
					}
					tr.Record(&evs[i])
				}
				if err := tr.Close(ctx, true); err != nil {
					b.Fatal(err)
				}
				if err := s3.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				objects += tr.Stats.LogFiles + tr.Stats.Digests
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(len(evs)*b.N)/sec, "events/s")
			b.ReportMetric(float64(objects)/sec, "objects/s")
		})
	}
}

func benchKeyRing(b *testing.B) *emitters.KeyRing {
	b.Helper()
	kr, err := emitters.OpenKeyRing(b.TempDir(), tt0)
	if err != nil {
		b.Fatal(err)
	}
	return kr
}
