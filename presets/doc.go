// Package presets holds the experiments shipped with pruner-tui: one YAML
// spec per file (schema: package experiments, Spec), embedded in the binary.
// Names lists them; Read returns one's bytes. Parsing and validation live in
// package experiments, so this package has no dependencies.
package presets
