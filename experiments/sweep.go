package experiments

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prunerlab/pruner-tui/core/kernels"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// SweepOptions say how a sweep runs; they never change its table.
type SweepOptions struct {
	// Workers is how many runs go at once; 0 is runtime.NumCPU().
	Workers int
	// KernelThreads is the most threads one kernel call (a large matrix
	// product) may use while the sweep runs (kernels.SetThreads); 0 is 1
	// with several workers (each keeps a core busy on its own, and the
	// kernels' helper threads would only compete with them), and leaves
	// the setting as it is with one.
	KernelThreads int
	// Progress, when not nil, is called after each job (a baseline
	// trained, a point run), one call at a time.
	Progress func(SweepProgress)
}

// SweepProgress is a job of a sweep finished.
type SweepProgress struct {
	Done, Total int                // jobs finished, jobs in all (baselines and runs)
	Job         string             // "baseline seed=7", "point 3 compress[0].ratio=0.9 seed=8"
	Rows        results.SweepTable // the rows the job added (they reach the table in the points' order)
	Elapsed     time.Duration
	Err         error
}

// baselineGroup is the runs of a sweep that share a baseline.
type baselineGroup struct {
	runs   []int // indices in the sweep's points, in order
	label  string
	ready  chan struct{} // closed once shared or err is set
	shared *sharedBaseline
	err    error
}

// RunSweep runs every point of s's sweep (a spec without one is a sweep
// of one point) on Workers workers and returns its table: each
// baseline's dense row once (at its first run), then each run's rows, in
// the order of the points whatever the number of workers; and with
// repeats, the statistics over seeds. Runs that differ only in their
// compression steps share one baseline, trained once and kept in memory;
// runs that use the same dataset share it; and a compress entry runs once
// per baseline and values of its own axes, its rows labelled by those
// (see entryPlan). A run that fails does not stop
// the others: the error returned names every failed run, beside the rows
// of the rest. Cancelling ctx stops every run within one batch.
//
// Fewer workers run than asked when that many runs at once would not fit
// in Options.MaxMemory (see fitWorkers).
//
// Latencies are measured while other runs work: with more than one
// worker they read high (run with one worker for latencies).
func RunSweep(ctx context.Context, s spec.Spec, opts Options, so SweepOptions) (results.SweepReport, error) {
	points := sweepPoints(s)
	if opts.Baseline != "" {
		return results.SweepReport{}, errors.New("--baseline does not go with a sweep: a sweep trains its baselines, one per seed and setting of the data, model and training, and shares them")
	}
	if opts.SaveDir != "" {
		return results.SweepReport{}, errors.New("--save does not go with a sweep: its runs' model files would take the same names")
	}
	if s.Model.From != "" {
		return results.SweepReport{}, errors.New("model.from does not go with a sweep yet: a sweep trains its baselines; run the imported model with run, one spec at a time")
	}
	for _, p := range points {
		if err := Preflight(p.Spec, opts); err != nil {
			return results.SweepReport{}, fmt.Errorf("%s: %w", pointName(p), err)
		}
	}
	groups, groupOf := groupRuns(points)
	outcomes := make([]sweepOutcome, len(points))
	sw := &sweeper{ctx: ctx, opts: opts, points: points, groups: groups, groupOf: groupOf, outcomes: outcomes,
		skips: entryPlan(points, groupOf), progress: so.Progress, total: len(groups) + len(points)}
	workers, threads := sweepThreads(points, opts, so)
	if threads > 0 {
		defer kernels.SetThreads(kernels.SetThreads(threads))
	}
	sw.work(workers)
	report := results.SweepReport{Rows: sw.table()}
	if s.Sweep != nil && s.Sweep.Repeats > 1 {
		report.Stats = results.Aggregate(report.Rows)
	}
	if err := ctx.Err(); err != nil {
		return report, err
	}
	return report, sw.errors()
}

// sweepThreads is how many workers a sweep runs (as many as fit in the
// memory limit) and the kernel threads it sets (0: leave them).
func sweepThreads(points []spec.Point, opts Options, so SweepOptions) (workers, kernelThreads int) {
	workers = so.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	limit := opts.MaxMemory
	if limit == 0 {
		limit, _ = DefaultMaxMemory()
	}
	workers = fitWorkers(points, limit, workers)
	kernelThreads = so.KernelThreads
	if kernelThreads == 0 && workers > 1 {
		kernelThreads = 1
	}
	return workers, kernelThreads
}

// sweepPoints are the runs of s: its sweep's points, or s alone.
func sweepPoints(s spec.Spec) []spec.Point {
	if s.Sweep == nil {
		return []spec.Point{{Spec: s}}
	}
	return s.Sweep.Points
}

func pointName(p spec.Point) string {
	name := fmt.Sprintf("point %d", p.Index+1)
	if l := p.Label(); l != "" {
		name += " " + l
	}
	return name + fmt.Sprintf(" seed=%d", p.Spec.Seed)
}

// groupRuns groups the runs by baseline, in the order of their first
// runs; groupOf[i] is run i's group.
func groupRuns(points []spec.Point) (groups []*baselineGroup, groupOf []int) {
	index := map[string]int{}
	groupOf = make([]int, len(points))
	for i, p := range points {
		key := baselineKey(p.Spec.Resolved())
		g, ok := index[key]
		if !ok {
			g = len(groups)
			index[key] = g
			groups = append(groups, &baselineGroup{label: baselineLabel(p), ready: make(chan struct{})})
		}
		groups[g].runs = append(groups[g].runs, i)
		groupOf[i] = g
	}
	return groups, groupOf
}

