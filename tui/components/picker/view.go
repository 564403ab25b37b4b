package picker

import (
	"strings"

	"github.com/prunerlab/pruner-tui/internal/printable"
	"github.com/prunerlab/pruner-tui/tui/common"
)

// View draws the picker in a frame: the title (or the filter being
// typed), the counter, a page of items and the page dots.
func (m *Model) View() string {
	st := m.common.Styles
	innerW := max(m.width-2, 0)
	head := "   " + st.PickerTitle.Render("Choose an experiment")
	if m.filtering || m.Query() != "" {
		head = "   " + m.filter.View()
	}
	lines := []string{"", head, "   " + st.Muted.Render(m.counter()), ""}
	per := m.perPage()
	_, page := m.pages()
	for i := page * per; i < len(m.matches) && i < (page+1)*per; i++ {
		lines = append(lines, m.itemLines(m.items[m.matches[i]], i == m.cursor, innerW)...)
	}
	if n, page := m.pages(); n > 1 {
		for len(lines) < listTop+per*itemHeight {
			lines = append(lines, "")
		}
		lines = append(lines, "   "+m.dots(n, page))
	}
	note := "enter runs · esc goes back"
	if m.filtering {
		note = "enter runs the first · esc clears"
	}
	return st.Pane("Presets", note, strings.Join(lines, "\n"), m.width, m.height, true)
}

// itemLines draws an item: its name (and, for a file, its path), its
// description, a blank; the selected one with a bar and the accent.
func (m *Model) itemLines(it Item, selected bool, width int) []string {
	st := m.common.Styles
	bar, name, desc := "   ", st.Text.Bold(true), st.Muted
	if selected {
		bar, name, desc = " "+st.Selected.Render("│")+" ", st.Selected, st.Text
	}
	// A spec from a file may hold anything: its texts are escaped.
	title := name.Render(printable.Escape(it.Name))
	if p := it.Path(); p != "" {
		title += st.Muted.Render("  " + printable.Escape(p))
	}
	text := printable.Escape(strings.Join(strings.Fields(it.Desc), " "))
	return []string{
		common.Truncate(bar+title, width),
		common.Truncate(bar+desc.Render(text), width),
		"",
	}
}

// dots are the page dots: ● for the page shown, ○ for the others.
func (m *Model) dots(n, page int) string {
	st := m.common.Styles
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(" ")
		}
		if i == page {
			b.WriteString(st.Selected.Render("●"))
		} else {
			b.WriteString(st.Muted.Render("○"))
		}
	}
	return b.String()
}
