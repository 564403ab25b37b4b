package spec

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Parse parses and validates a YAML spec; source names the file in
// errors. Every problem is an *Error naming the file, the line and the
// field, and saying what is allowed:
//
//	lenet.yaml: line 12: train.lr: must be in (0, 1], got -0.5
//	x.yaml: line 3: unknown field "epoch" in train (allowed: optimizer, lr, ...); did you mean "epochs"?
//
// The YAML is read in three passes: goccy's parser (syntax errors carry its
// line), a walk of the syntax tree against the Spec's types — each
// compress entry against its technique's (unknown or misplaced keys and
// wrong types, with the key's line) — then goccy's strict decoder, then
// validation (range errors get the line of the field they name). The
// returned Spec has its defaults filled in (layer names, prune scope,
// fine-tuning rate, ...).
func Parse(source string, data []byte) (spec Spec, err error) {
	defer func() {
		// The YAML library is third-party code reading user input: a panic
		// in it must reach the user as an error about the file.
		if r := recover(); r != nil {
			spec, err = Spec{}, &Error{Source: source, Msg: fmt.Sprintf("cannot read the YAML: %v", r)}
		}
	}()
	body, anchors, e := parseBody(data)
	if e != nil {
		e.Source = source
		return Spec{}, e
	}
	if base, sweep := splitSweep(body); sweep != nil {
		return parseSweep(source, base, sweep, anchors)
	}
	parsed, pe := parseSpec(source, body, anchors)
	if pe != nil {
		return Spec{}, pe
	}
	return parsed, nil
}

// parseSpec walks, decodes and validates the body of a spec without a
// sweep block.
func parseSpec(source string, body ast.Node, anchors map[string]*ast.AnchorNode) (spec Spec, e *Error) {
	w := &walker{lines: map[string]int{}, rootLine: max(nodeLine(body), 1), anchors: anchors}
	if e := w.walk(body, reflect.TypeFor[Spec](), "", w.rootLine); e != nil {
		e.Source = source
		return Spec{}, e
	}
	if err := yaml.NodeToValue(body, &spec, yaml.Strict()); err != nil {
		return Spec{}, yamlError(source, "", err)
	}
	spec.Source = source
	if spec.Model.From != "" {
		if e := spec.importModel(source); e != nil {
			e.Source, e.Line = source, w.lineOf(e.Field)
			return Spec{}, e
		}
	}
	spec = spec.resolved()
	present := w.present
	if spec.Model.From != "" && !w.present("model.layers") {
		// The layers are the file's: every key of theirs counts as given.
		present = func(path string) bool { return strings.HasPrefix(path, "model.layers") || w.present(path) }
	}
	if e := spec.validate(present); e != nil {
		e.Source = source
		if !w.present(e.Field) && e.want != "" && requiredField(e.Field) {
			e.Msg = "required field is missing; " + e.want
		}
		e.Line = w.lineOf(e.Field)
		return Spec{}, e
	}
	return spec, nil
}

// parseBody returns the one document's body and its anchors, once the
// bytes have passed prescan and the tree checkAliases.
func parseBody(data []byte) (ast.Node, map[string]*ast.AnchorNode, *Error) {
	data, e := prescan(data)
	if e != nil {
		return nil, nil, e
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, nil, yamlError("", "YAML syntax error: ", err)
	}
	var bodies []ast.Node
	for _, doc := range file.Docs {
		if doc != nil && doc.Body != nil {
			bodies = append(bodies, doc.Body)
		}
	}
	switch {
	case len(bodies) == 0:
		return nil, nil, &Error{Msg: "the spec is empty: it needs at least name, dataset, model and train"}
	case len(bodies) > 1:
		return nil, nil, &Error{Line: nodeLine(bodies[1]), Msg: "only one YAML document is allowed per spec, found a second one"}
	}
	anchors, e := checkAliases(bodies[0])
	if e != nil {
		return nil, nil, e
	}
	return bodies[0], anchors, nil
}

