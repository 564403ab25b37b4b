package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/tui/components/dialog"
	"github.com/prunerlab/pruner-tui/tui/components/picker"
)

// The questions the root asks before work is lost, and the export's.
const (
	dialogQuit    = "quit"
	dialogDiscard = "discard"
	dialogExport  = "export"
)

// atStake says what quitting, or running another experiment, would lose:
// the work running, and the rows not exported — all of them when
// allRows, else only those the user added (the preset's own rows come
// back by running it again).
func (s *session) atStake(allRows bool) []string {
	var out []string
	switch {
	case s.running:
		what := strings.TrimSpace(string(s.runStage) + " " + s.runEpoch)
		if s.runPart[1] > 1 {
			what += fmt.Sprintf(", stage %d of %d", s.runPart[0], s.runPart[1])
		}
		out = append(out, fmt.Sprintf("%s's run is still working (%s): it stops, and its rows so far are lost.", s.spec.Name, what))
	case s.ftJob != 0:
		out = append(out, "The fine-tune of "+s.ftText+" is still running: it stops.")
	}
	if s.queued != nil {
		out = append(out, "The queued fine-tune of "+s.queued.String()+" never runs.")
	}
	n := s.panes.results.Len()
	switch {
	case n == 0 || n == s.savedLen:
	case allRows && s.userRows > 0:
		out = append(out, fmt.Sprintf("The table's %s are not exported, %d of them added by you.", rowCount(n), s.userRows))
	case allRows:
		out = append(out, fmt.Sprintf("The table's %s are not exported.", rowCount(n)))
	case s.userRows > 0:
		out = append(out, fmt.Sprintf("The %s you added are not exported.", rowCount(s.userRows)))
	}
	return out
}

// askQuit quits at once when nothing is at stake, else asks first; q
// again (or y) quits.
func (m *model) askQuit() tea.Cmd {
	stake := m.session.atStake(false)
	if len(stake) == 0 {
		return m.quit()
	}
	options := []dialog.Option{{Keys: []string{"q", "y"}, Label: "Quit", Value: "quit"}}
	if m.results.Len() > 0 {
		options = append(options, dialog.Option{Keys: []string{"e"}, Label: "Export first", Value: "export"})
	}
	options = append(options, dialog.Option{Keys: []string{"n"}, Label: "Stay", Value: ""})
	m.dialog = dialog.New(m.common, dialogQuit, "Quit pruner-tui?", stake, options...)
	return nil
}

// choose runs the experiment picked in the picker, asking first when the
// table or running work would be lost.
func (m *model) choose(it picker.Item) tea.Cmd {
	stake := m.session.atStake(true)
	if len(stake) == 0 {
		return m.run(it)
	}
	m.pending = &it
	options := []dialog.Option{{Keys: []string{"y"}, Label: "Run it", Value: "run"}}
	if m.results.Len() > 0 {
		options = append(options, dialog.Option{Keys: []string{"e"}, Label: "Export first", Value: "export"})
	}
	options = append(options, dialog.Option{Keys: []string{"n"}, Label: "Stay", Value: ""})
	body := append(stake, "Running "+it.Name+" starts afresh with an empty table.")
	m.dialog = dialog.New(m.common, dialogDiscard, "Run "+it.Name+"?", body, options...)
	return nil
}

// run starts the experiment it on the panes.
func (m *model) run(it picker.Item) tea.Cmd {
	m.state = stateMain
	if it.Spec != nil {
		return m.session.start(*it.Spec)
	}
	return m.session.load(it.Name)
}

// askExport asks in which format to export the table, each option saying
// where it writes.
func (m *model) askExport() tea.Cmd {
	if m.results.Len() == 0 {
		m.status.SetNote("nothing to export yet: no result rows")
		m.after = nil
		return nil
	}
	var options []dialog.Option
	preferred := 0
	for i, f := range []struct{ key, label, format string }{{"c", "CSV", "csv"}, {"m", "Markdown", "md"}, {"j", "JSON", "json"}} {
		path := m.session.exportPath(f.format)
		options = append(options, dialog.Option{Keys: []string{f.key}, Label: f.label, Value: f.format,
			Note: "writes " + path + " (or a new name beside it, if that file exists)"})
		if m.session.prefixFormat() == f.format {
			preferred = i
		}
	}
	body := []string{fmt.Sprintf("The table's %s", rowCount(m.results.Len()))}
	if n := len(m.session.sensitivity.Sensitivity); n > 0 {
		body[0] += fmt.Sprintf(", and the %s beside it", plural(n, "sensitivity table"))
	}
	body[0] += "."
	m.dialog = dialog.New(m.common, dialogExport, "Export the results", body, options...)
	m.dialog.Select(preferred)
	return nil
}

// plural says "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// answered acts on a dialog's answer.
func (m *model) answered(msg dialog.ChosenMsg) tea.Cmd {
	if m.dialog == nil || m.dialog.ID() != msg.ID {
		return nil
	}
	m.dialog = nil
	switch msg.ID {
	case dialogQuit:
		switch msg.Value {
		case "quit":
			return m.quit()
		case "export":
			m.after = m.quit
			return m.askExport()
		}
	case dialogDiscard:
		it := m.pending
		m.pending = nil
		switch {
		case it == nil:
		case msg.Value == "run":
			return m.run(*it)
		case msg.Value == "export":
			m.after = func() tea.Cmd { return m.run(*it) }
			return m.askExport()
		default:
			m.state = stateMain
		}
	case dialogExport:
		if msg.Value == "" {
			m.after = nil
			return nil
		}
		return m.session.export(msg.Value)
	}
	return nil
}

// exported says where the export went and, once it is written, does what
// waited for it (quitting, running another experiment).
func (m *model) exported(msg exportedMsg) tea.Cmd {
	m.session.exported(msg)
	after := m.after
	m.after = nil
	if after == nil || msg.Err != nil {
		return nil
	}
	return after()
}

// sideKinds are the kinds of side table an export writes beside the
// results: the per-class accuracies, the sensitivity tables.
func sideKinds(r results.Report) []results.Kind {
	var kinds []results.Kind
	if r.Classes != nil {
		kinds = append(kinds, results.PerClass)
	}
	for _, s := range r.Sensitivity {
		kinds = append(kinds, s.Kind)
	}
	return kinds
}
