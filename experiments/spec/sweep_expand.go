package spec

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// streamSweep is the random stream of a random search's draws.
const streamSweep = 0x5eed5

// expand builds every point of the sweep: the spec's tree (tree, the body
// without the sweep block) with the point's values set, written back as
// YAML and parsed as a spec of its own — every check a file gets, each
// error naming the axis, the value and its line. A point's repeats share
// its parsed spec, their seeds counted up from its seed.
func (sw *Sweep) expand(source string, tree any, sweepKey *ast.MappingValueNode) *Error {
	combos := sw.combinations()
	for i, values := range combos {
		s, e := sw.pointSpec(tree, values, i, nodeLine(sweepKey))
		if e != nil {
			return e
		}
		s.Source = source
		for r := range sw.Repeats {
			p := Point{Index: i, Repeat: r, Values: values, Spec: s}
			p.Spec.Seed = s.Seed + uint64(r)
			sw.Points = append(sw.Points, p)
		}
	}
	return nil
}

// combinations lists the points' values: the grid's every combination,
// the first axis slowest, or the random search's draws, or one empty
// point for repeats alone.
func (sw *Sweep) combinations() [][]AxisValue {
	switch sw.Kind {
	case "grid":
		out := [][]AxisValue{nil}
		for _, a := range sw.Axes {
			var next [][]AxisValue
			for _, prefix := range out {
				for _, v := range a.Values {
					next = append(next, append(append([]AxisValue(nil), prefix...), AxisValue{a.Path, v}))
				}
			}
			out = next
		}
		return out
	case "random":
		rng := rand.New(rand.NewPCG(sw.Seed, streamSweep))
		out := make([][]AxisValue, sw.N)
		for i := range out {
			for _, a := range sw.Axes {
				out[i] = append(out[i], AxisValue{a.Path, a.draw(rng)})
			}
		}
		return out
	}
	return [][]AxisValue{nil}
}

// pointSpec parses the spec of point i.
func (sw *Sweep) pointSpec(tree any, values []AxisValue, i, sweepLine int) (Spec, *Error) {
	t := cloneTree(tree)
	for _, v := range values {
		var err error
		if t, err = setPath(t, v.Path, v.Value); err != nil {
			return Spec{}, sw.pointError(values, v.Path, &Error{Msg: err.Error()}, sweepLine)
		}
	}
	text, err := yaml.Marshal(t)
	if err != nil {
		return Spec{}, &Error{Line: sweepLine, Field: "sweep", Msg: fmt.Sprintf("point %d (%s): %v", i+1, Label(values), err)}
	}
	body, anchors, e := parseBody(text)
	if e == nil {
		var s Spec
		if s, e = parseSpec("", body, anchors); e == nil {
			return s, nil
		}
	}
	return Spec{}, sw.pointError(values, e.Field, e, sweepLine)
}

// pointError turns the error of a point's spec into one about the sweep:
// the axis whose field it names (or which sets a part of it), its value
// and that value's line; an error no axis explains (two axes that do not
// fit together, or with the spec) names the whole point.
func (sw *Sweep) pointError(values []AxisValue, field string, e *Error, sweepLine int) *Error {
	inner := e.Msg
	if e.Field != "" && !e.unnamed {
		inner = e.Field + ": " + inner
	}
	a := sw.axisFor(field)
	if a == nil {
		return &Error{Field: "sweep", Line: sweepLine, Msg: fmt.Sprintf("the point %s: %s", Label(values), inner)}
	}
	var v any
	for _, av := range values {
		if av.Path == a.Path {
			v = av.Value
		}
	}
	line := a.Line
	for j, w := range a.Values {
		if a.Dist == "" && formatValue(w) == formatValue(v) {
			line = a.lines[j]
		}
	}
	if e.Field == a.Path {
		inner = e.Msg
	}
	return &Error{Field: "sweep axis " + a.Path, Line: line, Msg: fmt.Sprintf("the value %s: %s", formatValue(v), inner)}
}

// axisFor is the axis that sets field or a part of it, or a field it is
// part of (the longest such path), nil when none does.
func (sw *Sweep) axisFor(field string) *Axis {
	var best *Axis
	for i := range sw.Axes {
		a := &sw.Axes[i]
		if field != "" && overlaps(field, a.Path) && (best == nil || len(a.Path) > len(best.Path)) {
			best = a
		}
	}
	return best
}

// setPath sets the field at path (keys joined by dots, list entries
// [i]) of a decoded YAML tree to v, making the mappings on the way that
// the spec leaves out; list entries must exist.
func setPath(t any, path string, v any) (any, error) {
	if path == "" {
		return v, nil
	}
	head, rest := path, ""
	if i := strings.IndexAny(path[1:], ".["); i >= 0 {
		head, rest = path[:i+1], strings.TrimPrefix(path[i+1:], ".")
	}
	if strings.HasPrefix(head, "[") {
		return setIndex(t, head, rest, v)
	}
	var m yaml.MapSlice
	switch x := t.(type) {
	case nil:
	case yaml.MapSlice:
		m = x
	default:
		return nil, fmt.Errorf("%s is set where the spec has %s, not a mapping", head, formatValue(t))
	}
	for i, item := range m {
		if fmt.Sprint(item.Key) == head {
			nv, err := setPath(item.Value, rest, v)
			if err != nil {
				return nil, err
			}
			m[i].Value = nv
			return m, nil
		}
	}
	nv, err := setPath(nil, rest, v)
	if err != nil {
		return nil, err
	}
	return append(m, yaml.MapItem{Key: head, Value: nv}), nil
}

// setIndex sets entry head ("[i]") of a list, then rest within it.
func setIndex(t any, head, rest string, v any) (any, error) {
	i, _ := strconv.Atoi(strings.Trim(head, "[]"))
	list, ok := t.([]any)
	switch {
	case !ok:
		return nil, errors.New("no list here to take entry " + head + " of")
	case i >= len(list):
		return nil, fmt.Errorf("entry %s does not exist: the list has %d (numbered from 0)", head, len(list))
	}
	nv, err := setPath(list[i], rest, v)
	if err != nil {
		return nil, err
	}
	list[i] = nv
	return list, nil
}

// cloneTree deep-copies a decoded YAML tree, so each point sets its
// values on its own copy.
func cloneTree(t any) any {
	switch x := t.(type) {
	case yaml.MapSlice:
		out := make(yaml.MapSlice, len(x))
		for i, item := range x {
			out[i] = yaml.MapItem{Key: item.Key, Value: cloneTree(item.Value)}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = cloneTree(v)
		}
		return out
	}
	return t
}
