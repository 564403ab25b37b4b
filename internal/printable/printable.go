package printable

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Is reports whether s is valid UTF-8 made only of printable characters:
// letters, marks, numbers, punctuation, symbols and the ASCII space
// (strconv.IsPrint). Control characters (escape, newline, tab), other
// spaces and invisible format characters (zero-width, bidirectional
// overrides) are not.
func Is(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// Escape returns s with every character that Is rejects written as a Go
// escape, and printable text kept as it is: "a\x1b[2Jb" becomes
// `a\x1b[2Jb` with a real backslash, a newline becomes `\n`, a byte that
// is not UTF-8 `\xff`. The result is printable, so Escape(Escape(s)) ==
// Escape(s).
func Escape(s string) string {
	if Is(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case strconv.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\u200b'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}
