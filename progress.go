package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/term"

	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/internal/printable"
)

// redrawInterval bounds how often the progress bar is redrawn.
const redrawInterval = 100 * time.Millisecond

// newProgressSink returns the headless face of a run. When w is a terminal
// it keeps a one-line progress bar (stage, epoch, fraction of the epoch,
// loss, elapsed time) redrawn in place with \r at most ~10 times a second;
// otherwise it writes plain lines (stages, epochs). Either way each epoch's
// summary and each result row is printed as it arrives. Write the final
// table with results.Table.WriteText.
func newProgressSink(w io.Writer) experiments.Sink {
	p := &progressSink{w: w, width: 80}
	if f, ok := w.(interface{ Fd() uintptr }); ok && term.IsTerminal(f.Fd()) {
		p.tty = true
		if width, _, err := term.GetSize(f.Fd()); err == nil && width > 20 {
			p.width = width
		}
	}
	return p
}

type progressSink struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	width    int
	start    time.Time
	stage    experiments.StageEvent
	step     experiments.StepEvent
	lastDraw time.Time
	drawn    bool // a progress line is on screen
}

func (p *progressSink) Emit(e experiments.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = time.Now()
	}
	switch e := e.(type) {
	case experiments.StageEvent:
		p.stage = e
		if p.tty {
			p.redraw(true)
		} else if !trains(e.Stage) && e.Stage != experiments.StageDone &&
			e.Stage != experiments.StageCancelled && e.Stage != experiments.StageFailed {
			p.line("%s %s", e.Stage, e.Detail)
		}
	case experiments.StepEvent:
		p.step = e
		if p.tty {
			p.redraw(e.Step == e.Steps)
		}
	case experiments.EpochEvent:
		p.step = experiments.StepEvent{} // the bar restarts with the next epoch
		sparsity := ""
		if e.Sparsity >= 0.0005 {
			sparsity = fmt.Sprintf("  sparsity %.1f%%", 100*e.Sparsity)
		}
		p.line("%s epoch %d/%d: loss %.4f  train %.2f%%  test %.2f%%  test loss %.4f%s",
			e.Phase, e.Epoch, e.Epochs, e.TrainLoss, 100*e.TrainAcc, 100*e.TestAcc, e.TestLoss, sparsity)
	case experiments.SensitivityEvent:
		if e.Done {
			var b strings.Builder
			e.Table.WriteText(&b)
			changed := "pruned"
			if e.Table.Kind == results.Bits {
				changed = "quantized"
			}
			p.line("%s: test accuracy %% with one layer %s (dense %.2f%%):", e.Phase, changed, e.BaseTestAcc)
			for _, row := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
				p.line("%s", row)
			}
		}
	case experiments.ResultEvent:
		r := e.Row
		p.line("result %s %s: test %.2f%% (%+.2f pp)  train %.2f%%  size %s (×%.2f)  nonzero %.1f%%  %.2f s",
			r.Technique, r.Setting, r.TestAcc, r.DeltaAccPP, r.TrainAcc, modelfile.FormatSize(r.SizeBytes),
			r.CompressionRatio, 100*fraction(r.ParamsNonzero, r.ParamsTotal), r.WallS)
	case experiments.LogEvent:
		p.line("%s", e.Text)
	case experiments.DoneEvent:
		p.clear()
		p.stage = experiments.StageEvent{} // the run is over: no bar after the last line
		switch {
		case e.Err == nil:
			p.line("done: %d rows in %s", len(e.Report.Rows), e.Elapsed.Round(time.Millisecond))
		case errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded):
			p.line("cancelled after %s: %d rows kept", e.Elapsed.Round(time.Millisecond), len(e.Report.Rows))
		default:
			p.line("failed after %s: %v", e.Elapsed.Round(time.Millisecond), e.Err)
		}
	}
}

// line prints a whole line, keeping the progress bar below it. What it
// says may quote a spec or a file: it is escaped, so it stays one line and
// cannot drive the terminal.
func (p *progressSink) line(format string, args ...any) {
	p.clear()
	io.WriteString(p.w, printable.Escape(fmt.Sprintf(format, args...))+"\n")
	if p.tty {
		p.redraw(true)
	}
}

func (p *progressSink) clear() {
	if p.drawn {
		io.WriteString(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// redraw draws the progress bar, at most every redrawInterval unless force.
func (p *progressSink) redraw(force bool) {
	if !force && time.Since(p.lastDraw) < redrawInterval {
		return
	}
	switch p.stage.Stage {
	case "", experiments.StageDone, experiments.StageCancelled, experiments.StageFailed:
		return
	}
	p.lastDraw = time.Now()
	var b strings.Builder
	b.WriteString(string(p.stage.Stage))
	if p.stage.Detail != "" {
		b.WriteString(" " + p.stage.Detail)
	}
	if trains(p.stage.Stage) && p.step.Steps > 0 {
		frac := float64(p.step.Step) / float64(p.step.Steps)
		const barWidth = 20
		filled := int(frac * barWidth)
		fmt.Fprintf(&b, " [%s%s] %3.0f%%  loss %.4f", strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), 100*frac, p.step.Loss)
		if p.step.Sparsity >= 0.0005 {
			fmt.Fprintf(&b, "  sparsity %.1f%%", 100*p.step.Sparsity)
		}
	}
	fmt.Fprintf(&b, "  %s", time.Since(p.start).Round(100*time.Millisecond))
	s := printable.Escape(b.String())
	if utf8.RuneCountInString(s) >= p.width {
		s = string([]rune(s)[:p.width-1])
	}
	io.WriteString(p.w, "\r\x1b[K"+s)
	p.drawn = true
}

// trains reports whether a stage runs training epochs (with a progress
// bar).
func trains(s experiments.Stage) bool {
	return s == experiments.StageTraining || s == experiments.StageFineTuning || s == experiments.StagePruning
}

func fraction(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
