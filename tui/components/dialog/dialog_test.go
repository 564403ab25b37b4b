package dialog

import (
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/prunerlab/pruner-tui/tui/common"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func quitDialog() *Model {
	return New(common.New(), "quit", "Quit pruner-tui?",
		[]string{"quickstart's run is still working (training epoch 3/10, stage 1 of 7): it stops, and its rows so far are lost."},
		Option{Keys: []string{"q", "y"}, Label: "Quit", Value: "quit"},
		Option{Keys: []string{"e"}, Label: "Export first", Value: "export", Note: "writes quickstart.csv"},
		Option{Keys: []string{"n"}, Label: "Stay"})
}

func answer(t *testing.T, m *Model, k tea.KeyMsg) (string, bool) {
	t.Helper()
	cmd := m.Update(k)
	if cmd == nil {
		return "", false
	}
	c := cmd().(ChosenMsg)
	if c.ID != "quit" {
		t.Errorf("answer of dialog %q", c.ID)
	}
	return c.Value, true
}

func TestAnswers(t *testing.T) {
	runes := func(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }
	for _, c := range []struct {
		keys []tea.KeyMsg
		want string
	}{
		{[]tea.KeyMsg{runes("q")}, "quit"},
		{[]tea.KeyMsg{runes("y")}, "quit"},
		{[]tea.KeyMsg{runes("e")}, "export"},
		{[]tea.KeyMsg{runes("n")}, ""},
		{[]tea.KeyMsg{{Type: tea.KeyEsc}}, ""},
		{[]tea.KeyMsg{{Type: tea.KeyEnter}}, "quit"},
		{[]tea.KeyMsg{{Type: tea.KeyRight}, {Type: tea.KeyEnter}}, "export"},
		{[]tea.KeyMsg{{Type: tea.KeyLeft}, {Type: tea.KeyEnter}}, ""}, // wraps to Stay
	} {
		m := quitDialog()
		var got string
		var done bool
		for _, k := range c.keys {
			got, done = answer(t, m, k)
		}
		if !done || got != c.want {
			t.Errorf("%v: answer %q (%v), want %q", c.keys, got, done, c.want)
		}
	}
	m := quitDialog()
	if _, done := answer(t, m, runes("x")); done {
		t.Error("a key of no option answered")
	}
	m.Select(1)
	if v := m.View(80); !strings.Contains(v, "▸ e Export first") || !strings.Contains(v, "writes quickstart.csv") {
		t.Errorf("the selected option and its note:\n%s", v)
	}
}

// Overlay puts the box in the middle and keeps every line's width.
func TestOverlay(t *testing.T) {
	bg := strings.TrimSuffix(strings.Repeat(strings.Repeat("·", 40)+"\n", 10), "\n")
	out := Overlay(bg, "┌──┐\n└──┘", 40, 10)
	lines := strings.Split(out, "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		if lipgloss.Width(l) != 40 {
			t.Errorf("line %d is %d wide", i, lipgloss.Width(l))
		}
	}
	if lines[4] != strings.Repeat("·", 18)+"┌──┐"+strings.Repeat("·", 18) || lines[3] != strings.Repeat("·", 40) {
		t.Errorf("overlay:\n%s", out)
	}
}

// TestGoldenDialog pins the quit dialog as drawn in an 80-column window.
func TestGoldenDialog(t *testing.T) {
	golden.RequireEqual(t, []byte(quitDialog().View(80)))
}
