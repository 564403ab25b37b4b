package common

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Palette: one accent for focus and the app name, one colour per curve,
// green/red for better/worse than the baseline, and a series of colours for
// charts with a line per layer.
var (
	colorAccent   = lipgloss.AdaptiveColor{Light: "#5A3FD6", Dark: "#9D8CFF"}
	colorBorder   = lipgloss.AdaptiveColor{Light: "#B8B8B8", Dark: "#4E4E4E"}
	colorMuted    = lipgloss.AdaptiveColor{Light: "#7A7A7A", Dark: "#8A8A8A"}
	colorText     = lipgloss.AdaptiveColor{Light: "#1A1A1A", Dark: "#E4E4E4"}
	colorGood     = lipgloss.AdaptiveColor{Light: "#1E8A3C", Dark: "#5FD068"}
	colorBad      = lipgloss.AdaptiveColor{Light: "#C42B2B", Dark: "#FF6B6B"}
	colorWarn     = lipgloss.AdaptiveColor{Light: "#A66A00", Dark: "#F2B84B"}
	colorLoss     = lipgloss.AdaptiveColor{Light: "#B5468B", Dark: "#F78FD0"}
	colorTest     = lipgloss.AdaptiveColor{Light: "#1F6FB2", Dark: "#61AFEF"}
	colorTrain    = lipgloss.AdaptiveColor{Light: "#A66A00", Dark: "#E5C07B"}
	colorBaseline = lipgloss.AdaptiveColor{Light: "#9A9A9A", Dark: "#6A6A6A"}
	colorHeaderBg = lipgloss.AdaptiveColor{Light: "#E8E4FF", Dark: "#2B2545"}
	colorSparsity = lipgloss.AdaptiveColor{Light: "#2E8B8B", Dark: "#56D4D4"}

	// colorSeries tell apart the lines of a chart with one line per layer.
	colorSeries = []lipgloss.AdaptiveColor{
		{Light: "#1F6FB2", Dark: "#61AFEF"},
		{Light: "#B5468B", Dark: "#F78FD0"},
		{Light: "#1E8A3C", Dark: "#5FD068"},
		{Light: "#A66A00", Dark: "#E5C07B"},
		{Light: "#5A3FD6", Dark: "#9D8CFF"},
		{Light: "#2E8B8B", Dark: "#56D4D4"},
		{Light: "#C42B2B", Dark: "#FF6B6B"},
	}
)

// Styles is every style the program uses, in one place.
type Styles struct {
	// Header line.
	Header      lipgloss.Style
	AppName     lipgloss.Style
	Experiment  lipgloss.Style
	Description lipgloss.Style

	// Panes.
	Border        lipgloss.Style // unfocused pane frame
	BorderFocused lipgloss.Style
	Title         lipgloss.Style
	TitleFocused  lipgloss.Style
	TitleNote     lipgloss.Style // the dim part after a title

	// Text.
	Text     lipgloss.Style
	Muted    lipgloss.Style
	Label    lipgloss.Style
	Value    lipgloss.Style
	Good     lipgloss.Style
	Bad      lipgloss.Style
	Warn     lipgloss.Style
	Selected lipgloss.Style // the selected knob
	KeyHint  lipgloss.Style

	// Gauges of the knobs.
	GaugeOn  lipgloss.Style
	GaugeOff lipgloss.Style

	// Charts.
	Axis          lipgloss.Style
	AxisLabel     lipgloss.Style
	LossLine      lipgloss.Style
	TestLine      lipgloss.Style
	TrainLine     lipgloss.Style
	BaselineLine  lipgloss.Style
	SparsityLine  lipgloss.Style   // the sparsity schedule beside the loss
	Series        []lipgloss.Style // one per line of a per-layer chart, reused in turn
	ChartTitle    lipgloss.Style
	ChartEmptyMsg lipgloss.Style

	// Tables.
	TableHeader   lipgloss.Style // header of the results table (with a rule below)
	ColumnHeader  lipgloss.Style // header of the layers table
	TableCell     lipgloss.Style
	TableSelected lipgloss.Style

	// Status line.
	Status      lipgloss.Style
	StatusStage lipgloss.Style
	StatusDone  lipgloss.Style
	StatusError lipgloss.Style
	StatusClock lipgloss.Style
	StatusLog   lipgloss.Style

	// Help bar.
	HelpKey  lipgloss.Style
	HelpDesc lipgloss.Style
	HelpSep  lipgloss.Style

	// Picker.
	PickerTitle lipgloss.Style

	// Dialogs.
	Dialog       lipgloss.Style // the box
	DialogButton lipgloss.Style
	DialogActive lipgloss.Style // the option enter chooses

	// Tabs of the compact layout.
	Tab       lipgloss.Style
	TabActive lipgloss.Style
}