// required lists the fields a spec must give, list indices written as
// [], for the "required field is missing" message.
var required = []string{
	"name", "dataset", "dataset.name", "dataset.classes", "dataset.dim",
	"model", "model.layers", "model.layers[].type", "model.layers[].units", "model.layers[].rate",
	"model.layers[].filters", "model.layers[].kernel", "model.layers[].size",
	"train", "train.optimizer", "train.lr", "train.epochs", "train.batch",
	"compress[].technique", "compress[].ratio", "compress[].bits", "compress[].rank", "compress[].clusters",
	"compress[].pipeline[].technique", "compress[].pipeline[].ratio", "compress[].pipeline[].bits",
	"compress[].pipeline[].rank", "compress[].pipeline[].clusters", "compress[].pipeline[].epochs",
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

func requiredField(path string) bool {
	return slices.Contains(required, indexRE.ReplaceAllString(path, "[]"))
}

// walker checks the syntax tree against the Spec's types and records the
// line of every path present in the file.
type walker struct {
	lines    map[string]int // "train.lr", "compress[1]" → line of its key or list item
	rootLine int
	anchors  map[string]*ast.AnchorNode // by name, to look through aliases
}

// present reports whether path is given in the file.
func (w *walker) present(path string) bool {
	_, ok := w.lines[path]
	return ok
}

// lineOf returns the line of path, or of its nearest ancestor in the file.
func (w *walker) lineOf(path string) int {
	for path != "" {
		if line, ok := w.lines[path]; ok {
			return line
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return w.rootLine
}

var stepType = reflect.TypeFor[Step]()

func (w *walker) walk(n ast.Node, t reflect.Type, path string, line int) *Error {
	n = unwrap(n)
	if alias, ok := n.(*ast.AliasNode); ok {
		// What an alias names is checked where it is used; checkAliases
		// has bounded the expansion and refused cycles.
		an, ok := w.anchors[scalarText(alias.Value)]
		if !ok {
			return nil // the decoder says the anchor is missing
		}
		n = unwrap(an.Value)
	}
	if n != nil && nodeLine(n) > 0 {
		line = nodeLine(n)
	}
	bad := func(want string) *Error {
		msg := fmt.Sprintf("must be %s, got %s", want, describeNode(n))
		if path == "" {
			msg = "the spec " + msg
		}
		return &Error{Field: path, Line: line, Msg: msg}
	}
	switch t.Kind() {
	case reflect.Interface:
		if t == stepType {
			return w.walkStep(n, path, line)
		}
	case reflect.Struct:
		return w.walkStruct(n, t, path, nil, bad)
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			return bad("a list")
		}
		if len(seq.Values) > MaxListLength {
			return &Error{Field: path, Line: line, Msg: fmt.Sprintf("must have at most %d entries, got %d", MaxListLength, len(seq.Values))}
		}
		for i, v := range seq.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			itemLine := line
			if l := nodeLine(v); l > 0 {
				itemLine = l
			}
			w.lines[p] = itemLine
			if e := w.walk(v, t.Elem(), p, itemLine); e != nil {
				return e
			}
		}
	case reflect.Map:
		values, ok := mappingValues(n)
		if !ok {
			return bad("a mapping of names to values")
		}
		for _, mv := range values {
			key, keyLine := keyOf(mv)
			if key == "<<" {
				continue
			}
			p := joinPath(path, key)
			w.lines[p] = keyLine
			if e := w.walk(mv.Value, t.Elem(), p, keyLine); e != nil {
				return e
			}
		}
	default:
		return checkScalar(n, t, bad)
	}
	return nil
}

// walkStruct walks a mapping against struct type t; in a compress entry,
// tech is its technique, to say where a key it does not take belongs.
func (w *walker) walkStruct(n ast.Node, t reflect.Type, path string, tech *technique, bad func(string) *Error) *Error {
	values, ok := mappingValues(n)
	keys := yamlKeys(t)
	if !ok {
		return bad("a mapping of keys (" + strings.Join(keys, ", ") + ")")
	}
	for _, mv := range values {
		key, keyLine := keyOf(mv)
		if key == "<<" {
			continue // a merge key: the decoder checks the merged fields
		}
		p := joinPath(path, key)
		f, ok := fieldByKey(t, key)
		if !ok {
			return &Error{Field: p, Line: keyLine, unnamed: tech == nil || len(owners(key)) == 0,
				Msg: unknownKey(key, path, keys, tech)}
		}
		w.lines[p] = keyLine
		if e := w.walk(mv.Value, f.Type, p, keyLine); e != nil {
			return e
		}
	}
	return nil
}

// walkStep walks a compress entry (or pipeline stage) against the type of
// its technique.
func (w *walker) walkStep(n ast.Node, path string, line int) *Error {
	stage := strings.HasSuffix(strings.TrimRight(path, "0123456789[]"), ".pipeline")
	values, ok := mappingValues(n)
	if !ok {
		return &Error{Field: path, Line: line, Msg: fmt.Sprintf("must be a mapping with a technique key, got %s", describeNode(n))}
	}
	name, nameLine, given := "", line, false
	for _, mv := range values {
		switch key, keyLine := keyOf(mv); key {
		case "technique":
			name, nameLine, given = scalarText(mv.Value), keyLine, true
		case "pipeline":
			if !given {
				name = "pipeline"
			}
		case "<<":
			return nil // merged from an anchor: the decoder checks it
		}
	}
	allowed := allowedTechniques(stage)
	where := ""
	if stage {
		where = " in a pipeline"
	}
	switch t, ok := lookupTechnique(name); {
	case name == "":
		return &Error{Field: path + ".technique", Line: line, Msg: "required field is missing; " + oneOf(allowed) + where}
	case !ok || !slices.Contains(allowed, name):
		return &Error{Field: path + ".technique", Line: nameLine, Msg: fmt.Sprintf("%s%s, got %q", oneOf(allowed), where, name)}
	default:
		return w.walkStruct(n, t.typ, path, &t, func(want string) *Error {
			return &Error{Field: path, Line: line, Msg: "must be " + want}
		})
	}
}

// unknownKey says a key is not one of a section's, and what to do: remove
// it from this step (another technique takes it), or use one of the
// allowed keys, the closest first when it looks like a misspelling.
func unknownKey(key, path string, keys []string, tech *technique) string {
	if tech != nil {
		if who := owners(key); len(who) > 0 {
			msg := "applies only to technique " + orList(who) + "; remove it from this " + tech.name + " step"
			if tech.note != "" {
				msg += " (" + tech.note + ")"
			}
			return msg
		}
	}
	msg := fmt.Sprintf("unknown field %q in %s (allowed: %s)", key, sectionName(path), strings.Join(keys, ", "))
	if s := closest(key, keys); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg
}

// orList writes names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// closest is the key nearest to s by edit distance, if near enough to be
// a misspelling of it (at most a third of its letters wrong).
func closest(s string, keys []string) string {
	best, bestD := "", len(s)/3+1
	for _, k := range keys {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkScalar checks a scalar node against a scalar type.
func checkScalar(n ast.Node, t reflect.Type, bad func(string) *Error) *Error {
	switch t.Kind() {
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok {
			return bad("true or false")
		}
	case reflect.Int, reflect.Int64:
		if _, ok := n.(*ast.IntegerNode); !ok {
			return bad("a whole number")
		}
	case reflect.Uint64:
		in, ok := n.(*ast.IntegerNode)
		if !ok || strings.HasPrefix(strings.TrimSpace(in.GetToken().Value), "-") {
			return bad("a whole number ≥ 0")
		}
	case reflect.Float64:
		switch n.(type) {
		case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		default:
			return bad("a number")
		}
	case reflect.String:
		switch n.(type) {
		case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		default:
			return bad("a text value")
		}
	}
	return nil
}

// scalarText is a scalar node's text ("" for anything else).
func scalarText(n ast.Node) string {
	n = unwrap(n)
	if _, ok := n.(ast.ScalarNode); ok && n.GetToken() != nil {
		return n.GetToken().Value
	}
	return ""
}

// unwrap looks through anchors (&a), tags (!!str) and "? key" forms.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.MappingKeyNode:
			n = v.Value
		default:
			return n
		}
	}
}

