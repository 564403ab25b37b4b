package spec

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// Bounds on a spec file, checked before the YAML parser builds anything
// and before the decoder expands an alias, so a hostile file is refused in
// milliseconds and in little memory: the parser's cost grows with the
// number of tokens and their nesting, and the decoder's with the size of
// the tree once every alias is replaced by what it names (a "billion
// laughs").
const (
	// MaxSpecBytes is the largest spec file: a spec is a few kilobytes.
	MaxSpecBytes = 1 << 20
	// MaxMarks bounds the YAML punctuation marks and line breaks of a
	// spec, which bound its tokens (keys, values, punctuation: at most
	// 2·marks + 2) and so the parser's memory; a preset has a few hundred.
	MaxMarks = 50_000
	// MaxDepth is how deeply lists and mappings may nest; a spec needs 6.
	MaxDepth = 32
	// MaxValues bounds the nodes of the tree with every alias expanded.
	MaxValues = 100_000
	// MaxListLength bounds every list of a spec (layers, compression
	// steps, ratios, ...): decoding a step costs the YAML library a tenth
	// of a millisecond, and running one minutes.
	MaxListLength = 1000
)

var byteOrderMark = []byte("\xef\xbb\xbf")

// prescan checks the bytes of a spec before the YAML parser reads them:
// their size, that they are UTF-8 text YAML allows, how many marks they
// hold and how deeply they nest. It returns the text without a leading
// byte-order mark.
func prescan(data []byte) ([]byte, *Error) {
	if len(data) > MaxSpecBytes {
		return nil, &Error{Msg: fmt.Sprintf("the file is larger than %d MiB, the most a spec may be (a spec is a few kilobytes)", MaxSpecBytes>>20)}
	}
	data = bytes.TrimPrefix(data, byteOrderMark)
	if e := checkCharacters(data); e != nil {
		return nil, e
	}
	if e := checkMarks(data); e != nil {
		return nil, e
	}
	return data, checkDepth(string(data))
}

// checkCharacters refuses bytes that are not UTF-8 and characters YAML
// does not allow in a file (its c-printable set: no control characters
// but tab and line breaks), naming the line.
func checkCharacters(data []byte) *Error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return &Error{Line: line, Msg: fmt.Sprintf("the file is not UTF-8 text: byte 0x%02x at column %d; save it as UTF-8", data[i], col)}
		case !yamlPrintable(r):
			return &Error{Line: line, Msg: fmt.Sprintf("character %U at column %d is not allowed in YAML (printable characters, tabs and line breaks only); "+
				`write it as an escape in a double-quoted string ("\x1b")`, r, col)}
		case r == '\n':
			line, col = line+1, 0
		}
		i += size
		col++
	}
	return nil
}

// yamlPrintable is YAML 1.2's c-printable: tab, line feed, carriage
// return, the printable ASCII range, NEL and the rest of Unicode but C1
// controls, surrogates and U+FFFE/U+FFFF.
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return true
	case r < 0x20 || r == 0x7f:
		return false
	case r >= 0x80 && r < 0xa0:
		return false
	case r == 0xfffe || r == 0xffff:
		return false
	}
	return true
}

// yamlMarks are the characters that start or end a YAML token: flow and
// block indicators, quotes, comments, anchors, aliases, tags, directives,
// reserved characters and line breaks.
const yamlMarks = "[]{},:-?&*!|>#'\"%@`\n\r"

// checkMarks counts the marks of data: between two of them there is at
// most one scalar, so a file within MaxMarks holds at most 2·MaxMarks + 2
// tokens, whatever its size, and the lexer that checkDepth runs stays
// small.
func checkMarks(data []byte) *Error {
	marks, line := 0, 1
	for _, b := range data {
		if b == '\n' {
			line++
		}
		if strings.IndexByte(yamlMarks, b) >= 0 {
			if marks++; marks > MaxMarks {
				return &Error{Line: line, Msg: fmt.Sprintf("the spec has more than %d YAML punctuation marks and line breaks; a spec has hundreds", MaxMarks)}
			}
		}
	}
	return nil
}

