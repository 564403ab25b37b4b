package common

import (
	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
)

// Component is a pane: a Bubble Tea model that lists its keys for the help
// bar and draws itself at the size the root gives it.
type Component interface {
	tea.Model
	help.KeyMap
	SetSize(width, height int)
}

// Common is shared by every component: the terminal size, the styles and the
// keymap. Components keep a pointer to one value owned by the root model.
type Common struct {
	Width, Height int
	Styles        *Styles
	Keys          *KeyMap
}

// New returns a Common with the default styles and keymap.
func New() *Common {
	return &Common{Styles: DefaultStyles(), Keys: DefaultKeyMap()}
}
