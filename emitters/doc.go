// Package emitters holds trailsight's sinks: Insights files in the trail
// layout (Dir), and later S3, topics and notifications.
//
// Every sink is idempotent on record content: object keys derive from a
// hash of the body, so a redelivery after a crash or a rebalance rewrites
// the same object instead of adding a duplicate. A sink is owned by one
// goroutine unless its doc says otherwise.
package emitters
