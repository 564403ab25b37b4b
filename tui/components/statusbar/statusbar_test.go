package statusbar

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

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
