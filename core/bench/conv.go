package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// convForms are the forms of LeNet-5 the benchmark times: dense, 90% of
// the weights pruned (one threshold across all layers), int8, and half of
// each convolution's filters removed.
var convForms = []string{"dense", "sparse90", "int8", "filters50"}

// leNet5 returns LeNet-5 (Caffe variant: conv 20@5×5 → pool 2 → conv
// 50@5×5 → pool 2 → flatten → dense 500 → relu → dense 10) with He-normal
// weights from seed.
func leNet5(seed uint64) *nn.Sequential {
	rng := rand.New(rand.NewPCG(seed, seed))
	c1 := nn.NewConv2D("conv1", nn.Shape{H: 28, W: 28, C: 1}, 20, 5, 1, 0, nn.He, rng)
	p1 := nn.NewMaxPool2D("pool1", c1.Out, 2, 2)
	c2 := nn.NewConv2D("conv2", p1.Out, 50, 5, 1, 0, nn.He, rng)
	p2 := nn.NewMaxPool2D("pool2", c2.Out, 2, 2)
	return &nn.Sequential{Layers: []nn.Layer{c1, p1, c2, p2, nn.NewFlatten("flatten1", p2.Out),
		nn.NewDense("fc1", p2.Out.Size(), 500, rng), nn.NewReLU("relu1"), nn.NewDense("fc2", 500, 10, rng)}}
}

// convModel returns LeNet-5 compressed to form, its inference plan
// prepared.
func convModel(form string) (*nn.Sequential, error) {
	m := leNet5(7)
	var err error
	switch form {
	case "dense":
	case "sparse90":
		err = prune.Prune(nn.WeightLayers(m), 0.90, prune.Options{Scope: prune.ScopeGlobal})
	case "int8":
		_, err = quant.QuantizeModel(m, quant.Options{Bits: 8}, nil)
	case "filters50":
		_, err = prune.Structured(m, 0.5, prune.L1, []string{"conv1", "conv2"})
	default:
		err = fmt.Errorf("unknown form %q", form)
	}
	if err != nil {
		return nil, fmt.Errorf("bench model lenet5 %s: %w", form, err)
	}
	m.PrepareInference()
	return m, nil
}

// convInference times LeNet-5's forms at batch 1 and 256:
// infer_us_b1_lenet5_F and infer_us_b256_lenet5_F.
func convInference(ctx context.Context, r map[string]float64, round time.Duration, rounds int, progress io.Writer) error {
	rng := rand.New(rand.NewPCG(5, 6))
	models := make([]*nn.Sequential, len(convForms))
	for i, form := range convForms {
		m, err := convModel(form)
		if err != nil {
			return err
		}
		models[i] = m
	}
	for _, batch := range []int{1, 256} {
		x := nn.NewMatrix(batch, 784)
		copy(x.Data, normals(rng, len(x.Data)))
		calls := make([]func(), len(models))
		for i, m := range models {
			calls[i] = func() { m.Forward(x, false) }
		}
		times, err := interleaved(ctx, round, rounds, calls)
		if err != nil {
			return err
		}
		for i, form := range convForms {
			key := fmt.Sprintf("infer_us_b%d_lenet5_%s", batch, form)
			r[key] = float64(times[i].Nanoseconds()) / 1e3
			fmt.Fprintf(progress, "bench: %s %.1f µs\n", key, r[key])
		}
	}
	return nil
}

// convTraining times a LeNet-5 training epoch with Adam at batch 64 on
// MNIST: train_epoch_s_lenet5_b64, the median of 3 runs over a fraction
// of the epoch (5%, or 1% with Quick) scaled to the whole.
func convTraining(ctx context.Context, r map[string]float64, opts Options, progress io.Writer) error {
	dir, err := data.FindMNIST(opts.DataDir)
	if err != nil {
		return fmt.Errorf("bench training: %w", err)
	}
	train, _, err := data.LoadMNIST(dir, 0, 1)
	if err != nil {
		return fmt.Errorf("bench training: %w", err)
	}
	fraction := 0.05
	if opts.Quick {
		fraction = 0.01
	}
	const batch = 64
	rows := int(fraction * float64(train.Len()))
	m := leNet5(11)
	opt := nn.NewAdam(1e-3)
	rng := rand.New(rand.NewPCG(3, batch))
	if _, err := nn.TrainEpoch(ctx, m, opt, train.X.Slice(0, batch), train.Y[:batch], batch, rng, nil); err != nil {
		return err
	}
	var times []float64
	for run := range 3 {
		from := (run * rows) % (train.Len() - rows + 1)
		start := time.Now()
		if _, err := nn.TrainEpoch(ctx, m, opt, train.X.Slice(from, from+rows), train.Y[from:from+rows], batch, rng, nil); err != nil {
			return err
		}
		times = append(times, time.Since(start).Seconds()/fraction)
	}
	slices.Sort(times)
	r["train_epoch_s_lenet5_b64"] = times[1]
	fmt.Fprintf(progress, "bench: train_epoch_s_lenet5_b64 %.2f s (median of 3, each timed on %d of %d images)\n", times[1], rows, train.Len())
	return nil
}
