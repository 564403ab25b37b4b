// Package table is the results pane: the result table's rows as they
// arrive, with the columns a learner compares (size, compression,
// accuracy, its change and the overfitting gap, latency; multiply-adds and
// wall time on wide screens). The dense baseline stays pinned under the
// header while the other rows scroll, the selected row is marked, a
// setting too long for its column is shown whole on the pane's last line,
// and Δ is coloured by its sign.
package table
