package statusbar

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/tui/common"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func TestLine(t *testing.T) {
	m := New(common.New())
	m.SetSize(80, 1)
	if got := strings.TrimRight(m.View(), " "); got != " ● starting  0:00" {
		t.Errorf("empty status %q", got)
	}
	m.SetStage(experiments.StageTraining, "epoch 3/10")
	m.SetElapsed(75 * time.Second)
	m.SetLog("loaded 60000 images\nsecond line")
	if got := strings.TrimRight(m.View(), " "); got != " ● training epoch 3/10  1:15 │ loaded 60000 images" {
		t.Errorf("status %q", got)
	}
	m.SetNote("exported 3 rows to /tmp/x.csv")
	if !strings.Contains(m.View(), "exported 3 rows to /tmp/x.csv") || strings.Contains(m.View(), "loaded") {
		t.Errorf("note does not replace the log: %q", m.View())
	}
	m.SetLog("next log line")
	if !strings.Contains(m.View(), "next log line") {
		t.Errorf("a new log line does not replace the note: %q", m.View())
	}
	m.SetError(errors.New("export results.csv: permission denied"))
	m.SetStage(experiments.StageFailed, "")
	if got := strings.TrimRight(m.View(), " "); got != " ✗ failed  1:15 │ error: export results.csv: permission denied" {
		t.Errorf("error status %q", got)
	}
	if w := lipgloss.Width(m.View()); w != 80 {
		t.Errorf("status is %d wide, want 80", w)
	}
	m.SetLog(strings.Repeat("long ", 40))
	m.SetError(nil)
	if w := lipgloss.Width(m.View()); w != 80 {
		t.Errorf("status with a long log is %d wide, want 80", w)
	}
}

// TestGoldenStatus pins the line at 100 columns while the baseline trains.
func TestGoldenStatus(t *testing.T) {
	m := New(common.New())
	m.SetSize(100, 1)
	m.SetStage(experiments.StageTraining, "epoch 3/10")
	m.SetElapsed(75 * time.Second)
	m.SetLog("epoch 3: train 97.10%, test 96.84%")
	golden.RequireEqual(t, []byte(m.View()))
}

// The spinner turns while work runs; the clock, stage k of N and the time
// left show whole, a long stage text giving way to them.
func TestBusyClock(t *testing.T) {
	m := New(common.New())
	m.SetSize(80, 1)
	spin := m.SetBusy(true)
	if spin == nil || m.SetBusy(true) != nil {
		t.Fatal("the spinner should start once")
	}
	m.SetStage(experiments.StagePruning, "prune-gradual ratio=0.98 scope=global epochs=0-8 every=100 finetune=6: epoch 8/14")
	m.SetPart(3, 3)
	m.SetElapsed(151 * time.Second)
	m.SetTimeLeft(40 * time.Second)
	v := m.View()
	if !strings.HasSuffix(strings.TrimRight(v, " "), "…  stage 3 of 3 · 2:31 · ~0:40 left") || lipgloss.Width(v) != 80 {
		t.Errorf("busy line %q", v)
	}
	before := m.View()
	m.Spin(spin().(spinner.TickMsg))
	if m.View() == before {
		t.Error("a tick did not turn the spinner")
	}
	m.SetBusy(false)
	if cmd := m.Spin(spin().(spinner.TickMsg)); cmd != nil {
		t.Error("the spinner goes on ticking when the work is done")
	}
	if v := m.View(); strings.Contains(v, "stage 3 of 3") || strings.Contains(v, "left") {
		t.Errorf("idle line still says the stage and time left: %q", v)
	}
}
