package picker

import (
	"fmt"
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/tui/common"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "end":
		return tea.KeyMsg{Type: tea.KeyEnd}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func press(m *Model, keys ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		_, cmd = m.Update(keyMsg(k))
	}
	return cmd
}

func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func chosen(t *testing.T, cmd tea.Cmd) string {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command")
	}
	c, ok := cmd().(ChosenMsg)
	if !ok {
		t.Fatalf("got %#v, want a ChosenMsg", c)
	}
	return c.Item.Name
}

// shipped is the picker over the real presets, at 120×37 (the body of a
// 120×40 terminal).
func shipped() *Model {
	m := New(common.New(), spec.Presets(), nil)
	m.SetSize(120, 37)
	return m
}

func TestChoose(t *testing.T) {
	presets := []spec.PresetInfo{
		{Name: "quickstart", Description: "spirals in seconds", Source: "preset:quickstart"},
		{Name: "seed-mlp", Description: "the seed article's MLP", Source: "preset:seed-mlp"},
	}
	extra := []spec.Spec{{Name: "mine", Description: "from my.yaml", Source: "exp/my.yaml"}}
	m := New(common.New(), presets, extra)
	m.SetSize(80, 20)
	if m.Len() != 3 {
		t.Fatalf("%d items, want 3", m.Len())
	}
	v := m.View()
	for _, want := range []string{"Choose an experiment", "3 experiments", "quickstart", "spirals in seconds", "seed-mlp", "mine  exp/my.yaml"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	m.Select("mine")
	c := press(m, "enter")().(ChosenMsg)
	if c.Item.Name != "mine" || c.Item.Spec == nil || c.Item.Spec.Source != "exp/my.yaml" {
		t.Errorf("enter on the extra spec gave %#v", c)
	}
	m.Select("seed-mlp")
	if c := press(m, "enter")().(ChosenMsg); c.Item.Name != "seed-mlp" || c.Item.Spec != nil {
		t.Errorf("enter on a preset gave %#v", c)
	}
	if _, ok := press(m, "esc")().(ClosedMsg); !ok {
		t.Error("esc did not close the picker")
	}
}

// Every preset is reachable by keys: ↓ and → go on to the next page, the
// page dots say where the list is.
func TestPages(t *testing.T) {
	m := shipped()
	n, _ := m.pages()
	if n < 2 {
		t.Fatalf("%d presets fit one page at 120×37; the test wants two", m.Len())
	}
	if v := m.View(); !strings.Contains(v, "● ○") {
		t.Errorf("no page dots:\n%s", v)
	}
	seen := map[string]bool{}
	for range m.Len() {
		it, _ := m.Selected()
		seen[it.Name] = true
		press(m, "down")
	}
	if len(seen) != m.Len() {
		t.Errorf("↓ reached %d of %d presets", len(seen), m.Len())
	}
	if v := m.View(); !strings.Contains(v, "○ ●") {
		t.Errorf("on the last page, the dots do not say so:\n%s", v)
	}
	press(m, "g")
	press(m, "right")
	if _, page := m.pages(); page != 1 {
		t.Errorf("→ went to page %d", page)
	}
	press(m, "left")
	press(m, "pgdown")
	if _, page := m.pages(); page != 1 {
		t.Errorf("pgdown went to page %d", page)
	}
	press(m, "end")
	if it, _ := m.Selected(); it.Name != m.items[len(m.items)-1].Name {
		t.Errorf("end selected %q", it.Name)
	}
	// At 80×21 (the body of 80×24) pages are smaller, and still all reachable.
	m.SetSize(80, 21)
	if n, _ := m.pages(); n*m.perPage() < m.Len() || !strings.Contains(m.View(), "●") {
		t.Errorf("80×21: %d pages of %d", n, m.perPage())
	}
}

// The filter ranks name matches first, enter runs the best match, and the
// counter says how many match.
func TestFilterRanksNamesFirst(t *testing.T) {
	for _, c := range []struct{ query, first string }{
		{"agp", "agp-lenet300"},
		{"deep", "deep-compression-lenet300"},
		{"lottery", "lottery-lenet300"},
		{"quick", "quickstart"},
		{"overfit", "overfitting"},
		{"dc", "deep-compression-lenet300"}, // letters in order
	} {
		m := shipped()
		press(m, "/")
		typeText(m, c.query)
		if got := m.Matches(); len(got) == 0 || got[0] != c.first {
			t.Errorf("/%s lists %v, want %s first", c.query, got, c.first)
		}
		if name := chosen(t, press(m, "enter")); name != c.first {
			t.Errorf("/%s enter ran %s, want %s", c.query, name, c.first)
		}
	}
	m := shipped()
	press(m, "/")
	typeText(m, "lottery")
	v := m.View()
	n := m.Len() // every shipped preset
	if !strings.Contains(v, fmt.Sprintf("1 of %d matches “lottery”", n)) || strings.Contains(v, fmt.Sprintf("%d experiments", n)) {
		t.Errorf("the counter does not follow the filter:\n%s", v)
	}
	for i, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w != 120 {
			t.Errorf("line %d is %d wide while typing: %q", i, w, l)
		}
		if i < listTop+1 && strings.HasSuffix(l, "…│") { // the head; long descriptions are cut on purpose
			t.Errorf("line %d is cut while typing: %q", i, l)
		}
	}
	// q and ? are text while typing.
	typeText(m, "q?")
	if m.Query() != "lotteryq?" {
		t.Errorf("query %q", m.Query())
	}
	press(m, "esc")
	if m.Filtering() || m.Query() != "" || len(m.Matches()) != m.Len() {
		t.Errorf("esc did not clear the filter: %q, %d shown", m.Query(), len(m.Matches()))
	}
	press(m, "/")
	typeText(m, "zzz")
	if v := m.View(); !strings.Contains(v, fmt.Sprintf("none of %d match “zzz”", n)) {
		t.Errorf("no match:\n%s", v)
	}
	if cmd := press(m, "enter"); cmd != nil {
		t.Error("enter with no match chose something")
	}
}

func TestItemAt(t *testing.T) {
	m := shipped()
	// Line 0 is the border; items start on line 5, three lines each.
	for y, want := range map[int]int{5: 0, 6: 0, 8: 1, 9: 1} {
		if i, ok := m.ItemAt(y); !ok || i != want {
			t.Errorf("ItemAt(%d) = %d, %v; want %d", y, i, ok, want)
		}
	}
	for _, y := range []int{0, 3, 7} {
		if _, ok := m.ItemAt(y); ok {
			t.Errorf("ItemAt(%d) is an item", y)
		}
	}
}

// TestGoldenPicker pins the picker at 80×20 over three presets and a spec
// from a file, the second preset selected.
func TestGoldenPicker(t *testing.T) {
	presets := []spec.PresetInfo{
		{Name: "quickstart", Description: "spirals in seconds", Source: "preset:quickstart"},
		{Name: "ptq-sweep", Description: "post-training quantization of LeNet-300-100", Source: "preset:ptq-sweep"},
		{Name: "seed-mlp", Description: "the seed article's MLP", Source: "preset:seed-mlp"},
	}
	extra := []spec.Spec{{Name: "mine", Description: "from my.yaml", Source: "experiments/my.yaml"}}
	m := New(common.New(), presets, extra)
	m.SetSize(80, 20)
	m.Select("ptq-sweep")
	golden.RequireEqual(t, []byte(m.View()))
}
