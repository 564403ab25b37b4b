package common

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{Bytes(0), "0 B"},
		{Bytes(1023), "1023 B"},
		{Bytes(1024), "1.00 KiB"},
		{Bytes(5160), "5.04 KiB"},    // 5160/1024 = 5.039
		{Bytes(61440), "60.0 KiB"},   // 60 exactly
		{Bytes(407080), "398 KiB"},   // 397.5 rounds up
		{Bytes(3 << 20), "3.00 MiB"}, // 3 MiB
		{Count(0), "0"},
		{Count(999), "999"},
		{Count(1000), "1,000"},
		{Count(101770), "101,770"},
		{Count(-1234567), "-1,234,567"},
		{Signed(0.31, 2), "+0.31"},
		{Signed(-1.4, 2), "-1.40"},
		{Signed(0, 2), "+0.00"},
		{Signed(-0.001, 2), "+0.00"}, // rounds to zero: no "-0.00"
		{Ratio(6.62), "6.6×"},
		{Ratio(123.4), "123×"},
		{Clock(0), "0:00"},
		{Clock(83 * time.Second), "1:23"},
		{Clock(3723 * time.Second), "1:02:03"},
		{PadLeft("42", 5), "   42"},
		{PadLeft("123456", 3), "123456"},
		{Truncate("abcdef", 4), "abc…"},
		{Truncate("abc", 4), "abc"},
		{FitWidth("ab", 4), "ab  "},
		{FitWidth("abcdef", 4), "abc…"},
		{Bits(1), "1 bit"},
		{Bits(4), "4 bits"},
		{Shape(784, 300), "784→300"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestPane(t *testing.T) {
	s := DefaultStyles()
	p := s.Pane("Layers", "baseline", "line one\nline two is far too long for this pane", 24, 5, false)
	lines := strings.Split(p, "\n")
	if len(lines) != 5 {
		t.Fatalf("pane has %d lines, want 5:\n%s", len(lines), p)
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w != 24 {
			t.Errorf("line %d is %d wide, want 24: %q", i, w, l)
		}
	}
	want := []string{
		"╭─ Layers baseline ────╮",
		"│line one              │",
		"│line two is far too l…│",
		"│                      │",
		"╰──────────────────────╯",
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
	// A title longer than the pane is cut, never wider than the frame.
	p = s.Pane("A very long title indeed", "and a note", "", 16, 3, true)
	for i, l := range strings.Split(p, "\n") {
		if w := lipgloss.Width(l); w != 16 {
			t.Errorf("long title: line %d is %d wide: %q", i, w, l)
		}
	}
}
