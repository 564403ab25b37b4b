package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// The rows a adds are knob previews, scored without a benchmark; their
// latency is measured afterwards, off the UI goroutine, one row at a time
// and only while no run or fine-tune works, so neither perturbs the
// other's timings. Until then the row's latency shows as pending, and an
// export writes it empty (null in JSON), never 0.

// latencyMsg is the measured latency of row Row of the results table of
// epoch Epoch.
type latencyMsg struct {
	Epoch, Row  int
	Measurement experiments.Measurement
	Err         error
}

// latencyReq is a row waiting for its latency.
type latencyReq struct {
	epoch, row int
	trained    *experiments.Trained
	setting    experiments.Setting
}

// latencyQueue measures rows one after the other.
type latencyQueue struct {
	waiting []latencyReq
	running bool
	cancel  context.CancelFunc
}

// add queues a row.
func (q *latencyQueue) add(r latencyReq) { q.waiting = append(q.waiting, r) }

// next starts the next measurement, unless one runs or other work does
// (busy).
func (q *latencyQueue) next(busy bool) tea.Cmd {
	if q.running || busy || len(q.waiting) == 0 {
		return nil
	}
	r := q.waiting[0]
	q.waiting = q.waiting[1:]
	q.running = true
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	return func() tea.Msg {
		m, err := r.trained.Latency(ctx, r.setting)
		return latencyMsg{Epoch: r.epoch, Row: r.row, Measurement: m, Err: err}
	}
}

// done marks the measurement in flight finished.
func (q *latencyQueue) done() {
	q.running = false
	if q.cancel != nil {
		q.cancel()
		q.cancel = nil
	}
}

// stop cancels the measurement in flight and forgets the waiting ones (a
// new experiment, or quitting).
func (q *latencyQueue) stop() {
	q.done()
	q.waiting = nil
}

// pending is how many rows wait for or are having their latency measured.
func (q *latencyQueue) pending() int {
	n := len(q.waiting)
	if q.running {
		n++
	}
	return n
}

// addPreviewRow appends the knob preview to the results without
// fine-tuning, and queues the measurement of its latency.
func (s *session) addPreviewRow() tea.Cmd {
	p := s.panes
	row, ok := p.knobs.Preview()
	switch {
	case !p.knobs.Ready():
		p.status.SetNote("no preview yet: the knobs unlock once the baseline is trained")
		return nil
	case !ok:
		p.status.SetNote("the preview is not ready yet")
		return nil
	case p.knobs.Setting() == (experiments.Setting{}):
		p.status.SetNote("every knob is off: that is the dense baseline, already in the table")
		return nil
	}
	// The preview's row was scored without a benchmark: no latency yet.
	row.LatencyUsB1, row.LatencyUsB256 = results.Measured{}, results.Measured{}
	i := p.results.Add(row)
	p.results.SetMeasuring(i, true)
	s.userRows++
	s.latency.add(latencyReq{epoch: p.results.Epoch(), row: i, trained: p.knobs.Trained(), setting: p.knobs.Setting()})
	note := "added " + row.Setting + " to the results; measuring its latency"
	if s.busy() {
		note += " once the work under way is done"
	}
	p.status.SetNote(note)
	s.refreshStatus()
	return s.latency.next(s.busy())
}

// measured takes in a row's latency and starts the next measurement.
func (s *session) measured(msg latencyMsg) tea.Cmd {
	p := s.panes
	if msg.Epoch != p.results.Epoch() {
		return nil // a row of a table since replaced; its queue was stopped
	}
	s.latency.done()
	p.results.SetMeasuring(msg.Row, false)
	row, ok := p.results.Row(msg.Row)
	switch {
	case !ok:
	case msg.Err == nil:
		msg.Measurement.Apply(&row)
		p.results.Replace(msg.Row, row)
		p.status.SetNote(fmt.Sprintf("measured %s: %s µs at batch 1, %s µs at batch 256",
			row.Setting, row.LatencyUsB1.Format(1), row.LatencyUsB256.Format(1)))
	case errors.Is(msg.Err, context.Canceled):
	default:
		p.status.SetError(fmt.Errorf("measuring the latency of %s: %w", row.Setting, msg.Err))
	}
	return s.latency.next(s.busy())
}

// eta estimates the time left in the training under way from how fast its
// steps went since the first one seen.
type eta struct {
	phase string
	t0    time.Time
	f0    float64       // the fraction done at t0
	left  time.Duration // 0: not known yet
}

// step takes in a step of the training at time now.
func (e *eta) step(ev experiments.StepEvent, now time.Time) {
	f := trainedFraction(ev)
	if ev.Phase != e.phase || f < e.f0 {
		e.phase, e.t0, e.f0, e.left = ev.Phase, now, f, 0
		return
	}
	e.left = timeLeft(now.Sub(e.t0), f-e.f0, 1-f)
}

// clear forgets the estimate (the training ended).
func (e *eta) clear() { *e = eta{} }

// trainedFraction is how much of a training a step event says is done.
func trainedFraction(ev experiments.StepEvent) float64 {
	if ev.Epochs <= 0 {
		return 0
	}
	done := float64(ev.Epoch - 1)
	if ev.Steps > 0 {
		done += float64(ev.Step) / float64(ev.Steps)
	}
	return min(max(done/float64(ev.Epochs), 0), 1)
}

// timeLeft estimates the time the remaining fraction takes when the
// fraction done took elapsed: 0 (unknown) until at least a second and 2%
// of the training have passed, so a first guess does not jump about.
func timeLeft(elapsed time.Duration, done, remaining float64) time.Duration {
	if elapsed < time.Second || done < 0.02 || remaining <= 0 {
		return 0
	}
	return time.Duration(float64(elapsed) * remaining / done).Round(time.Second)
}
