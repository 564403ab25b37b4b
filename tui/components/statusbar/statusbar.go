package statusbar

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
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

	stage   experiments.Stage
	detail  string
	elapsed time.Duration
	log     string
	note    string // replaces the log line until the next log line
	err     error
}

// New returns an empty status line.
func New(c *common.Common) *Model { return &Model{common: c} }

// Reset clears everything (a new experiment starts).
func (m *Model) Reset() { *m = Model{common: m.common, width: m.width} }

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

// View draws the line.
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
	left := " " + stageStyle.Render(dot+" "+printable.Escape(m.Text())) + st.StatusClock.Render("  "+common.Clock(m.elapsed))
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
