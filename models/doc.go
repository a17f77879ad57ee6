// Package models holds the statistical models trailsight's detector uses:
// expected per-minute counts with daily, weekly and hourly rhythm
// (Seasonal), error-rate expectations (Rate), and honest tail probabilities
// for overdispersed counts (negative binomial, through gonum's regularised
// incomplete beta and gamma functions).
//
// In this project "models" means statistical models, never data models.
// The package is pure maths: no I/O, no logging, no clock. Callers pass the
// minute's position in the week (a Slot) computed in the account's time
// zone; the package never looks at wall-clock time. Values are not safe for
// concurrent use; each belongs to one series owned by one goroutine.
package models
