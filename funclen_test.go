package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines is the longest a function of experiments/ or tui/ may be,
// counted from its func keyword to its closing brace, tests included: a
// reader should see a function whole.
const maxFuncLines = 80

// TestFunctionLength keeps every function under experiments/ and tui/ at
// most maxFuncLines long.
func TestFunctionLength(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, root := range []string{"experiments", "tui"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				checked++
				if lines := fset.Position(fn.Body.Rbrace).Line - fset.Position(fn.Pos()).Line + 1; lines > maxFuncLines {
					t.Errorf("%s: %s is %d lines, more than %d", fset.Position(fn.Pos()), fn.Name.Name, lines, maxFuncLines)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 500 {
		t.Errorf("checked only %d functions: is the walk missing packages?", checked)
	}
}
