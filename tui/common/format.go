package common

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/mattn/go-runewidth"
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

// Bytes formats a size as B, KiB or MiB with three significant digits.
func Bytes(n int64) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1024*1024:
		return sig3(float64(n)/1024) + " KiB"
	default:
		return sig3(float64(n)/(1024*1024)) + " MiB"
	}
}

func sig3(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

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
