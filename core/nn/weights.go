package nn

import (
	"fmt"
	"strings"
)

// Factored is a layer made of Dense factors, such as a low-rank layer
// (core/lowrank.Layer: x·A·B as two Dense layers "fc1.A" and "fc1.B").
// Pruning and quantization reach its factors like any Dense layer.
type Factored interface {
	Layer
	// Factors lists the layer's Dense factors in the order they run.
	Factors() []*Dense
}

// WeightLayers lists every weight matrix of m: its Dense layers, the
// filters of its convolutions (a Dense layer over patches, named as the
// convolution) and the factors of its Factored layers, in model order.
func WeightLayers(m *Sequential) []*Dense {
	var ds []*Dense
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *Dense:
			ds = append(ds, l)
		case *Conv2D:
			ds = append(ds, l.Kernel)
		case Factored:
			ds = append(ds, l.Factors()...)
		}
	}
	return ds
}

// SelectWeightLayers returns the weight layers of m (see WeightLayers)
// named in names, in model order; nil or empty names means all of them. A
// name is a Dense layer, a convolution, a factor ("fc1.A") or a factorized layer ("fc1",
// meaning both of its factors). An unknown name is an error that lists the
// weight layers there are, and so is a layer named twice (also as "fc1" and
// "fc1.A").
func SelectWeightLayers(m *Sequential, names []string) ([]*Dense, error) {
	all := WeightLayers(m)
	if len(all) == 0 {
		return nil, fmt.Errorf("the model has no weight layers (Dense or factorized)")
	}
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string][]*Dense{}
	var known []string
	for _, layer := range m.Layers {
		switch l := layer.(type) {
		case *Dense:
			byName[l.LayerName] = append(byName[l.LayerName], l)
			known = append(known, l.LayerName)
		case *Conv2D:
			byName[l.LayerName] = append(byName[l.LayerName], l.Kernel)
			known = append(known, l.LayerName)
		case Factored:
			for _, f := range l.Factors() {
				byName[l.Name()] = append(byName[l.Name()], f)
				byName[f.LayerName] = append(byName[f.LayerName], f)
				known = append(known, f.LayerName)
			}
		}
	}
	picked := map[*Dense]bool{}
	for _, name := range names {
		ds := byName[name]
		if ds == nil {
			return nil, fmt.Errorf("layer %q is not a weight layer of the model; weight layers are %s", name, strings.Join(known, ", "))
		}
		for _, d := range ds {
			if picked[d] {
				return nil, fmt.Errorf("layer %q is listed twice", d.LayerName)
			}
			picked[d] = true
		}
	}
	var out []*Dense
	for _, d := range all {
		if picked[d] {
			out = append(out, d)
		}
	}
	return out, nil
}
