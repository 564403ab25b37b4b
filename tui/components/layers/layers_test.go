package layers

import (
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/tui/common"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// mnistLayers is a 784-128-10 MLP with fc1 half pruned at 8 bits.
func mnistLayers() []nn.LayerStats {
	return []nn.LayerStats{
		{Name: "fc1", Kind: "dense", In: 784, Out: 128, Params: 100480, NonZero: 50240, Weights: 100352, NonZeroW: 50176, Bits: 8, FullRank: 128, SizeBytes: 151552},
		{Name: "relu1", Kind: "relu"},
		{Name: "dropout1", Kind: "dropout"},
		{Name: "fc2", Kind: "dense", In: 128, Out: 10, Params: 1290, NonZero: 1290, Weights: 1280, NonZeroW: 1280, Bits: 32, FullRank: 10, SizeBytes: 5160},
	}
}

// row returns the view's line that starts with name (after the frame).
func row(view, name string) string {
	for _, l := range strings.Split(view, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, "│ "), name+" ") {
			return l
		}
	}
	return ""
}

func TestRows(t *testing.T) {
	m := New(common.New())
	m.SetSize(90, 8)
	m.SetLayers("preview: ratio=0.50 bits=8", mnistLayers())
	v := m.View()
	if !strings.Contains(v, "Layers preview: ratio=0.50 bits=8") {
		t.Errorf("title lacks the label:\n%s", v)
	}
	if strings.Contains(v, "relu1") || strings.Contains(v, "dropout1") {
		t.Errorf("layers without weights listed:\n%s", v)
	}
	fields := strings.Fields(strings.Trim(row(v, "fc1"), "│"))
	// Weights alone: 784·128 of them, half kept; the biases are not counted.
	want := []string{"fc1", "dense", "784→128", "100,352", "50,176", "50.0%", "8", "—", "148", "KiB"}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("fc1 row %q, want %q\n%s", fields, want, v)
	}
	// Total: 101,632 weights, 51,456 non-zero, sparsity 1 − 51456/101632.
	fields = strings.Fields(strings.Trim(row(v, "total"), "│"))
	want = []string{"total", "101,632", "51,456", "49.4%", "153", "KiB"}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("total row %q, want %q\n%s", fields, want, v)
	}
	for _, h := range []string{"layer", "kind", "shape", "weights", "non-zero", "sparsity", "bits", "rank", "size"} {
		if !strings.Contains(v, h) {
			t.Errorf("header lacks %q", h)
		}
	}
}

func TestNarrowDropsColumns(t *testing.T) {
	m := New(common.New())
	m.SetSize(44, 8)
	m.SetLayers("baseline", mnistLayers())
	v := m.View()
	for _, gone := range []string{"kind", "rank", "shape", "weights"} {
		if strings.Contains(v, gone) {
			t.Errorf("narrow pane kept %q:\n%s", gone, v)
		}
	}
	for _, kept := range []string{"layer", "non-zero", "sparsity", "bits", "size", "50.0%"} {
		if !strings.Contains(v, kept) {
			t.Errorf("narrow pane lost %q:\n%s", kept, v)
		}
	}
	for _, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w != 44 {
			t.Errorf("line %q is %d wide, want 44", l, w)
		}
	}
}

func TestRankShownWhenFactorized(t *testing.T) {
	layers := mnistLayers()
	layers[0].Kind, layers[0].Rank = "lowrank", 16
	m := New(common.New())
	m.SetSize(56, 8)
	m.SetLayers("preview: rank=16@fc1", layers)
	v := m.View()
	if !strings.Contains(v, "rank") || !strings.Contains(row(v, "fc1"), "16") {
		t.Errorf("rank of a factorized layer not shown:\n%s", v)
	}
}