func mappingValues(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

func keyOf(mv *ast.MappingValueNode) (key string, line int) {
	k := unwrap(mv.Key)
	if k == nil {
		return "", nodeLine(mv)
	}
	if tk := k.GetToken(); tk != nil {
		if _, scalar := k.(ast.ScalarNode); scalar {
			return tk.Value, tk.Position.Line
		}
		return k.String(), tk.Position.Line
	}
	return k.String(), nodeLine(mv)
}

// nodeLine is the 1-based line a node starts on, 0 when unknown.
func nodeLine(n ast.Node) int {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

func describeNode(n ast.Node) string {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "nothing"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return quote(v.Value)
	default:
		s := n.String()
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return s
	}
}

// yamlKeys lists the YAML keys of a struct type in field order, the keys of
// inlined structs in their place.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if inlined(f) {
			keys = append(keys, yamlKeys(f.Type)...)
		} else if k := yamlKey(f); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if inlined(f) {
			if g, ok := fieldByKey(f.Type, key); ok {
				return g, true
			}
		} else if yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func inlined(f reflect.StructField) bool {
	_, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return opts == "inline" && f.Type.Kind() == reflect.Struct
}

func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" {
		return ""
	}
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sectionName(path string) string {
	if path == "" {
		return "the spec"
	}
	return path
}

// yamlError turns an error of the YAML library into an *Error with the
// line of the token it points at.
func yamlError(source, prefix string, err error) *Error {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return &Error{Source: source, Msg: prefix + err.Error()}
	}
	// Not err.Error(): that prints the source around the token, which for a
	// long line costs seconds.
	e := &Error{Source: source, Msg: prefix + ye.GetMessage()}
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
		e.Line = tk.Position.Line
	}
	return e
}