// DefaultStyles returns the program's styles.
func DefaultStyles() *Styles {
	s := &Styles{}
	s.Header = lipgloss.NewStyle().Background(colorHeaderBg).Foreground(colorText)
	s.AppName = lipgloss.NewStyle().Background(colorHeaderBg).Foreground(colorAccent).Bold(true)
	s.Experiment = lipgloss.NewStyle().Background(colorHeaderBg).Foreground(colorText).Bold(true)
	s.Description = lipgloss.NewStyle().Background(colorHeaderBg).Foreground(colorMuted)

	s.Border = lipgloss.NewStyle().Foreground(colorBorder)
	s.BorderFocused = lipgloss.NewStyle().Foreground(colorAccent)
	s.Title = lipgloss.NewStyle().Foreground(colorText).Bold(true)
	s.TitleFocused = lipgloss.NewStyle().Foreground(colorAccent).Bold(true)
	s.TitleNote = lipgloss.NewStyle().Foreground(colorMuted)

	s.Text = lipgloss.NewStyle().Foreground(colorText)
	s.Muted = lipgloss.NewStyle().Foreground(colorMuted)
	s.Label = lipgloss.NewStyle().Foreground(colorMuted)
	s.Value = lipgloss.NewStyle().Foreground(colorText).Bold(true)
	s.Good = lipgloss.NewStyle().Foreground(colorGood)
	s.Bad = lipgloss.NewStyle().Foreground(colorBad)
	s.Warn = lipgloss.NewStyle().Foreground(colorWarn)
	s.Selected = lipgloss.NewStyle().Foreground(colorAccent).Bold(true)
	s.KeyHint = lipgloss.NewStyle().Foreground(colorMuted)

	s.GaugeOn = lipgloss.NewStyle().Foreground(colorAccent)
	s.GaugeOff = lipgloss.NewStyle().Foreground(colorBorder)

	s.Axis = lipgloss.NewStyle().Foreground(colorBorder)
	s.AxisLabel = lipgloss.NewStyle().Foreground(colorMuted)
	s.LossLine = lipgloss.NewStyle().Foreground(colorLoss)
	s.TestLine = lipgloss.NewStyle().Foreground(colorTest)
	s.TrainLine = lipgloss.NewStyle().Foreground(colorTrain)
	s.BaselineLine = lipgloss.NewStyle().Foreground(colorBaseline)
	s.SparsityLine = lipgloss.NewStyle().Foreground(colorSparsity)
	for _, c := range colorSeries {
		s.Series = append(s.Series, lipgloss.NewStyle().Foreground(c))
	}
	s.ChartTitle = lipgloss.NewStyle().Foreground(colorText).Bold(true)
	s.ChartEmptyMsg = lipgloss.NewStyle().Foreground(colorMuted).Italic(true)

	s.TableHeader = lipgloss.NewStyle().Foreground(colorMuted).Bold(true).
		BorderStyle(lipgloss.NormalBorder()).BorderBottom(true).BorderForeground(colorBorder)
	s.ColumnHeader = lipgloss.NewStyle().Foreground(colorMuted).Bold(true)
	s.TableCell = lipgloss.NewStyle().Foreground(colorText)
	s.TableSelected = lipgloss.NewStyle().Foreground(colorAccent).Bold(true)

	s.Status = lipgloss.NewStyle().Foreground(colorText)
	s.StatusStage = lipgloss.NewStyle().Foreground(colorAccent).Bold(true)
	s.StatusDone = lipgloss.NewStyle().Foreground(colorGood).Bold(true)
	s.StatusError = lipgloss.NewStyle().Foreground(colorBad).Bold(true)
	s.StatusClock = lipgloss.NewStyle().Foreground(colorMuted)
	s.StatusLog = lipgloss.NewStyle().Foreground(colorMuted)

	s.HelpKey = lipgloss.NewStyle().Foreground(colorAccent)
	s.HelpDesc = lipgloss.NewStyle().Foreground(colorMuted)
	s.HelpSep = lipgloss.NewStyle().Foreground(colorBorder)

	s.PickerTitle = lipgloss.NewStyle().Foreground(colorAccent).Bold(true)

	s.Dialog = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(colorAccent).Padding(0, 1)
	s.DialogButton = lipgloss.NewStyle().Foreground(colorMuted).Background(colorHeaderBg)
	s.DialogActive = lipgloss.NewStyle().Foreground(colorText).Background(colorAccent).Bold(true)

	s.Tab = lipgloss.NewStyle().Foreground(colorMuted)
	s.TabActive = lipgloss.NewStyle().Foreground(colorAccent).Bold(true).Underline(true)
	return s
}

// Pane draws content in a rounded frame of exactly width×height cells with
// the title set into the top edge: ╭─ Title note ───╮. Content is cut or
// padded to fit. The frame takes the accent colour when focused.
func (s *Styles) Pane(title, note, content string, width, height int, focused bool) string {
	if width < 4 || height < 2 {
		return ""
	}
	border, titleStyle := s.Border, s.Title
	if focused {
		border, titleStyle = s.BorderFocused, s.TitleFocused
	}
	rb := lipgloss.RoundedBorder()
	innerW, innerH := width-2, height-2

	// Top edge with the title.
	label := " " + title + " "
	if note != "" {
		label += note + " "
	}
	label = Truncate(label, max(innerW-1, 0))
	top := border.Render(rb.TopLeft+rb.Top) + renderTitle(label, title, titleStyle, s.TitleNote)
	fill := innerW - 1 - lipgloss.Width(label)
	top += border.Render(strings.Repeat(rb.Top, max(fill, 0)) + rb.TopRight)

	lines := strings.Split(content, "\n")
	var b strings.Builder
	b.WriteString(top)
	for i := 0; i < innerH; i++ {
		line := ""
		if i < len(lines) {
			line = lines[i]
		}
		line = FitWidth(line, innerW)
		b.WriteString("\n" + border.Render(rb.Left) + line + border.Render(rb.Right))
	}
	b.WriteString("\n" + border.Render(rb.BottomLeft+strings.Repeat(rb.Bottom, innerW)+rb.BottomRight))
	return b.String()
}

// renderTitle styles the title part of label and dims the note after it.
func renderTitle(label, title string, titleStyle, noteStyle lipgloss.Style) string {
	head := " " + title
	if !strings.HasPrefix(label, head) {
		return titleStyle.Render(label)
	}
	return titleStyle.Render(head) + noteStyle.Render(label[len(head):])
}

// FitWidth cuts s to width cells (keeping ANSI styling intact) or pads it
// with spaces.
func FitWidth(s string, width int) string {
	w := lipgloss.Width(s)
	if w > width {
		return Truncate(s, width)
	}
	return s + strings.Repeat(" ", width-w)
}
