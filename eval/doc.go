// Package eval scores trailsight against ground truth.
//
// Two yardsticks live here:
//
//   - CloudTrail scoring (Score, Report): Insights records written by a
//     replay (LoadInsightsDir reads a trail output tree) are paired by
//     sharedEventID and matched against a dataset's labelled windows
//     (LoadLabels reads <dir>/labels.json). The Report gives recall per
//     anomaly kind, precision, F1, Insights caused by traps, false Starts
//     per 1000 series-days, detection delay, the error of the reported
//     statistics against the dataset's true counts, and attribution
//     accuracy.
//   - NAB (RunNAB, ScoreNAB): runs an online detector over a corpus in the
//     Numenta Anomaly Benchmark layout, writes NAB result files and scores
//     them with NAB's rules (../shared/spec/nab.md). GenerateNABCorpus
//     writes a small synthetic corpus in that layout for tests.
//
// The package needs no Kafka, S3 or wall clock: everything is a function of
// its inputs.
package eval
