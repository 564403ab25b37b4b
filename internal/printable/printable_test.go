package printable

import (
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"fc1", "fc1"},
		{"größe Ω 層", "größe Ω 層"},
		{"a b", "a b"},
		{"\x1b]0;owned\x07", `\x1b]0;owned\a`},
		{"\x1b[2J", `\x1b[2J`},
		{"two\nlines\r", `two\nlines\r`},
		{"tab\there", `tab\there`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"\xc3", `\xc3`}, // a truncated two-byte sequence
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"rtl\u202eoverride", `rtl\u202eoverride`},
		{"nbsp\u00a0", `nbsp\u00a0`},
		{"\x7f\u0085", `\x7f\u0085`},
		{"", ""},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Is(c.in); got != (c.in == c.want) {
			t.Errorf("Is(%q) = %v, want %v", c.in, got, c.in == c.want)
		}
	}
}

// FuzzEscape: whatever goes in, what comes out is printable UTF-8, and
// escaping it again changes nothing.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"fc1", "\x1b[31mred", "a\nb", "\xff\xfe", "\u202e", "x\\x1b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !utf8.ValidString(e) || !Is(e) {
			t.Fatalf("Escape(%q) = %q is not printable", s, e)
		}
		if Escape(e) != e {
			t.Fatalf("Escape is not idempotent on %q", s)
		}
		if Is(s) && e != s {
			t.Fatalf("printable %q changed to %q", s, e)
		}
	})
}