func TestScroll(t *testing.T) {
	var stats []nn.LayerStats
	for i := range 6 {
		stats = append(stats, nn.LayerStats{Name: "fc" + string(rune('1'+i)), Kind: "dense", In: 4, Out: 4, Params: 16, NonZero: 16, Weights: 16, NonZeroW: 16, Bits: 32})
	}
	m := New(common.New())
	m.SetSize(80, 7) // header, 3 rows, total
	m.SetLayers("baseline", stats)
	v := m.View()
	if row(v, "fc4") != "" || !strings.Contains(v, "rows 1–3 of 6") {
		t.Errorf("first page:\n%s", v)
	}
	m.Focus()
	for range 5 {
		m.Update(tea.KeyMsg{Type: tea.KeyDown})
	}
	v = m.View()
	if row(v, "fc1") != "" || row(v, "fc6") == "" || !strings.Contains(v, "rows 4–6 of 6") {
		t.Errorf("after scrolling down:\n%s", v)
	}
	if row(v, "total") == "" {
		t.Errorf("total row scrolled away:\n%s", v)
	}
}

// TestGoldenLayers pins the pane at 90×8 on a preview that half prunes fc1
// and quantizes it to 8 bits.
func TestGoldenLayers(t *testing.T) {
	m := New(common.New())
	m.SetSize(90, 8)
	m.SetLayers("preview: ratio=0.50 bits=8", mnistLayers())
	golden.RequireEqual(t, []byte(m.View()))
}

// While the baseline trains, the pane shows what the layers are and says
// the rest comes with the trained model.
func TestTraining(t *testing.T) {
	m := New(common.New())
	m.SetSize(90, 8)
	m.SetLayers("baseline", mnistLayers())
	m.SetTraining(true)
	v := m.View()
	for _, want := range []string{"Layers baseline · training…", "784→128", "100,352", "total", "training…"} {
		if !strings.Contains(v, want) {
			t.Errorf("while training: view lacks %q:\n%s", want, v)
		}
	}
	for _, gone := range []string{"non-zero", "sparsity", "KiB", "50.0%", "50,176"} {
		if strings.Contains(v, gone) {
			t.Errorf("while training: view shows %q:\n%s", gone, v)
		}
	}
	m.SetTraining(false)
	if v := m.View(); !strings.Contains(v, "50.0%") || strings.Contains(v, "training") {
		t.Errorf("trained:\n%s", v)
	}
}

// TestConvShapesAndFiltersKept: a convolution's row gives its channels,
// window and output image; after filter pruning, how many filters it kept
// of the model as built.
func TestConvShapesAndFiltersKept(t *testing.T) {
	conv := func(name string, in, out, h int) nn.LayerStats {
		return nn.LayerStats{Name: name, Kind: "conv", In: in, Out: out, Weights: in * out * 25, NonZeroW: in * out * 25,
			Bits: 32, Window: 5, Map: nn.Shape{H: h, W: h, C: out}}
	}
	m := New(common.New())
	m.SetSize(120, 10)
	m.SetLayers("baseline", []nn.LayerStats{conv("conv1", 1, 20, 24), {Name: "pool1", Kind: "maxpool", In: 20, Out: 20, Window: 2},
		conv("conv2", 20, 50, 8), {Name: "fc1", Kind: "dense", In: 800, Out: 500, Weights: 400000, NonZeroW: 400000}})
	v := m.View()
	if r := row(v, "conv1"); !strings.Contains(r, "conv   1→20 5×5 24×24") || strings.Contains(r, "of") {
		t.Errorf("conv1 row %q\n%s", r, v)
	}
	if row(v, "pool1") != "" {
		t.Errorf("a layer without weights listed:\n%s", v)
	}
	m.SetLayers("filters=0.50", []nn.LayerStats{conv("conv1", 1, 10, 24), conv("conv2", 10, 25, 8),
		{Name: "fc1", Kind: "dense", In: 400, Out: 500, Weights: 200000, NonZeroW: 200000}})
	v = m.View()
	for name, want := range map[string]string{
		"conv1": "1→10 5×5 24×24 · 10 of 20 filters",
		"conv2": "10→25 5×5 8×8 · 25 of 50 filters",
		"fc1":   "400→500 ",
	} {
		if r := row(v, name); !strings.Contains(r, want) || (name == "fc1" && strings.Contains(r, " of ")) {
			t.Errorf("%s row %q, want %q\n%s", name, r, want, v)
		}
	}
	m.Reset()
	m.SetLayers("baseline", []nn.LayerStats{conv("conv1", 1, 10, 24)})
	if r := row(m.View(), "conv1"); strings.Contains(r, " of ") {
		t.Errorf("a new experiment's model as built still compared with the last one's: %q", r)
	}
}
