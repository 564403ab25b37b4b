// Package results holds what a run produces for its users: the result
// table (one Row per experiment, technique and setting) and the
// sensitivity tables (one layer changed alone at each point of a sweep of
// prune ratios or bit widths), their CSV, Markdown, JSON and aligned-text
// forms, and one export that writes a run's tables side by side.
//
// Column names are the project's contract with its users: they are added,
// never renamed, and every export uses them as they are (a CSV header row,
// JSON objects keyed by them, Markdown headers).
package results
