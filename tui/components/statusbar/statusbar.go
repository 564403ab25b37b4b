package statusbar

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/internal/printable"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// Model is the status line.
type Model struct {
	common *common.Common
	width  int

	stage       experiments.Stage
	detail      string
	part, parts int           // stage k of N of a run; 0 when unknown
	elapsed     time.Duration // of the run or fine-tune
	left        time.Duration // estimated time left in the training shown; 0 when unknown
	busy        bool          // work is running: the spinner turns
	spinner     spinner.Model
	log         string
	note        string // replaces the log line until the next log line
	err         error
}

// New returns an empty status line.
func New(c *common.Common) *Model {
	return &Model{common: c, spinner: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(c.Styles.StatusStage))}
}

// Reset clears everything (a new experiment starts).
func (m *Model) Reset() { *m = Model{common: m.common, width: m.width, spinner: m.spinner} }

// SetPart says which part of the run the stage belongs to: stage k of n.
func (m *Model) SetPart(k, n int) { m.part, m.parts = k, n }

// SetTimeLeft sets the estimated time left in the training under way (0:
// not known, shown as nothing).
func (m *Model) SetTimeLeft(d time.Duration) { m.left = d }

// SetBusy says whether work runs; while it does the spinner turns, and
// the command returned (when it starts) drives it.
func (m *Model) SetBusy(on bool) tea.Cmd {
	was := m.busy
	m.busy = on
	if on && !was {
		return m.spinner.Tick
	}
	return nil
}

// Busy reports whether the spinner turns.
func (m *Model) Busy() bool { return m.busy }

// Spin advances the spinner on its tick while work runs; once it stops,
// the tick is dropped and the spinner rests.
func (m *Model) Spin(msg spinner.TickMsg) tea.Cmd {
	if !m.busy {
		return nil
	}
	var cmd tea.Cmd
	m.spinner, cmd = m.spinner.Update(msg)
	return cmd
}

// SetStage sets the stage and its detail ("training", "epoch 3/10").
func (m *Model) SetStage(s experiments.Stage, detail string) { m.stage, m.detail = s, detail }

// Stage is the stage shown.
func (m *Model) Stage() experiments.Stage { return m.stage }

// SetElapsed sets the time shown.
func (m *Model) SetElapsed(d time.Duration) { m.elapsed = d }

// SetLog shows a log line.
func (m *Model) SetLog(text string) { m.log, m.note = firstLine(text), "" }

// SetNote shows a message from the program itself ("exported to …").
func (m *Model) SetNote(text string) { m.note = firstLine(text) }

// SetError shows an error; nil clears it.
func (m *Model) SetError(err error) { m.err = err }

// Text is the stage text: "training epoch 3/10".
func (m *Model) Text() string {
	s := string(m.stage)
	if s == "" {
		s = "starting"
	}
	if m.detail != "" {
		s += " " + m.detail
	}
	return s
}

// clock is "stage 2 of 8 · 0:12 · ~0:28 left", with what is known.
func (m *Model) clock() string {
	var parts []string
	if m.parts > 1 && m.busy {
		parts = append(parts, fmt.Sprintf("stage %d of %d", m.part, m.parts))
	}
	parts = append(parts, common.Clock(m.elapsed))
	if m.left > 0 && m.busy {
		parts = append(parts, "~"+common.Clock(m.left)+" left")
	}
	return strings.Join(parts, " · ")
}

// firstLine is the first line of s, escaped: an error or a log line may
// quote a file, and must not drive the terminal.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return printable.Escape(strings.TrimSpace(s))
}

// SetSize sets the width; the status line is one row.
func (m *Model) SetSize(width, _ int) { m.width = width }

// Init does nothing.
func (m *Model) Init() tea.Cmd { return nil }

// Update does nothing: the root sets the fields.
func (m *Model) Update(tea.Msg) (tea.Model, tea.Cmd) { return m, nil }

// ShortHelp lists no keys.
func (m *Model) ShortHelp() []key.Binding { return nil }

// FullHelp lists no keys.
func (m *Model) FullHelp() [][]key.Binding { return nil }

// View draws the line: the spinner (or how the run ended) and the stage,
// stage k of N, the time spent and the time left, then the latest note,
// log line or error.
func (m *Model) View() string {
	st := m.common.Styles
	stageStyle, dot := st.StatusStage, "●"
	switch m.stage {
	case experiments.StageDone:
		stageStyle, dot = st.StatusDone, "✓"
	case experiments.StageFailed:
		stageStyle, dot = st.StatusError, "✗"
	case experiments.StageCancelled:
		stageStyle, dot = st.StatusClock, "■"
	}
	mark := stageStyle.Render(dot)
	if m.busy {
		mark = m.spinner.View()
	}
	// The clock always shows whole; a long stage text gives way to it.
	clock := st.StatusClock.Render("  " + m.clock())
	text := common.Truncate(" "+printable.Escape(m.Text()), max(m.width-1-lipgloss.Width(mark)-lipgloss.Width(clock), 0))
	left := " " + mark + stageStyle.Render(text) + clock
	rest := m.width - lipgloss.Width(left) - 3
	var msg string
	switch {
	case m.err != nil:
		msg = st.StatusError.Render(common.Truncate("error: "+firstLine(m.err.Error()), rest))
	case m.note != "":
		msg = st.Text.Render(common.Truncate(m.note, rest))
	case m.log != "":
		msg = st.StatusLog.Render(common.Truncate(m.log, rest))
	}
	if msg != "" && rest > 0 {
		left += st.StatusClock.Render(" │ ") + msg
	}
	return common.FitWidth(left, m.width)
}
