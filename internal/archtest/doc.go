// Package archtest holds the test that keeps the import direction of the
// style guide true: models <- baseline <- detector <- consumers, emitters,
// eval <- cmd; cloudtrail imports none of them; consumers and emitters
// never import each other.
package archtest
