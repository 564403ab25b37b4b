package experiments

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// TestMeasureSpatialVsChannel measures the two ways to factorize a
// convolution of a trained LeNet-5 — the channel split the lowrank step
// and the rank knob use (a K×K convolution to r channels, then a 1×1) and
// the spatial one (a K×1 convolution to r channels, then a 1×K) — by the
// test accuracy each keeps at each rank, before any fine-tuning, with
// their weights and multiply-adds. It needs a trained model file:
//
//	pruner-tui run lenet5 --save /tmp/l5        # the dense row's file: /tmp/l5/lenet5-00-dense.prtm
//	PRUNER_TUI_LENET5=/tmp/l5/lenet5-00-dense.prtm go test -run MeasureSpatialVsChannel -v ./experiments/
func TestMeasureSpatialVsChannel(t *testing.T) {
	path := os.Getenv("PRUNER_TUI_LENET5")
	if path == "" {
		t.Skip("set PRUNER_TUI_LENET5 to a trained lenet5 model file (see the test's doc)")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	base, err := modelfile.Read(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Load("lenet5")
	if err != nil {
		t.Fatal(err)
	}
	_, test, err := loadData(sp, Options{})
	if err != nil {
		t.Skip("MNIST:", err)
	}
	score := func(m *nn.Sequential) float64 {
		_, acc, err := evaluate(context.Background(), m, test, 0)
		if err != nil {
			t.Fatal(err)
		}
		return 100 * acc
	}
	dense := score(base)
	t.Logf("dense %.2f%%", dense)
	for _, layer := range []string{"conv1", "conv2"} {
		c := convNamed(base, layer)
		t.Logf("%s: %d weights, %d multiply-adds (%d→%d, %d×%d on %d×%d)", layer, c.Kernel.In*c.Kernel.Out,
			c.K*c.K*c.In.C*c.Kernel.Out*c.Out.H*c.Out.W, c.In.C, c.Kernel.Out, c.K, c.K, c.In.H, c.In.W)
		t.Logf("%-8s %5s %8s %12s %8s %7s", "split", "rank", "weights", "mult-adds", "test%", "Δ pp")
		for _, r := range []int{1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64} {
			if full := c.Kernel.In * c.Kernel.Out; r*(c.Kernel.In+c.Kernel.Out) < full {
				m := base.Clone()
				if err := lowrank.FactorizeModelWith(m, layer, r, lowrank.Options{}); err != nil {
					t.Fatal(err)
				}
				st := layerStats(m, layer)
				acc := score(m)
				t.Logf("%-8s %5d %8d %12d %8.2f %+7.2f", "channel", r, st.Weights, st.FLOPs, acc, acc-dense)
			}
			if r <= min(c.In.C*c.K, c.K*c.Kernel.Out) && r*c.K*(c.In.C+c.Kernel.Out) < c.Kernel.In*c.Kernel.Out {
				m := base.Clone()
				s, err := lowrank.SpatialFactorize(convNamed(m, layer), r)
				if err != nil {
					t.Fatal(err)
				}
				copy(convNamed(m, layer).Kernel.W.Value.Data, s.Weights)
				acc := score(m)
				t.Logf("%-8s %5d %8d %12d %8.2f %+7.2f", "spatial", r, s.Params(), s.MultiplyAdds(c.In.H, c.In.W), acc, acc-dense)
			}
		}
	}
}

func convNamed(m *nn.Sequential, name string) *nn.Conv2D {
	for _, l := range m.Layers {
		if c, ok := l.(*nn.Conv2D); ok && c.Name() == name {
			return c
		}
	}
	panic(fmt.Sprintf("no convolution %s", name))
}

func layerStats(m *nn.Sequential, name string) nn.LayerStats {
	for _, st := range m.Stats() {
		if st.Name == name {
			return st
		}
	}
	panic(fmt.Sprintf("no layer %s", name))
}
