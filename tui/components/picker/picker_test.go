package picker

import (
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

func TestChoose(t *testing.T) {
	presets := []spec.PresetInfo{
		{Name: "quickstart", Description: "spirals in seconds", Source: "preset:quickstart"},
		{Name: "seed-mlp", Description: "the seed article's MLP", Source: "preset:seed-mlp"},
	}
	extra := []spec.Spec{{Name: "mine", Description: "from my.yaml", Source: "my.yaml"}}
	m := New(common.New(), presets, extra)
	m.SetSize(80, 20)
	if m.Len() != 3 {
		t.Fatalf("%d items, want 3", m.Len())
	}
	v := m.View()
	for _, want := range []string{"Choose an experiment", "quickstart", "spirals in seconds", "seed-mlp", "mine"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}

	m.Select("mine")
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	chosen, ok := cmd().(ChosenMsg)
	if !ok || chosen.Item.Name != "mine" || chosen.Item.Spec == nil || chosen.Item.Spec.Source != "my.yaml" {
		t.Errorf("enter on the extra spec gave %#v", chosen)
	}
	m.Select("seed-mlp")
	_, cmd = m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if chosen := cmd().(ChosenMsg); chosen.Item.Name != "seed-mlp" || chosen.Item.Spec != nil {
		t.Errorf("enter on a preset gave %#v", chosen)
	}
	_, cmd = m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if _, ok := cmd().(ClosedMsg); !ok {
		t.Error("esc did not close the picker")
	}
	// q belongs to the root; the list must not quit the program itself.
	if _, cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")}); cmd != nil {
		if _, quit := cmd().(tea.QuitMsg); quit {
			t.Error("the list quit the program on q")
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
	extra := []spec.Spec{{Name: "mine", Description: "from my.yaml", Source: "my.yaml"}}
	m := New(common.New(), presets, extra)
	m.SetSize(80, 20)
	m.Select("ptq-sweep")
	golden.RequireEqual(t, []byte(m.View()))
}
