package common

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// KeyMap is every key the program answers to. Each binding carries its help
// text, so the help bar is generated from this one place.
type KeyMap struct {
	// Global.
	Quit     key.Binding
	Help     key.Binding
	NextPane key.Binding
	PrevPane key.Binding
	Presets  key.Binding
	Export   key.Binding

	// Knobs (active once the baseline is trained, whatever pane has focus).
	KnobPrev key.Binding
	KnobNext key.Binding
	Less     key.Binding
	More     key.Binding
	LessFine key.Binding
	MoreFine key.Binding
	PickKnob key.Binding // help only: "↑/↓ knob"
	Adjust   key.Binding // help only: "←/→ turn"
	Fine     key.Binding // help only: "[/] fine step"
	FineTune key.Binding
	AddRow   key.Binding

	// Scrolling panes.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	Scroll key.Binding // help only: "↑/↓ scroll"

	// Curves pane.
	PrevCurve key.Binding
	NextCurve key.Binding
	Curves    key.Binding // help only: "↑/↓ curves"
	View      key.Binding // the chart pane: training curves, then each kind of sensitivity analysis; the root sets its help to what v shows next
	Classes   key.Binding // the layers pane: the selected result row's accuracy on each class, or back to the layers

	// Weight histogram (the bit-width knob's chart).
	PrevLayer key.Binding
	NextLayer key.Binding
	Layers    key.Binding // help only: "↑/↓ layer"

	// Preset picker.
	Run         key.Binding
	Back        key.Binding
	Filter      key.Binding
	NextPage    key.Binding
	PrevPage    key.Binding
	Pages       key.Binding // help only: "←/→ page"
	PickMatch   key.Binding // help only, while filtering: "↑/↓ pick"
	RunMatch    key.Binding // help only, while filtering: "enter run"
	ClearFilter key.Binding // help only, while filtering: "esc clear"

	// Dialogs.
	Yes key.Binding
	No  key.Binding
}

// DefaultKeyMap returns the program's keys.
func DefaultKeyMap() *KeyMap {
	return &KeyMap{
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		NextPane: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		PrevPane: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev pane")),
		Presets:  key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "presets")),
		Export:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export")),

		PickKnob: key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "knob")),
		KnobPrev: key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "previous knob")),
		KnobNext: key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "next knob")),
		Less:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "less compression")),
		More:     key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "more compression")),
		LessFine: key.NewBinding(key.WithKeys("shift+left", "["), key.WithHelp("[", "fine step down")),
		MoreFine: key.NewBinding(key.WithKeys("shift+right", "]"), key.WithHelp("]", "fine step up")),
		Adjust:   key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "turn")),
		Fine:     key.NewBinding(key.WithKeys("[", "]"), key.WithHelp("[/]", "fine step")),
		FineTune: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "fine-tune")),
		AddRow:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add row")),

		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first row")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last row")),
		Scroll:   key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll")),

		PrevCurve: key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "previous curves")),
		NextCurve: key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "next curves")),
		Curves:    key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "curves")),
		View:      key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "curves/sensitivity")),
		Classes:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "per-class accuracy")),

		PrevLayer: key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "previous layer")),
		NextLayer: key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "next layer")),
		Layers:    key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "layer")),

		Run:         key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		NextPage:    key.NewBinding(key.WithKeys("right", "l", "pgdown"), key.WithHelp("→/pgdn", "next page")),
		PrevPage:    key.NewBinding(key.WithKeys("left", "h", "pgup"), key.WithHelp("←/pgup", "previous page")),
		Pages:       key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "page")),
		PickMatch:   key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "pick")),
		RunMatch:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),

		Yes: key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "yes")),
		No:  key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
	}
}

// TurnsKnob reports whether msg turns a knob; those keys work from any pane.
func (k *KeyMap) TurnsKnob(msg tea.KeyMsg) bool {
	return key.Matches(msg, k.Less, k.More, k.LessFine, k.MoreFine)
}
