package layers

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// column is one column of the pane. Columns with a higher drop value are
// left out first when the pane is narrow.
type column struct {
	title string
	right bool // right-aligned (numbers)
	drop  int  // 0 = always shown
	cell  func(s nn.LayerStats) string
}

var columns = []column{
	{title: "layer", cell: func(s nn.LayerStats) string { return s.Name }},
	{title: "kind", drop: 5, cell: func(s nn.LayerStats) string { return s.Kind }},
	{title: "shape", drop: 3, cell: shape},
	{title: "weights", right: true, drop: 3, cell: func(s nn.LayerStats) string { return common.Count(int64(s.Weights)) }},
	{title: "non-zero", right: true, cell: func(s nn.LayerStats) string { return common.Count(int64(s.NonZeroW)) }},
	{title: "sparsity", right: true, drop: 1, cell: func(s nn.LayerStats) string {
		return strconv.FormatFloat(100*s.WeightSparsity(), 'f', 1, 64) + "%"
	}},
	{title: "bits", right: true, drop: 1, cell: func(s nn.LayerStats) string {
		if s.Bits == 0 {
			return ""
		}
		return strconv.Itoa(s.Bits)
	}},
	{title: "rank", right: true, drop: 4, cell: func(s nn.LayerStats) string {
		if s.Rank == 0 {
			return "—"
		}
		return strconv.Itoa(s.Rank)
	}},
	{title: "size", right: true, drop: 2, cell: func(s nn.LayerStats) string { return common.Bytes(s.SizeBytes) }},
}

// rankColumn is the index of the rank column: kept like the sparsity when
// a layer is factorized, dropped early when every rank is "—".
const rankColumn = 7

// structural are the columns that say what a layer is, not what training
// or compression did to it: all that shows while the baseline trains.
var structural = map[string]bool{"layer": true, "kind": true, "shape": true, "weights": true}

// Model is the layers pane.
type Model struct {
	common  *common.Common
	width   int
	height  int
	focused bool

	label  string // what the rows describe: "baseline", "preview: …"
	layers []nn.LayerStats
	// widths are each layer's outputs (neurons, filters) when first
	// shown, the model as built: a row with fewer says how many it kept.
	widths   map[string]int
	classes  *classView // shown instead of the layers when not nil
	offset   int        // first row shown when scrolled
	training bool       // the rows are of a model still training: only its shape is known
}

// New returns an empty layers pane.
func New(c *common.Common) *Model { return &Model{common: c} }

// Reset forgets the layers (a new experiment starts).
func (m *Model) Reset() {
	m.label, m.layers, m.offset, m.training, m.widths, m.classes = "", nil, 0, false, nil, nil
}

// SetTraining says the layers shown are of a model still training (the
// baseline before its row): the pane shows what they are, their shapes
// and weights, and says "training…" rather than figures that are not the
// trained model's.
func (m *Model) SetTraining(on bool) { m.training = on }

// Training reports whether the pane shows a model still training.
func (m *Model) Training() bool { return m.training }

// SetLayers shows the weight layers among stats, described by label. The
// slice is copied.
func (m *Model) SetLayers(label string, stats []nn.LayerStats) {
	m.label = label
	m.layers = m.layers[:0]
	if m.widths == nil {
		m.widths = map[string]int{}
	}
	for _, s := range stats {
		if s.Weights > 0 || s.Kind == "dense" || s.Kind == "lowrank" {
			m.layers = append(m.layers, s)
			if _, ok := m.widths[s.Name]; !ok {
				m.widths[s.Name] = s.Out
			}
		}
	}
	m.offset = min(m.offset, max(len(m.layers)-1, 0))
}

// Rows is the number of weight layers listed.
func (m *Model) Rows() int { return len(m.layers) }

// Label says what the pane shows.
func (m *Model) Label() string { return m.label }

// SetSize sets the pane's outer size, frame included.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// Focus and Blur mark the pane as the one keys go to.
func (m *Model) Focus()        { m.focused = true }
func (m *Model) Blur()         { m.focused = false }
func (m *Model) Focused() bool { return m.focused }

// Init does nothing.
func (m *Model) Init() tea.Cmd { return nil }

// Update scrolls the rows with up/down when focused.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok || !m.focused {
		return m, nil
	}
	switch {
	case key.Matches(k, m.common.Keys.Up):
		m.offset = max(m.offset-1, 0)
	case key.Matches(k, m.common.Keys.Down):
		m.offset = min(m.offset+1, max(len(m.layers)-m.visibleRows(), 0))
	}
	return m, nil
}

// ShortHelp lists the pane's keys.
func (m *Model) ShortHelp() []key.Binding {
	if len(m.layers) <= m.visibleRows() {
		return nil
	}
	return []key.Binding{m.common.Keys.Scroll}
}

