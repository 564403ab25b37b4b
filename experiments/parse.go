package experiments

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// ParseSpec parses and validates a YAML spec; source names the file in
// errors. Every problem is a *SpecError naming the file, the line and the
// field, and saying what is allowed:
//
//	lenet.yaml: line 12: train.lr: must be in (0, 1], got -0.5
//	x.yaml: line 3: unknown field "epoch" in train (allowed: optimizer, lr, ...)
//
// The YAML is read in three passes: goccy's parser (syntax errors carry its
// line), a walk of the syntax tree against the Spec's fields (unknown keys and
// wrong types, with the key's line), then goccy's strict decoder, then
// Validate (range errors get the line of the field they name). The returned
// Spec has its defaults filled in (layer names, prune scope, fine-tuning
// rate, ...).
func ParseSpec(source string, data []byte) (spec Spec, err error) {
	defer func() {
		// The YAML library is third-party code reading user input: a panic
		// in it must reach the user as an error about the file.
		if r := recover(); r != nil {
			spec, err = Spec{}, &SpecError{Source: source, Msg: fmt.Sprintf("cannot read the YAML: %v", r)}
		}
	}()
	file, perr := parser.ParseBytes(data, 0)
	if perr != nil {
		return Spec{}, yamlError(source, "YAML syntax error: ", perr)
	}
	var bodies []ast.Node
	for _, doc := range file.Docs {
		if doc != nil && doc.Body != nil {
			bodies = append(bodies, doc.Body)
		}
	}
	switch {
	case len(bodies) == 0:
		return Spec{}, &SpecError{Source: source, Msg: "the spec is empty: it needs at least name, dataset, model and train"}
	case len(bodies) > 1:
		return Spec{}, &SpecError{Source: source, Line: nodeLine(bodies[1]), Msg: "only one YAML document is allowed per spec, found a second one"}
	}
	body := bodies[0]
	w := &walker{lines: map[string]int{}, rootLine: max(nodeLine(body), 1)}
	if e := w.walk(body, reflect.TypeFor[Spec](), "", w.rootLine); e != nil {
		e.Source = source
		return Spec{}, e
	}
	if err := yaml.NodeToValue(body, &spec, yaml.Strict()); err != nil {
		return Spec{}, yamlError(source, "", err)
	}
	spec.Source = source
	if e := w.checkPresent(spec); e != nil {
		e.Source = source
		return Spec{}, e
	}
	spec = spec.resolved()
	if e := spec.validate(); e != nil {
		e.Source = source
		if _, present := w.lines[e.Field]; !present && e.want != "" && requiredField(e.Field) {
			e.Msg = "required field is missing; " + e.want
		}
		e.Line = w.lineOf(e.Field)
		return Spec{}, e
	}
	return spec, nil
}

// requiredFieldRE matches the fields a spec must give, with list indices
// written as [].
var requiredFieldRE = regexp.MustCompile(`^(name|dataset(\.(name|classes|dim))?|model(\.layers(\[\]\.(type|units|rate))?)?|train(\.(optimizer|lr|epochs|batch))?|compress\[\](\.pipeline\[\])?\.(technique|ratio|bits|rank|clusters|epochs))$`)

var indexRE = regexp.MustCompile(`\[\d+\]`)

func requiredField(path string) bool {
	return requiredFieldRE.MatchString(indexRE.ReplaceAllString(path, "[]"))
}

// walker checks the syntax tree against the Spec's fields and records the
// line of every path present in the file.
type walker struct {
	lines    map[string]int // "train.lr", "compress[1]" → line of its key or list item
	rootLine int
}

// checkPresent reports required fields whose zero value is allowed (so
// Validate cannot tell them from missing ones): a dropout rate, a prune
// ratio (unless something else says how much to prune), a budget's limit.
func (w *walker) checkPresent(s Spec) *SpecError {
	for i, l := range s.Model.Layers {
		p := fmt.Sprintf("model.layers[%d]", i)
		if l.Type == "dropout" {
			if _, ok := w.lines[p+".rate"]; !ok {
				return &SpecError{Field: p + ".rate", Line: w.lineOf(p), Msg: "required field is missing; must be in [0, 1)"}
			}
		}
	}
	return w.checkStepsPresent("compress", s.Compress)
}

// checkStepsPresent is checkPresent for the steps at path (compress, or a
// pipeline's stages).
func (w *walker) checkStepsPresent(path string, steps []StepSpec) *SpecError {
	for i, st := range steps {
		p := fmt.Sprintf("%s[%d]", path, i)
		if len(st.Pipeline) > 0 {
			if e := w.checkStepsPresent(p+".pipeline", st.Pipeline); e != nil {
				return e
			}
		}
		if st.Technique != "prune" {
			continue
		}
		if _, present := w.lines[p+".budget"]; present && !st.Budget.set() {
			return &SpecError{Field: p + ".budget", Line: w.lineOf(p + ".budget"), Msg: "must set max_nonzero or max_bytes"}
		}
		_, hasRatio := w.lines[p+".ratio"]
		if !hasRatio && len(st.Targets) == 0 && st.RoundRatio == 0 && st.RatiosFrom == "" && !st.Budget.set() {
			return &SpecError{Field: p + ".ratio", Line: w.lineOf(p),
				Msg: "required field is missing; must be in [0, 0.99] (or give targets, round_ratio, budget or ratios_from instead)"}
		}
	}
	return nil
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

func (w *walker) walk(n ast.Node, t reflect.Type, path string, line int) *SpecError {
	n = unwrap(n)
	if _, alias := n.(*ast.AliasNode); alias {
		return nil // the decoder resolves aliases and checks what they point to
	}
	if n != nil && nodeLine(n) > 0 {
		line = nodeLine(n)
	}
	bad := func(want string) *SpecError {
		msg := fmt.Sprintf("must be %s, got %s", want, describeNode(n))
		if path == "" {
			msg = "the spec " + msg
		}
		return &SpecError{Field: path, Line: line, Msg: msg}
	}
	switch t.Kind() {
	case reflect.Struct:
		values, ok := mappingValues(n)
		if !ok {
			return bad("a mapping of keys (" + strings.Join(yamlKeys(t), ", ") + ")")
		}
		for _, mv := range values {
			key, keyLine := keyOf(mv)
			if key == "<<" {
				continue // a merge key: the decoder checks the merged fields
			}
			f, ok := fieldByKey(t, key)
			p := joinPath(path, key)
			if !ok {
				return &SpecError{Field: p, Line: keyLine, unnamed: true,
					Msg: fmt.Sprintf("unknown field %q in %s (allowed: %s)", key, sectionName(path), strings.Join(yamlKeys(t), ", "))}
			}
			w.lines[p] = keyLine
			if e := w.walk(mv.Value, f.Type, p, keyLine); e != nil {
				return e
			}
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			return bad("a list")
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

// yamlKeys lists the YAML keys of a struct type, in field order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if k := yamlKey(f); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
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

// yamlError turns an error of the YAML library into a *SpecError with the
// line of the token it points at.
func yamlError(source, prefix string, err error) *SpecError {
	e := &SpecError{Source: source, Msg: prefix + err.Error()}
	var ye yaml.Error
	if errors.As(err, &ye) {
		e.Msg = prefix + ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line = tk.Position.Line
		}
	}
	return e
}
