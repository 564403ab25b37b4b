package spec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Sweep is a spec's sweep block: the points it expands to, each a whole
// spec, checked when the file is parsed.
//
//	sweep:
//	  grid:                            # every combination, the first axis slowest ...
//	    compress[0].ratio: [0.5, 0.8, 0.9]
//	    compress[1].bits: [2, 4]
//	  random:                          # ... or n points drawn at random
//	    n: 20
//	    seed: 7
//	    axes:
//	      train.lr: {log_uniform: [1e-4, 1e-2]}
//	      compress[0].ratio: {uniform: [0.5, 0.95]}
//	      train.batch: {int_uniform: [32, 128]}
//	      compress[0].scope: {choice: [layer, global]}
//	  repeats: 3                       # each point with seeds seed, seed+1, seed+2
type Sweep struct {
	Kind    string // "grid", "random", or "" (repeats of the spec alone)
	Axes    []Axis // in the file's order
	N       int    // random: how many points are drawn
	Seed    uint64 // random: the seed of the draws
	Repeats int    // runs per point, seeds Spec.Seed, Spec.Seed+1, ...
	// Points are every run of the sweep, point by point, a point's repeats
	// side by side: Points[i].Index = i / Repeats.
	Points []Point
}

// Axis is one field a sweep varies, named by its path in the spec.
type Axis struct {
	Path   string // "compress[0].ratio", "train.lr", "model.layers[0].units", "seed"
	Dist   string // random: uniform, log_uniform, int_uniform or choice; grid: ""
	Lo, Hi float64
	Values []any // grid: the values in order; choice: the values drawn from
	Line   int   // of the axis's key
	lines  []int // grid: of each value
}

// Point is one run of a sweep: the spec with the point's values set and
// the repeat's seed.
type Point struct {
	Index  int         // the point, from 0 (repeats of a point share it)
	Repeat int         // 0 … Repeats−1; the seed is the point's seed + Repeat
	Values []AxisValue // the point's values, in the order of the axes
	Spec   Spec
}

// AxisValue is the value an axis takes at a point.
type AxisValue struct {
	Path  string
	Value any
}

// Label is the point's settings as the sweep table's point column writes
// them: "compress[0].ratio=0.5 compress[1].bits=2" ("" for a sweep of
// repeats alone).
func (p Point) Label() string { return Label(p.Values) }

// Label writes axis values as "path=value path=value".
func Label(values []AxisValue) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = v.Path + "=" + formatValue(v.Value)
	}
	return strings.Join(parts, " ")
}

// Limits of a sweep.
const (
	// MaxSweepRuns bounds the runs of a sweep (points × repeats): each
	// point is parsed and checked when the file is read (about a
	// millisecond each), and run for seconds to minutes.
	MaxSweepRuns = 10_000
	// MaxRepeats bounds the seeds a point runs with.
	MaxRepeats = 100
)

var (
	distributions = []string{"uniform", "log_uniform", "int_uniform", "choice"}
	axisRE        = regexp.MustCompile(`^[a-z_][a-z0-9_]*(\[\d{1,4}\])*(\.[a-z_][a-z0-9_]*(\[\d{1,4}\])*)*$`)
)

// splitSweep returns the spec's body without its sweep key, and the
// sweep key's mapping value (nil when there is none).
func splitSweep(body ast.Node) (ast.Node, *ast.MappingValueNode) {
	switch m := unwrap(body).(type) {
	case *ast.MappingNode:
		for i, mv := range m.Values {
			if key, _ := keyOf(mv); key == "sweep" {
				rest := *m
				rest.Values = slices.Delete(slices.Clone(m.Values), i, i+1)
				return &rest, mv
			}
		}
	case *ast.MappingValueNode:
		if key, _ := keyOf(m); key == "sweep" {
			return nil, m
		}
	}
	return body, nil
}

// parseSweep reads a spec with a sweep block: the block, then the spec
// without it (an error there about a field an axis sets waits for the
// points), then every point, each parsed as a spec of its own. It returns
// the spec as written (or, when an axis supplies one of its required
// fields, the first point's) with its Sweep.
func parseSweep(source string, body ast.Node, sweepKey *ast.MappingValueNode, anchors map[string]*ast.AnchorNode) (Spec, error) {
	sw, e := readSweep(sweepKey)
	if e != nil {
		e.Source = source
		return Spec{}, e
	}
	base, be := parseSpec(source, body, anchors)
	if be != nil && sw.axisFor(be.Field) == nil {
		return Spec{}, be
	}
	var tree any
	if body != nil {
		if err := yaml.NodeToValue(body, &tree, yaml.UseOrderedMap()); err != nil {
			return Spec{}, yamlError(source, "", err)
		}
	}
	if e := sw.expand(source, tree, sweepKey); e != nil {
		e.Source = source
		return Spec{}, e
	}
	if be != nil {
		base = sw.Points[0].Spec
	}
	base.Sweep = sw
	return base, nil
}

