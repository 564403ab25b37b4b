package experiments

import (
	"fmt"
	"strings"
	"sync"

	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// A compress entry's rows depend on the baseline and on the entry alone:
// each starts from its own copy of the baseline, with random streams of
// its own. So across the runs of one baseline an entry whose axes take
// the same values gives the same rows, and a sweep runs it once — at the
// first such run — and labels its rows with those axes only: a grid of
// compress[0].ratio × compress[1].bits prunes once per ratio and
// quantizes once per bit width. Analysis entries (sensitivity) feed later
// entries, so a spec with one runs every entry at every point.

// entryPlan says, for run i, which compress entries it skips.
func entryPlan(points []spec.Point, groupOf []int) [][]bool {
	skips := make([][]bool, len(points))
	seen := map[string]bool{}
	for i, p := range points {
		skips[i] = make([]bool, len(p.Spec.Compress))
		if hasAnalysis(p.Spec) {
			continue
		}
		for e := range p.Spec.Compress {
			key := fmt.Sprintf("%d|%d|%s", groupOf[i], e, spec.Label(entryValues(p, e)))
			skips[i][e] = seen[key]
			seen[key] = true
		}
	}
	return skips
}

func hasAnalysis(s spec.Spec) bool {
	for _, st := range s.Compress {
		switch st.(type) {
		case spec.Sensitivity, spec.BitSensitivity:
			return true
		}
	}
	return false
}

// entryValues are the point's values of the axes entry e's rows depend
// on: those outside compress (the baseline's) and those within entry e.
func entryValues(p spec.Point, e int) []spec.AxisValue {
	prefix := fmt.Sprintf("compress[%d]", e)
	var out []spec.AxisValue
	for _, v := range p.Values {
		inCompress := v.Path == "compress" || strings.HasPrefix(v.Path, "compress[") || strings.HasPrefix(v.Path, "compress.")
		within := v.Path == prefix || strings.HasPrefix(v.Path, prefix+".") || strings.HasPrefix(v.Path, prefix+"[")
		if !inCompress || within || v.Path == "compress" {
			out = append(out, v)
		}
	}
	return out
}

// partSink records which part of a run (StageEvent.Part: 1 the
// baseline, 2+i compress entry i) each of its rows came from.
type partSink struct {
	mu    sync.Mutex
	part  int
	parts []int
}

func (s *partSink) Emit(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e := e.(type) {
	case StageEvent:
		s.part = e.Part
	case ResultEvent:
		s.parts = append(s.parts, s.part)
	}
}

// fitWorkers is how many of workers fit in limit bytes at once: the
// datasets are loaded once for every run, each worker holds a run's
// model and activations (spec.Memory). One always runs: Preflight has
// checked that a run fits.
func fitWorkers(points []spec.Point, limit int64, workers int) int {
	var perRun, datasets int64
	seen := map[string]bool{}
	for _, p := range points {
		m := p.Spec.Memory()
		perRun = max(perRun, m.Model+m.Activations)
		if key := dataKey(p.Spec); !seen[key] {
			seen[key] = true
			datasets += m.Dataset
		}
	}
	if perRun <= 0 {
		return workers
	}
	return max(1, min(workers, int((limit-datasets)/perRun)))
}
