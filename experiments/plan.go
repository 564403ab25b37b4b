package experiments

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// A compression is a plan: an ordered list of stages applied to one copy
// of the trained baseline, each working on the model state the stage
// before left and adding a row. A prune, quantize, kmeans or lowrank step
// is a plan of one stage (a prune step with several targets, a plan per
// target), a pipeline a plan of its stages, and the knobs compile to a
// plan too (see Trained). Schedules — one-shot, gradual, iterative,
// lottery — are drivers around the application of the prune stage (see
// prune.go).
type plan struct {
	name   string // a pipeline's name: prefixes the rows' settings
	stages []stage
	// stream is the random stream of the first stage; stage j takes
	// stream+j. A step's plan takes 0 (a target's, its index); a
	// pipeline's stages 1, 2, ...
	stream uint64
	// roundShift places a prune stage's rounds in streams of their own:
	// round k of stage stream s takes s + k<<roundShift.
	roundShift uint
	// huffman says the model file entropy-codes its streams from the
	// first stage on (a pipeline with a huffman stage starts without).
	huffman bool
}

// stage is one stage of a plan.
type stage interface {
	// label is the technique column of the stage's rows.
	label() string
	// setting is the stage's setting column before it runs (energy's
	// ranks and bits_from's widths are known only after).
	setting() string
	// apply compresses (or trains, or entropy-codes) ms, recording in
	// ms.setting the setting as run.
	apply(x *stageRun, ms *modelState) error
}

// ownRows is a stage that adds its rows itself: the rounds of a
// standalone iterative or lottery step.
type ownRows interface{ addsOwnRows() bool }

// env is what stages run in: the data, how to train, where to report.
type env struct {
	ctx context.Context
	reporter
	spec        spec.Spec
	train, test *data.Set
	base        results.Row // the dense baseline's row
}

// stageRun is one stage being applied: its environment, which compress
// entry it belongs to, its random stream, the phase its events carry, and
// (for stages that add their own rows) how to add one.
type stageRun struct {
	*env
	index      int // in compress
	stream     uint64
	roundShift uint
	phase      string
	start      time.Time // when the plan started
	// score adds a row for m (nil outside a run), sized by its model file
	// (Huffman-coded when huffman).
	score func(technique, setting string, m *nn.Sequential, wall time.Duration, huffman bool) error
}

// rand is the random source of the stage's stream (and of its rounds,
// with roundStream): a fine-tuning's shuffling.
func (x *stageRun) rand(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(x.spec.Seed, streamFineTune+uint64(x.index)+stream<<32))
}

// roundStream is the stream of round k of the stage.
func (x *stageRun) roundStream(k int) uint64 { return x.stream + uint64(k)<<x.roundShift }

// layers reports the per-layer stats of m, when anyone listens.
func (x *stageRun) layers(phase string, m *nn.Sequential) {
	if x.sink != nil {
		x.emit(LayersEvent{Phase: phase, Layers: m.Stats()})
	}
}

// compress runs compress entry i: a sensitivity analysis, or the plans
// the step compiles to, each on its own copy of the baseline.
func (r *runner) compress(i int, st spec.Step) error {
	switch st := st.(type) {
	case spec.Sensitivity:
		return r.analysePruning(i, st)
	case spec.BitSensitivity:
		return r.analyseBits(i, st)
	}
	plans, err := r.plans(i, st)
	if err != nil {
		return fmt.Errorf("%s: %w", spec.Phase(st), err)
	}
	for _, p := range plans {
		if err := r.runPlan(i, p); err != nil {
			return err
		}
	}
	return nil
}

// plans compiles compress entry i.
func (r *runner) plans(i int, st spec.Step) ([]plan, error) {
	switch st := st.(type) {
	case spec.Prune:
		return r.prunePlans(i, st)
	case spec.Pipeline:
		p := plan{name: st.Name, stream: 1, roundShift: 8, huffman: !st.HasHuffman()}
		for j, s := range st.Stages {
			sg, err := r.stageOf(i, uint64(j+1), s)
			if err != nil {
				return nil, err
			}
			p.stages = append(p.stages, sg)
		}
		return []plan{p}, nil
	}
	sg, err := r.stageOf(i, 0, st)
	if err != nil {
		return nil, err
	}
	return []plan{{stages: []stage{sg}, huffman: true}}, nil
}

// stageOf compiles one step, or a pipeline's stage of stream s, to its
// stage.
func (r *runner) stageOf(i int, s uint64, st spec.Step) (stage, error) {
	switch st := st.(type) {
	case spec.Prune:
		return r.pruneStageOf(i, s, st, st.FinalRatio(), true)
	case spec.Quantize:
		return quantizeStage{step: st, bitTable: r.bitTableFor(i, st)}, nil
	case spec.KMeans:
		return kmeansStage{step: st}, nil
	case spec.Lowrank:
		return lowrankStage{step: st}, nil
	case spec.Finetune:
		return finetuneStage{step: st}, nil
	case spec.Huffman:
		return huffmanStage{}, nil
	}
	return nil, fmt.Errorf("technique %q cannot run as a stage", st.Technique())
}

// runPlan applies p's stages to a copy of the baseline, a row after each
// stage (unless the stage added its own), so each stage's contribution
// shows (Han et al. 2016, Table 1). A row's wall_s counts every stage up
// to it.
func (r *runner) runPlan(i int, p plan) error {
	start := time.Now()
	ms := &modelState{m: r.baseline.Clone(), huffman: p.huffman}
	for j, sg := range p.stages {
		technique := sg.label()
		if j > 0 {
			technique = "+" + technique
		}
		ms.setting = sg.setting()
		x := &stageRun{env: &r.env, index: i, stream: p.stream + uint64(j), roundShift: p.roundShift,
			phase: technique + " " + ms.setting, start: start, score: r.scoreRow}
		r.stage(StageCompressing, x.phase)
		if err := sg.apply(x, ms); err != nil {
			if r.ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("%s: %w", x.phase, err)
		}
		if own, ok := sg.(ownRows); ok && own.addsOwnRows() {
			continue
		}
		setting := ms.setting
		if p.name != "" {
			setting = p.name + ": " + setting
		}
		if err := r.scoreRow(technique, setting, ms.m, time.Since(start), ms.huffman); err != nil {
			return err
		}
	}
	return nil
}
