package bench

import (
	"context"
	"sort"
	"time"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// Latency: the median of up to latencyMaxReps forward passes, stopping once
// latencyBudget is spent.
const (
	latencyBudget  = 200 * time.Millisecond
	latencyMaxReps = 101
)

// Latency returns the median time in microseconds of a forward pass of m
// (Forward(x, false)) over a batch of 1 and a batch of 256 rows of x, the
// rows reused cyclically when x has fewer (zeros when it has none). Each
// median is over at most 101 passes or 200 ms, after one warm-up pass that
// lets the layers allocate their buffers. A cancelled ctx stops it between
// passes with ctx's error.
func Latency(ctx context.Context, m *nn.Sequential, x nn.Matrix) (b1, b256 float64, err error) {
	if b1, err = medianForward(ctx, m, x, 1); err != nil {
		return 0, 0, err
	}
	b256, err = medianForward(ctx, m, x, 256)
	return b1, b256, err
}

func medianForward(ctx context.Context, m *nn.Sequential, x nn.Matrix, batch int) (float64, error) {
	in := nn.NewMatrix(batch, x.Cols)
	if x.Rows > 0 {
		for i := range batch {
			copy(in.Row(i), x.Row(i%x.Rows))
		}
	}
	m.Forward(in, false) // warm-up: the layers allocate their buffers
	var times []float64
	start := time.Now()
	for len(times) < latencyMaxReps {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		t0 := time.Now()
		m.Forward(in, false)
		times = append(times, float64(time.Since(t0).Nanoseconds())/1e3)
		if time.Since(start) >= latencyBudget {
			break
		}
	}
	sort.Float64s(times)
	return times[len(times)/2], nil
}
