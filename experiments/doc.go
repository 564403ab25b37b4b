// Package experiments runs experiments: the engine behind pruner-tui's
// TUI and its headless run command.
//
// Run takes a spec (package spec), trains the dense baseline, then runs
// each compression step and adds its rows to the result table, reporting
// typed Events to a Sink as it goes (the TUI's sink forwards them to
// Bubble Tea; the headless one prints progress). It returns a
// results.Report: the result table and the sensitivity tables.
//
// A compression is a plan (plan.go): an ordered list of stages — prune,
// quantize, kmeans, lowrank, finetune, huffman — applied to one copy of the
// baseline, each working on the model state the stage before left and
// adding a row. A YAML step is a plan of one stage, a pipeline a plan of
// its stages, and the three knobs (Setting, applied by Trained) compile to
// a plan of lowrank → prune → quantize. The prune schedules — one-shot,
// gradual, iterative, lottery — are drivers around the application of the
// prune stage, each written once (prune.go). Sensitivity steps are
// analyses, not plans: they add no rows, only a table later steps read.
//
// Everything is deterministic from Spec.Seed: the same spec gives the same
// table except for the latency and wall-time columns.
//
// RunSweep runs the points of a spec's sweep block (spec.Sweep) on a pool
// of workers and returns the sweep's table (results.SweepTable) and, with
// repeats, its statistics over the seeds (results.StatsTable). Points that
// differ only in their compression steps share one baseline, trained once
// and kept in memory (shared.go); a compress entry runs once per baseline
// and values of its own axes (sweep_entries.go). The rows come in the
// points' order whatever the number of workers.
//
// Before any work Run checks, with Preflight (which a command calls first
// to fail at once), that the spec is valid, that its estimated memory
// (spec.Memory) fits in Options.MaxMemory — by default DefaultMaxMemory, ¾
// of the machine's — and that Options.SaveDir takes files as long as the
// longest it will write.
//
// # Model files and size_bytes
//
// Every row's size_bytes is the length of its model file (core/modelfile;
// see score.go): dense float32 for the baseline, the smallest exact
// encoding with Huffman-coded streams for every other row — except, in a
// pipeline with a huffman stage, the stages before it, stored without
// entropy coding. compression_ratio is the baseline's file size over the
// row's. Options.SaveDir (pruner-tui run --save DIR) writes each row's file
// as DIR/EXPERIMENT-NN-TECHNIQUE.prtm (NN the row's index; the baseline also
// as .safetensors), exactly the bytes size_bytes counts. The per-layer sizes
// of a row's LayersEvent and of the knob preview are the layers' payload
// bytes in that file; the header, preamble and checksum (a few hundred
// bytes) belong to no layer.
package experiments
