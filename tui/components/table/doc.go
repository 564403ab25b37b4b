// Package table is the results pane: the result table's rows as they
// arrive, in a scrollable bubbles table showing the columns a learner
// compares (size, compression, accuracy, its change and the overfitting gap,
// latency).
package table