// readSweep reads the sweep block's keys and checks its axes and their
// values, and how many runs they make, before any point is built.
func readSweep(mv *ast.MappingValueNode) (*Sweep, *Error) {
	keyLine := nodeLine(mv)
	values, ok := mappingValues(unwrap(mv.Value))
	if !ok {
		return nil, &Error{Field: "sweep", Line: keyLine, Msg: "must be a mapping of grid, random and repeats, got " + describeNode(unwrap(mv.Value))}
	}
	sw := &Sweep{Repeats: 1}
	repeatsLine := keyLine
	for _, kv := range values {
		key, line := keyOf(kv)
		var e *Error
		switch key {
		case "grid":
			e = sw.readGrid(kv.Value, line)
		case "random":
			e = sw.readRandom(kv.Value, line)
		case "repeats":
			repeatsLine = line
			sw.Repeats, e = wholeNumber(kv.Value, "sweep.repeats", line, 1, MaxRepeats)
		default:
			e = &Error{Field: "sweep." + key, Line: line, unnamed: true,
				Msg: unknownKey(key, "sweep", []string{"grid", "random", "repeats"}, nil)}
		}
		if e != nil {
			return nil, e
		}
	}
	return sw, sw.check(keyLine, repeatsLine)
}

// check refuses a block with both kinds of search, none at all, or more
// runs than MaxSweepRuns.
func (sw *Sweep) check(keyLine, repeatsLine int) *Error {
	if sw.Kind == "" && sw.Repeats == 1 && len(sw.Axes) == 0 {
		return &Error{Field: "sweep", Line: keyLine, Msg: "needs a grid, a random search or repeats (≥ 2)"}
	}
	points := 1
	for _, a := range sw.Axes {
		if sw.Kind == "grid" {
			points *= len(a.Values) // each ≤ MaxListLength: no overflow before the check
			if points > MaxSweepRuns {
				break
			}
		}
	}
	if sw.Kind == "random" {
		points = sw.N
	}
	if runs := points * sw.Repeats; runs > MaxSweepRuns {
		return &Error{Field: "sweep", Line: repeatsLine,
			Msg: fmt.Sprintf("makes %s runs (points × repeats), more than the %d a sweep may have", countText(points, sw.Repeats), MaxSweepRuns)}
	}
	return nil
}

func countText(points, repeats int) string {
	if points > MaxSweepRuns {
		return fmt.Sprintf("more than %d", MaxSweepRuns)
	}
	return strconv.Itoa(points * repeats)
}

// readGrid reads grid: {path: [v, ...], ...}.
func (sw *Sweep) readGrid(n ast.Node, line int) *Error {
	if sw.Kind != "" {
		return &Error{Field: "sweep.grid", Line: line, Msg: "give a grid or a random search, not both"}
	}
	sw.Kind = "grid"
	values, ok := mappingValues(unwrap(n))
	if !ok || len(values) == 0 {
		return &Error{Field: "sweep.grid", Line: line, Msg: "must be a mapping of at least one axis path to its values, e.g. {compress[0].ratio: [0.5, 0.9]}, got " + describeNode(unwrap(n))}
	}
	for _, kv := range values {
		a, e := sw.newAxis(kv)
		if e != nil {
			return e
		}
		seq, ok := unwrap(kv.Value).(*ast.SequenceNode)
		if !ok || len(seq.Values) == 0 {
			return &Error{Field: "sweep.grid." + a.Path, Line: a.Line, Msg: "must be a list of at least one value, got " + describeNode(unwrap(kv.Value))}
		}
		for _, item := range seq.Values {
			v, e := nodeValue(item, "sweep.grid."+a.Path, a.Line)
			if e != nil {
				return e
			}
			if i := slices.IndexFunc(a.Values, func(w any) bool { return formatValue(w) == formatValue(v) }); i >= 0 {
				return &Error{Field: "sweep.grid." + a.Path, Line: max(nodeLine(item), a.Line), Msg: fmt.Sprintf("the value %s is given twice", formatValue(v))}
			}
			a.Values = append(a.Values, v)
			a.lines = append(a.lines, max(nodeLine(item), a.Line))
		}
		sw.Axes = append(sw.Axes, a)
	}
	return nil
}

