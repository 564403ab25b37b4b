package tui

import (
	"context"
	"fmt"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// runSweep is the run job of a spec with a sweep block: its points run
// as `pruner-tui sweep` runs them (experiments.RunSweep), each finished
// job a stage event and its rows result events as they come, each row's
// setting prefixed with its point and seed. A sweep trains no one
// baseline the knobs could turn, so they stay off.
func runSweep(ctx context.Context, s spec.Spec, opts experiments.Options, sink experiments.Sink) jobEndMsg {
	progress := func(p experiments.SweepProgress) {
		sink.Emit(experiments.StageEvent{Stage: experiments.StageCompressing, Detail: fmt.Sprintf("sweep %d/%d: %s", p.Done, p.Total, p.Job)})
		for _, r := range p.Rows {
			sink.Emit(experiments.ResultEvent{Row: sweepRow(r)})
		}
	}
	report, err := experiments.RunSweep(ctx, s, opts, experiments.SweepOptions{Progress: progress})
	table := make(results.Table, len(report.Rows))
	for i, r := range report.Rows {
		table[i] = sweepRow(r)
	}
	stage := experiments.StageDone
	if err != nil {
		stage = experiments.StageFailed
	}
	sink.Emit(experiments.StageEvent{Stage: stage, Detail: fmt.Sprintf("%d rows", len(table))})
	return jobEndMsg{Table: table, Err: err}
}

// sweepRow is a sweep's row for the results pane: its point and seed
// lead the setting ("compress[0].ratio=0.9 seed=2: ratio=0.90").
func sweepRow(r results.SweepRow) results.Row {
	row := r.Row
	prefix := fmt.Sprintf("seed=%d: ", r.Seed)
	if r.Point != "" {
		prefix = r.Point + " " + prefix
	}
	row.Setting = prefix + row.Setting
	return row
}
