package common

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/mattn/go-runewidth"

	"github.com/prunerlab/pruner-tui/core/modelfile"
)

// Truncate cuts s to at most width cells, ending in "…" when cut. ANSI
// styling in s is kept.
func Truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, "…")
}

// PadLeft right-aligns plain text s in width cells.
func PadLeft(s string, width int) string {
	if w := runewidth.StringWidth(s); w < width {
		return strings.Repeat(" ", width-w) + s
	}
	return s
}

// Bytes formats a size as every part of pruner-tui does: B, KiB or MiB
// with three significant digits (see modelfile.FormatSize).
func Bytes(n int64) string { return modelfile.FormatSize(n) }

// Shape formats a weight matrix's shape: "784→300".
func Shape(in, out int) string { return modelfile.FormatShape(in, out) }

// Count formats an integer with thin groups of three: 101,770.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Signed formats v with an explicit sign and prec decimals: +0.12, -1.30.
func Signed(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if v >= 0 && !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	if s == "-0."+strings.Repeat("0", prec) || s == "-0" {
		s = "+" + s[1:]
	}
	return s
}

// Ratio formats a compression ratio: 6.5×, 12×.
func Ratio(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.1f×", v)
}

// Clock formats a duration as m:ss, or h:mm:ss past an hour.
func Clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

// Bits says a bit width in words: "1 bit", "4 bits".
func Bits(n int) string {
	if n == 1 {
		return "1 bit"
	}
	return strconv.Itoa(n) + " bits"
}
