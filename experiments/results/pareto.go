package results

import (
	"cmp"
	"math"
	"slices"
)

// ParetoPoint is a row on the plane of size against accuracy.
type ParetoPoint struct {
	Label     string  // "prune ratio=0.90 · compress[0].ratio=0.9"
	SizeBytes float64 // the model file's bytes (a mean over seeds for statistics)
	TestAcc   float64 // percent
	// Frontier says no other point is as small and at least as accurate,
	// one of the two strictly: the rows worth taking.
	Frontier bool
}

// Pareto marks the points on the frontier of accuracy against size: a
// point is on it when every smaller point is less accurate. Of points
// alike in both, the first is. Points without a figure (NaN) are never on
// it. The points keep their order.
func Pareto(points []ParetoPoint) []ParetoPoint {
	out := slices.Clone(points)
	order := make([]int, 0, len(out))
	for i, p := range out {
		out[i].Frontier = false
		if !math.IsNaN(p.SizeBytes) && !math.IsNaN(p.TestAcc) {
			order = append(order, i)
		}
	}
	// By size, the more accurate first among equal sizes, then by order.
	slices.SortStableFunc(order, func(a, b int) int {
		pa, pb := out[a], out[b]
		switch {
		case pa.SizeBytes != pb.SizeBytes:
			return cmp.Compare(pa.SizeBytes, pb.SizeBytes)
		default:
			return cmp.Compare(pb.TestAcc, pa.TestAcc)
		}
	})
	best := math.Inf(-1)
	for _, i := range order {
		if out[i].TestAcc > best {
			out[i].Frontier = true
			best = out[i].TestAcc
		}
	}
	return out
}

// ParetoPoints are the report's rows as points: the statistics' means
// when the points ran with several seeds, every run's rows otherwise.
func (r SweepReport) ParetoPoints() []ParetoPoint {
	var out []ParetoPoint
	label := func(technique, setting, point string) string {
		l := technique + " " + setting
		if point != "" {
			l += " · " + point
		}
		return l
	}
	if r.Stats != nil {
		for _, s := range r.Stats {
			size, _ := s.Column("size_bytes")
			acc, _ := s.Column("test_acc")
			out = append(out, ParetoPoint{Label: label(s.Technique, s.Setting, s.Point), SizeBytes: size.Mean, TestAcc: acc.Mean})
		}
		return Pareto(out)
	}
	for _, row := range r.Rows {
		out = append(out, ParetoPoint{Label: label(row.Technique, row.Setting, row.Point), SizeBytes: float64(row.SizeBytes), TestAcc: row.TestAcc})
	}
	return Pareto(out)
}