// newAxis checks an axis's path: its syntax, that no other axis sets it
// or a part of it, that the sweep itself is not swept.
func (sw *Sweep) newAxis(kv *ast.MappingValueNode) (Axis, *Error) {
	path, line := keyOf(kv)
	a := Axis{Path: path, Line: line}
	bad := func(msg string) (Axis, *Error) {
		return a, &Error{Field: "sweep axis " + quote(path), Line: line, Msg: msg}
	}
	if !axisRE.MatchString(path) {
		return bad("must be the path of a field of the spec, its keys joined by dots and list entries numbered from 0: compress[0].ratio, train.lr, model.layers[0].units, seed")
	}
	if first, _, _ := strings.Cut(strings.SplitN(path, "[", 2)[0], "."); first == "sweep" || first == "name" {
		return bad("a sweep cannot vary its own block or the experiment's name")
	}
	for _, b := range sw.Axes {
		if overlaps(path, b.Path) {
			return bad(fmt.Sprintf("overlaps the axis %s (line %d): each field may be set by one axis", b.Path, b.Line))
		}
	}
	return a, nil
}

// overlaps reports whether two axis paths set the same field or one sets
// a part of the other.
func overlaps(a, b string) bool {
	within := func(x, y string) bool {
		return x == y || strings.HasPrefix(x, y+".") || strings.HasPrefix(x, y+"[")
	}
	return within(a, b) || within(b, a)
}

// readRandom reads random: {n, seed, axes: {path: {distribution: ...}}}.
func (sw *Sweep) readRandom(n ast.Node, line int) *Error {
	if sw.Kind != "" {
		return &Error{Field: "sweep.random", Line: line, Msg: "give a grid or a random search, not both"}
	}
	sw.Kind = "random"
	values, ok := mappingValues(unwrap(n))
	if !ok {
		return &Error{Field: "sweep.random", Line: line, Msg: "must be a mapping of n, seed and axes, got " + describeNode(unwrap(n))}
	}
	var axes *ast.MappingValueNode
	for _, kv := range values {
		key, kl := keyOf(kv)
		var e *Error
		switch key {
		case "n":
			sw.N, e = wholeNumber(kv.Value, "sweep.random.n", kl, 1, MaxSweepRuns)
		case "seed":
			var s int
			s, e = wholeNumber(kv.Value, "sweep.random.seed", kl, 0, math.MaxInt)
			sw.Seed = uint64(s)
		case "axes":
			axes = kv
		default:
			e = &Error{Field: "sweep.random." + key, Line: kl, unnamed: true,
				Msg: unknownKey(key, "sweep.random", []string{"n", "seed", "axes"}, nil)}
		}
		if e != nil {
			return e
		}
	}
	switch {
	case sw.N == 0:
		return &Error{Field: "sweep.random.n", Line: line, Msg: "required field is missing; the number of points to draw, in [1, " + strconv.Itoa(MaxSweepRuns) + "]"}
	case axes == nil:
		return &Error{Field: "sweep.random.axes", Line: line, Msg: "required field is missing; a mapping of axis paths to distributions, e.g. {train.lr: {log_uniform: [1e-4, 1e-2]}}"}
	}
	return sw.readRandomAxes(axes)
}

// readRandomAxes reads each axis's distribution.
func (sw *Sweep) readRandomAxes(kv *ast.MappingValueNode) *Error {
	_, line := keyOf(kv)
	values, ok := mappingValues(unwrap(kv.Value))
	if !ok || len(values) == 0 {
		return &Error{Field: "sweep.random.axes", Line: line, Msg: "must be a mapping of at least one axis path to its distribution, e.g. {train.lr: {log_uniform: [1e-4, 1e-2]}}, got " + describeNode(unwrap(kv.Value))}
	}
	for _, av := range values {
		a, e := sw.newAxis(av)
		if e != nil {
			return e
		}
		if e := a.readDistribution(av.Value); e != nil {
			return e
		}
		sw.Axes = append(sw.Axes, a)
	}
	return nil
}

// readDistribution reads {uniform: [lo, hi]}, {log_uniform: [lo, hi]},
// {int_uniform: [lo, hi]} or {choice: [v, ...]}.
func (a *Axis) readDistribution(n ast.Node) *Error {
	field := "sweep.random.axes." + a.Path
	values, ok := mappingValues(unwrap(n))
	if !ok || len(values) != 1 {
		return &Error{Field: field, Line: a.Line, Msg: "must be one distribution: {uniform: [lo, hi]}, {log_uniform: [lo, hi]}, {int_uniform: [lo, hi]} or {choice: [v, ...]}, got " + describeNode(unwrap(n))}
	}
	dist, line := keyOf(values[0])
	if !slices.Contains(distributions, dist) {
		return &Error{Field: field, Line: line, Msg: fmt.Sprintf("%s, got %q", oneOf(distributions), dist)}
	}
	a.Dist = dist
	v, e := nodeValue(values[0].Value, field, line)
	if e != nil {
		return e
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return &Error{Field: field + "." + dist, Line: line, Msg: "must be a list, got " + describeNode(unwrap(values[0].Value))}
	}
	if dist == "choice" {
		a.Values = list
		return nil
	}
	return a.readRange(list, field+"."+dist, line)
}

