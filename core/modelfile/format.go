package modelfile

import "strconv"

// FormatSize writes a size in bytes as pruner-tui shows every size, in
// the TUI, the headless progress and inspect alike: B below 1 KiB, then
// KiB or MiB (powers of 1024) with three significant digits.
func FormatSize(n int64) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1024*1024:
		return sig3(float64(n)/1024) + " KiB"
	default:
		return sig3(float64(n)/(1024*1024)) + " MiB"
	}
}

// FormatShape writes a weight matrix's shape as pruner-tui shows every
// shape: inputs → outputs, "784→300".
func FormatShape(in, out int) string {
	return strconv.Itoa(in) + "→" + strconv.Itoa(out)
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
