package results

import (
	"encoding/json"
	"strconv"
)

// Measured is a figure that is there only once it has been measured, as
// a row's latencies: a row scored without a benchmark (a knob preview
// added as it is) has none. Its zero value is "not measured", which the
// exports write as DESIGN.md asks, never as 0: an empty cell in CSV and
// Markdown, null in JSON. A measured value encodes exactly as the
// float64 would.
type Measured struct {
	value float64
	ok    bool
}

// Measure returns the measured value v.
func Measure(v float64) Measured { return Measured{value: v, ok: true} }

// Value is the figure and whether it was measured.
func (m Measured) Value() (float64, bool) { return m.value, m.ok }

// Or is the figure, or def when it was not measured.
func (m Measured) Or(def float64) float64 {
	if !m.ok {
		return def
	}
	return m.value
}

// Format writes the figure with prec decimals, or "" when not measured.
func (m Measured) Format(prec int) string {
	if !m.ok {
		return ""
	}
	return strconv.FormatFloat(m.value, 'f', prec, 64)
}

// MarshalJSON writes the figure as a JSON number, or null.
func (m Measured) MarshalJSON() ([]byte, error) {
	if !m.ok {
		return []byte("null"), nil
	}
	return json.Marshal(m.value)
}

// UnmarshalJSON reads a JSON number, or null for not measured.
func (m *Measured) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = Measured{}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = Measure(v)
	return nil
}