// checkDepth refuses nesting deeper than MaxDepth. It reads the tokens of
// the parser's own lexer, so both see the same structure. The depth counts
// the open flow collections ([ and {) and the block collections, whose
// nesting is their indentation: the columns of their keys and "-"
// entries, each deeper than the one it is in.
func checkDepth(src string) *Error {
	var (
		flow  int
		block []int // columns of the open block collections, increasing
		prev  *token.Token
	)
	for _, tk := range lexer.Tokenize(src) {
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			flow = max(flow-1, 0)
		case token.SequenceEntryType, token.MappingValueType:
			if flow > 0 {
				break
			}
			col := tk.Position.Column
			if tk.Type == token.MappingValueType && prev != nil {
				col = prev.Position.Column // a mapping sits at its keys
			}
			for len(block) > 0 && block[len(block)-1] > col {
				block = block[:len(block)-1]
			}
			if len(block) == 0 || block[len(block)-1] < col {
				block = append(block, col)
			}
		}
		if len(block)+flow > MaxDepth {
			return &Error{Line: tk.Position.Line, Msg: fmt.Sprintf("lists and mappings nest more than %d deep here; a spec needs 6", MaxDepth)}
		}
		if tk.Type != token.CommentType {
			prev = tk
		}
	}
	return nil
}

// aliases holds the anchors of a parsed spec and the size of each once
// its own aliases are expanded.
type aliases struct {
	anchors map[string]*ast.AnchorNode
	size    map[*ast.AnchorNode]int
	busy    map[*ast.AnchorNode]bool
}

// checkAliases counts the nodes of the tree under body with every alias
// replaced by the value it names, and refuses more than MaxValues; an
// anchor named twice or an alias inside its own anchor is refused too.
// It returns the anchors, so the walk of Parse can look through aliases.
func checkAliases(body ast.Node) (map[string]*ast.AnchorNode, *Error) {
	a := &aliases{anchors: map[string]*ast.AnchorNode{}, size: map[*ast.AnchorNode]int{}, busy: map[*ast.AnchorNode]bool{}}
	var dup *Error
	ast.Walk(visitFunc(func(n ast.Node) bool {
		if an, ok := n.(*ast.AnchorNode); ok && dup == nil {
			name := scalarText(an.Name)
			if first, seen := a.anchors[name]; seen {
				dup = &Error{Line: nodeLine(an), Msg: fmt.Sprintf("anchor &%s is defined twice (first on line %d): give each anchor its own name", name, nodeLine(first))}
			}
			a.anchors[name] = an
		}
		return dup == nil
	}), body)
	if dup != nil {
		return nil, dup
	}
	if _, e := a.count(body); e != nil {
		return nil, e
	}
	return a.anchors, nil
}

// count is the number of nodes under n, aliases expanded, stopping once
// it passes MaxValues.
func (a *aliases) count(n ast.Node) (int, *Error) {
	total := 0
	var err *Error
	ast.Walk(visitFunc(func(n ast.Node) bool {
		if err != nil {
			return false
		}
		total++
		if al, ok := n.(*ast.AliasNode); ok {
			var size int
			size, err = a.expand(al)
			total += size
		}
		if err == nil && total > MaxValues {
			err = &Error{Line: nodeLine(n), Msg: fmt.Sprintf("with its aliases expanded the spec has more than %d values; a spec has hundreds (do aliases repeat each other?)", MaxValues)}
		}
		return err == nil
	}), n)
	return total, err
}

// expand is the size of what alias al names; an alias whose anchor is
// missing counts as itself (the decoder says it is missing).
func (a *aliases) expand(al *ast.AliasNode) (int, *Error) {
	name := scalarText(al.Value)
	an, ok := a.anchors[name]
	if !ok {
		return 0, nil
	}
	if a.busy[an] {
		return 0, &Error{Line: nodeLine(al), Msg: fmt.Sprintf("alias *%s is used inside its own anchor &%s (line %d)", name, name, nodeLine(an))}
	}
	if size, done := a.size[an]; done {
		return size, nil
	}
	a.busy[an] = true
	size, err := a.count(an.Value)
	a.busy[an] = false
	a.size[an] = size
	return size, err
}

// visitFunc is an ast.Visitor: it descends into a node's children while
// the function returns true. Missing nodes are skipped.
type visitFunc func(ast.Node) bool

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if n == nil || reflect.ValueOf(n).IsNil() || !f(n) {
		return nil
	}
	return f
}
