package spec

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
)

// Error is a problem with a spec: which file, which line, which field,
// and what is allowed. Field is a path like "train.lr" or
// "compress[1].ratio" (list indices start at 0); Line is 1-based, 0 when
// unknown (a Spec built in Go has no lines).
type Error struct {
	Source string
	Line   int
	Field  string
	Msg    string

	want    string // what is allowed, without "got ...": used when the field is missing
	unnamed bool   // Msg already names the field
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(filepath.ToSlash(e.Source) + ": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" && !e.unnamed {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// fieldError says field must be want but is got.
func fieldError(field, want string, got any) *Error {
	if f, ok := got.(float64); ok {
		got = FormatFloat(f)
	}
	return &Error{Field: field, Msg: fmt.Sprintf("%s, got %v", want, got), want: want}
}

// problem says what is wrong with field, in words of its own.
func problem(field, msg string) *Error { return &Error{Field: field, Msg: msg} }

func quote(s string) string { return fmt.Sprintf("%q", s) }

// FormatFloat writes a number the way a spec writes it: 0.5, 1e-05, 99.9.
func FormatFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(f)
	}
	return fmt.Sprintf("%g", f)
}

// FormatRatio writes a ratio with two decimals, or three when it has a
// third ("0.90", "0.975"), so a setting never rounds what was asked.
func FormatRatio(r float64) string {
	if math.Abs(r*100-math.Round(r*100)) > 1e-9 {
		return fmt.Sprintf("%.3f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// oneOf is "must be one of a, b, c".
func oneOf(names []string) string { return "must be one of " + strings.Join(names, ", ") }

// inRange says a whole number must lie in [lo, hi].
func inRange(lo, hi int) string { return fmt.Sprintf("must be in [%d, %d]", lo, hi) }
