package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// sharedBaseline is a dense baseline trained once for the runs of a
// sweep whose specs differ only in their compression steps: the same
// data, model, training and seed train the same weights, bit for bit, so
// each run takes a copy instead of training its own.
type sharedBaseline struct {
	train, test *data.Set             // read only
	model       *nn.Sequential        // never changed: each run works on its clone
	snapshots   map[int]prune.Weights // the epochs lottery steps rewind to; read only
	row         results.Row
}

// baselineKey is what a run's baseline depends on: everything but the
// compression steps. Runs with the same key share a baseline.
func baselineKey(s spec.Spec) string {
	b, err := json.Marshal(struct {
		Name    string
		Seed    uint64
		Dataset spec.Dataset
		Model   spec.Model
		Train   spec.Train
	}{s.Name, s.Seed, s.Dataset, s.Model, s.Train})
	if err != nil {
		panic(err) // plain structs of numbers and text
	}
	return string(b)
}

// dataKey is what a run's data depends on: the synthetic sets are drawn
// from the seed.
func dataKey(s spec.Spec) string {
	seed := uint64(0)
	if !s.Dataset.Images() {
		seed = s.Seed
	}
	b, _ := json.Marshal(struct {
		Dataset spec.Dataset
		Augment spec.Augment
		Seed    uint64
	}{s.Dataset, s.Train.Augment, seed})
	return string(b)
}

// datasets loads each dataset of a sweep once; the sets are read only,
// shared by every run that uses them.
type datasets struct {
	mu   sync.Mutex
	sets map[string]*loadedData
}

type loadedData struct {
	once        sync.Once
	train, test *data.Set
	err         error
}

func (d *datasets) load(s spec.Spec, opts Options) (train, test *data.Set, err error) {
	d.mu.Lock()
	if d.sets == nil {
		d.sets = map[string]*loadedData{}
	}
	key := dataKey(s)
	l, ok := d.sets[key]
	if !ok {
		l = &loadedData{}
		d.sets[key] = l
	}
	d.mu.Unlock()
	l.once.Do(func() { l.train, l.test, l.err = loadData(s, opts) })
	return l.train, l.test, l.err
}

// trainShared trains the baseline that specs (which differ only in their
// compression steps) share, keeping the snapshots any of their lottery
// steps rewind to.
func trainShared(ctx context.Context, specs []spec.Spec, opts Options, sets *datasets) (sh *sharedBaseline, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	s := specs[0].Resolved()
	r := &runner{env: env{ctx: ctx, spec: s}}
	if r.train, r.test, err = sets.load(s, opts); err != nil {
		return nil, err
	}
	if err := r.trainBaseline(buildModel(s), rewindEpochs(specs...)); err != nil {
		return nil, err
	}
	return &sharedBaseline{train: r.train, test: r.test, model: r.baseline, snapshots: r.snapshots, row: r.base}, nil
}

// useShared takes the run's data and baseline from sh, and adds the
// baseline's row.
func (r *runner) useShared(sh *sharedBaseline) error {
	r.train, r.test = sh.train, sh.test
	if NamesClasses(r.spec) {
		r.report.Classes = &results.Classes{Names: r.test.ClassNames}
	}
	r.baseline, r.snapshots = sh.model.Clone(), sh.snapshots
	r.base = sh.row
	r.base.Experiment = r.spec.Name
	return r.addRow(r.base, r.baseline)
}
