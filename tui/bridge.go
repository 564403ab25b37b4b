package tui

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
)

// The bridge from background work to Bubble Tea. A job (the experiment run,
// or a fine-tune started with f) runs in its own goroutine and pushes its
// events into a buffered channel through a Sink; listen is a tea.Cmd that
// waits for one message on the channel, and the root re-issues it after
// each one until the channel closes. Update never waits on anything.

// eventBuffer is the room in a job's channel. The runner coalesces step
// events to a few per second, so the UI drains it long before it fills.
const eventBuffer = 256

// jobKind says what a job is doing.
type jobKind int

const (
	jobRun      jobKind = iota // experiments.Run of the whole spec
	jobFineTune                // Trained.FineTune of the knob setting
)

// job is background work the root listens to.
type job struct {
	kind      jobKind
	events    <-chan tea.Msg
	cancel    context.CancelFunc
	setting   experiments.Setting // fine-tunes: what is being fine-tuned
	gotResult bool                // fine-tunes: a ResultEvent already added its row
}

// jobEventMsg is one event of job Job.
type jobEventMsg struct {
	Job   int
	Event experiments.Event
}

// jobEndMsg says job Job's function returned: Table for a run, Eval for a
// fine-tune.
type jobEndMsg struct {
	Job   int
	Table results.Table
	Eval  experiments.Evaluation
	Err   error
}

// jobClosedMsg says job Job's channel is closed: nothing more will come.
type jobClosedMsg struct{ Job int }

// startJob runs work in a goroutine with a cancellable context and a sink
// that feeds the job's channel. A send gives up once the context is
// cancelled, so a cancelled job never blocks on a UI that stopped reading.
// A panic in work becomes the job's error rather than killing the program.
func startJob(id int, work func(ctx context.Context, sink experiments.Sink) jobEndMsg) (<-chan tea.Msg, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan tea.Msg, eventBuffer)
	send := func(msg tea.Msg) {
		select {
		case ch <- msg:
		case <-ctx.Done():
		}
	}
	sink := experiments.SinkFunc(func(e experiments.Event) { send(jobEventMsg{Job: id, Event: e}) })
	go func() {
		defer close(ch)
		end := func() (end jobEndMsg) {
			defer func() {
				if r := recover(); r != nil {
					end = jobEndMsg{Err: fmt.Errorf("internal error: %v", r)}
				}
			}()
			return work(ctx, sink)
		}()
		end.Job = id
		send(end)
	}()
	return ch, cancel
}

// listen waits for the next message of job id.
func listen(id int, events <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-events
		if !ok {
			return jobClosedMsg{Job: id}
		}
		return msg
	}
}