// readRange reads a distribution's [lo, hi].
func (a *Axis) readRange(list []any, field string, line int) *Error {
	nums := make([]float64, 0, 2)
	for _, v := range list {
		if f, ok := number(v); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			nums = append(nums, f)
		}
	}
	want := "must be [lo, hi], two finite numbers with lo < hi"
	switch a.Dist {
	case "log_uniform":
		want = "must be [lo, hi], two numbers with 0 < lo < hi"
	case "int_uniform":
		want = "must be [lo, hi], two whole numbers with lo ≤ hi"
	}
	bad := &Error{Field: field, Line: line, Msg: fmt.Sprintf("%s, got %s", want, formatValue(list))}
	if len(list) != 2 || len(nums) != 2 {
		return bad
	}
	a.Lo, a.Hi = nums[0], nums[1]
	switch {
	case a.Dist == "int_uniform" && (a.Lo != math.Trunc(a.Lo) || a.Hi != math.Trunc(a.Hi) || a.Lo > a.Hi || math.Abs(a.Lo) > 1<<52 || math.Abs(a.Hi) > 1<<52):
		return bad
	case a.Dist != "int_uniform" && !(a.Lo < a.Hi):
		return bad
	case a.Dist == "log_uniform" && !(a.Lo > 0):
		return bad
	}
	return nil
}

// draw is the axis's value for a random point: uniform and log-uniform
// draws are rounded to 3 significant digits, so a label says exactly what
// ran.
func (a Axis) draw(rng *rand.Rand) any {
	switch a.Dist {
	case "uniform":
		return round3(a.Lo + (a.Hi-a.Lo)*rng.Float64())
	case "log_uniform":
		return round3(math.Exp(math.Log(a.Lo) + (math.Log(a.Hi)-math.Log(a.Lo))*rng.Float64()))
	case "int_uniform":
		return int64(a.Lo) + rng.Int64N(int64(a.Hi-a.Lo)+1)
	}
	return a.Values[rng.IntN(len(a.Values))]
}

func round3(f float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 3, 64), 64)
	return r
}

// number is a YAML scalar's numeric value.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

// wholeNumber reads a scalar node as a whole number in [lo, hi].
func wholeNumber(n ast.Node, field string, line, lo, hi int) (int, *Error) {
	want := fmt.Sprintf("must be a whole number in [%d, %d]", lo, hi)
	in, ok := unwrap(n).(*ast.IntegerNode)
	if !ok {
		return 0, &Error{Field: field, Line: line, Msg: want + ", got " + describeNode(unwrap(n))}
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(in.GetToken().Value, "_", ""), 0, 64)
	if err != nil || v < int64(lo) || v > int64(hi) {
		return 0, &Error{Field: field, Line: line, Msg: want + ", got " + in.GetToken().Value}
	}
	return int(v), nil
}

// yaml12Float is a number in exponent form without a dot (1e-4), which
// YAML 1.2 reads as a number and the YAML library as text.
var yaml12Float = regexp.MustCompile(`^[-+]?[0-9]+[eE][-+]?[0-9]+$`)

// nodeValue decodes a YAML node to a plain value (mappings in order), an
// unquoted 1e-4 as the number it is in YAML 1.2.
func nodeValue(n ast.Node, field string, line int) (any, *Error) {
	if s, ok := unwrap(n).(*ast.StringNode); ok && s.GetToken().Type == token.StringType && yaml12Float.MatchString(s.Value) {
		if f, err := strconv.ParseFloat(s.Value, 64); err == nil {
			return f, nil
		}
	}
	if seq, ok := unwrap(n).(*ast.SequenceNode); ok {
		out := make([]any, 0, len(seq.Values))
		for _, item := range seq.Values {
			v, e := nodeValue(item, field, line)
			if e != nil {
				return nil, e
			}
			out = append(out, v)
		}
		return out, nil
	}
	var v any
	if err := yaml.NodeToValue(n, &v, yaml.UseOrderedMap()); err != nil {
		e := yamlError("", field+": ", err)
		e.Line = max(e.Line, line)
		return nil, e
	}
	return v, nil
}

// formatValue writes a value as a spec would: 0.5, 1e-05, global, or a
// flow mapping or list.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case float64:
		return FormatFloat(x)
	case string:
		return x
	case int64, uint64, int, bool:
		return fmt.Sprint(x)
	}
	b, err := yaml.MarshalWithOptions(v, yaml.Flow(true))
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}