// baselineLabel is the point column of a baseline's dense row: the axes
// outside compress, the only ones a baseline depends on.
func baselineLabel(p spec.Point) string {
	var values []spec.AxisValue
	for _, v := range p.Values {
		if v.Path != "compress" && !strings.HasPrefix(v.Path, "compress[") && !strings.HasPrefix(v.Path, "compress.") {
			values = append(values, v)
		}
	}
	return spec.Label(values)
}

// sweepOutcome is what one run gave: its rows (the baseline's left out)
// and the compress entry each came from.
type sweepOutcome struct {
	rows    results.Table
	entries []int
	err     error
}

// sweeper runs a sweep's jobs: job j < len(groups) trains baseline j,
// the others run point j − len(groups) once its baseline is ready.
// Baselines come first, so a worker that waits for one waits for a
// baseline another worker is training.
type sweeper struct {
	ctx      context.Context
	opts     Options
	points   []spec.Point
	groups   []*baselineGroup
	groupOf  []int
	outcomes []sweepOutcome
	skips    [][]bool // run i skips compress entry e (see entryPlan)
	progress func(SweepProgress)
	total    int

	mu   sync.Mutex
	done int
}

func (sw *sweeper) work(workers int) {
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for j := range sw.total {
			select {
			case jobs <- j:
			case <-sw.ctx.Done():
				return
			}
		}
	}()
	sets := &datasets{}
	var wg sync.WaitGroup
	for range min(workers, sw.total) {
		wg.Go(func() {
			for j := range jobs {
				if j < len(sw.groups) {
					sw.trainBaseline(j, sets)
				} else {
					sw.runPoint(j - len(sw.groups))
				}
			}
		})
	}
	wg.Wait()
	// Jobs never taken (a cancelled sweep) leave no one waiting.
	for _, g := range sw.groups {
		select {
		case <-g.ready:
		default:
			g.err = sw.ctx.Err()
			close(g.ready)
		}
	}
}

func (sw *sweeper) trainBaseline(g int, sets *datasets) {
	start := time.Now()
	group := sw.groups[g]
	specs := make([]spec.Spec, len(group.runs))
	for i, run := range group.runs {
		specs[i] = sw.points[run].Spec
	}
	group.shared, group.err = trainShared(sw.ctx, specs, sw.opts, sets)
	close(group.ready)
	job := "baseline"
	if group.label != "" {
		job += " " + group.label
	}
	var rows results.SweepTable
	if group.err == nil {
		base := group.shared.row
		rows = results.SweepTable{{Point: group.label, Seed: specs[0].Seed, Row: base, BaseTestAcc: base.TestAcc}}
	}
	sw.report(SweepProgress{Job: fmt.Sprintf("%s seed=%d", job, specs[0].Seed), Rows: rows, Elapsed: time.Since(start), Err: group.err})
}

func (sw *sweeper) runPoint(i int) {
	start := time.Now()
	group := sw.groups[sw.groupOf[i]]
	<-group.ready
	out := &sw.outcomes[i]
	if out.err = group.err; out.err == nil {
		out.err = sw.runEntries(i, group.shared)
	}
	sw.report(SweepProgress{Job: pointName(sw.points[i]), Rows: sw.rowsOf(i), Elapsed: time.Since(start), Err: out.err})
}

// runEntries runs the compress entries of run i that no earlier run of
// its baseline ran with the same values, on the shared baseline.
func (sw *sweeper) runEntries(i int, shared *sharedBaseline) error {
	opts := sw.opts
	opts.shared, opts.skip = shared, map[int]bool{}
	for e, skip := range sw.skips[i] {
		if skip {
			opts.skip[e] = true
		}
	}
	if len(opts.skip) == len(sw.points[i].Spec.Compress) {
		return nil
	}
	sink := &partSink{}
	report, err := Run(sw.ctx, sw.points[i].Spec, opts, sink)
	out := &sw.outcomes[i]
	for j, row := range report.Rows {
		if j < len(sink.parts) && sink.parts[j] >= 2 { // part 1 is the baseline's row
			out.rows = append(out.rows, row)
			out.entries = append(out.entries, sink.parts[j]-2)
		}
	}
	return err
}

// rowsOf is run i's rows, each labelled with the axes its entry depends
// on.
func (sw *sweeper) rowsOf(i int) results.SweepTable {
	p, out := sw.points[i], sw.outcomes[i]
	g := sw.groups[sw.groupOf[i]]
	var rows results.SweepTable
	for j, row := range out.rows {
		label := spec.Label(entryValues(p, out.entries[j]))
		rows = append(rows, results.SweepRow{Point: label, Seed: p.Spec.Seed, Row: row, BaseTestAcc: g.shared.row.TestAcc})
	}
	return rows
}

func (sw *sweeper) report(p SweepProgress) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.done++
	if sw.progress != nil {
		p.Done, p.Total = sw.done, sw.total
		sw.progress(p)
	}
}

// table lays out the rows: at each group's first run its dense row,
// then every run's rows, in the order of the points.
func (sw *sweeper) table() results.SweepTable {
	var out results.SweepTable
	for i, p := range sw.points {
		g := sw.groups[sw.groupOf[i]]
		if g.shared == nil {
			continue
		}
		base := g.shared.row
		if g.runs[0] == i {
			out = append(out, results.SweepRow{Point: g.label, Seed: p.Spec.Seed, Row: base, BaseTestAcc: base.TestAcc})
		}
		out = append(out, sw.rowsOf(i)...)
	}
	return out
}

// errors names every run that failed.
func (sw *sweeper) errors() error {
	var errs []error
	for i, o := range sw.outcomes {
		if o.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", pointName(sw.points[i]), o.err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d runs failed:\n%w", len(errs), len(sw.points), errors.Join(errs...))
}