// FullHelp lists the pane's keys.
func (m *Model) FullHelp() [][]key.Binding {
	if len(m.layers) <= m.visibleRows() {
		return nil
	}
	return [][]key.Binding{{m.common.Keys.Up, m.common.Keys.Down}}
}

// visibleRows is how many layer rows fit beside the header and total rows.
func (m *Model) visibleRows() int { return max(m.height-2-2, 1) }

// total sums the layers into one row.
func total(layers []nn.LayerStats) nn.LayerStats {
	t := nn.LayerStats{Name: "total"}
	for _, s := range layers {
		t.Params += s.Params
		t.NonZero += s.NonZero
		t.Weights += s.Weights
		t.NonZeroW += s.NonZeroW
		t.SizeBytes += s.SizeBytes
	}
	return t
}

// View draws the pane.
func (m *Model) View() string {
	if m.classes != nil {
		return m.classesView()
	}
	st := m.common.Styles
	innerW, innerH := m.width-2, m.height-2
	note := m.label
	if len(m.layers) == 0 {
		body := st.Muted.Render("Layer sizes appear once the model is built.")
		return st.Pane("Layers", note, body, m.width, m.height, m.focused)
	}

	// Cells of every row, then the widest columns that fit.
	rows := m.rows()
	header, tot := rows[0], rows[len(rows)-1]

	widths := make([]int, len(columns))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	drops := make([]int, len(columns))
	for i, c := range columns {
		drops[i] = c.drop
	}
	for _, s := range m.layers {
		if s.Rank > 0 {
			drops[rankColumn] = 1
		}
	}
	show := fitColumns(widths, drops, innerW-1)
	if m.training {
		for i, c := range columns {
			show[i] = show[i] && structural[c.title]
		}
		note = strings.TrimSpace(note + " · training…")
	}

	render := func(r []string) string {
		var parts []string
		for i, c := range columns {
			if !show[i] {
				continue
			}
			if c.right {
				parts = append(parts, common.PadLeft(r[i], widths[i]))
			} else {
				parts = append(parts, r[i]+strings.Repeat(" ", widths[i]-len([]rune(r[i]))))
			}
		}
		return " " + strings.Join(parts, "  ")
	}

	lines := []string{st.ColumnHeader.Render(render(header))}
	visible := max(innerH-2, 1)
	from := min(m.offset, max(len(m.layers)-visible, 0))
	to := min(from+visible, len(m.layers))
	for i := from; i < to; i++ {
		lines = append(lines, st.Text.Render(render(rows[1+i])))
	}
	if to-from < len(m.layers) {
		note += fmt.Sprintf(" · rows %d–%d of %d", from+1, to, len(m.layers))
	}
	last := st.Value.Render(render(tot))
	if m.training {
		last += st.Muted.Render("   training…")
	}
	lines = append(lines, last)
	return st.Pane("Layers", note, strings.Join(lines, "\n"), m.width, m.height, m.focused)
}

// shape is "784→300" for a dense layer, "1→20 5×5 24×24" for a
// convolution: channels in→out, the window, the image it gives.
func shape(s nn.LayerStats) string {
	if s.In == 0 && s.Out == 0 {
		return ""
	}
	if s.Window > 0 {
		return fmt.Sprintf("%s %d×%d %d×%d", common.Shape(s.In, s.Out), s.Window, s.Window, s.Map.H, s.Map.W)
	}
	return common.Shape(s.In, s.Out)
}

// units names a layer's outputs: a convolution's filters, a dense
// layer's neurons.
func units(s nn.LayerStats) string {
	if s.Window > 0 {
		return "filters"
	}
	return "neurons"
}

// rows are the cells of the header, each layer and the total.
func (m *Model) rows() [][]string {
	rows := make([][]string, 0, len(m.layers)+2)
	header := make([]string, len(columns))
	for i, c := range columns {
		header[i] = c.title
	}
	rows = append(rows, header)
	for _, s := range m.layers {
		r := cells(s)
		if full := m.widths[s.Name]; s.Out < full {
			r[2] += fmt.Sprintf(" · %d of %d %s", s.Out, full, units(s))
		}
		rows = append(rows, r)
	}
	tot := cells(total(m.layers))
	tot[1], tot[2], tot[6], tot[7] = "", "", "", ""
	return append(rows, tot)
}

func cells(s nn.LayerStats) []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.cell(s)
	}
	return out
}

// fitColumns drops the columns with the highest drop level first (from the
// right) until the rest fit in width with two spaces between columns.
func fitColumns(widths, drops []int, width int) []bool {
	show := make([]bool, len(widths))
	used := -2
	for i, w := range widths {
		show[i] = true
		used += w + 2
	}
	for level := 5; level >= 1 && used > width; level-- {
		for i := len(widths) - 1; i >= 0 && used > width; i-- {
			if show[i] && drops[i] == level {
				show[i] = false
				used -= widths[i] + 2
			}
		}
	}
	return show
}
