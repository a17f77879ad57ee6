module github.com/trailsight/trailsight

go 1.26

require (
	github.com/cespare/xxhash/v2 v2.3.0
	github.com/google/go-cmp v0.7.0
	gonum.org/v1/gonum v0.17.0
)
