package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/kernels"
	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// Options configures Run.
type Options struct {
	// Quick times shorter rounds and a fraction of each training epoch
	// (scaled up to a whole epoch), to finish in well under a minute.
	Quick bool
	// DataDir is the MNIST folder (as --data); empty means search as
	// data.FindMNIST does.
	DataDir string
}

// Result keys besides the per-shape and per-form ones.
const (
	// KeyEpochFraction is the fraction of an epoch the training times
	// were measured on before scaling to a whole epoch (1 = whole epochs).
	KeyEpochFraction = "train_epoch_fraction"
	// KeyQuick is 1 when the results come from a quick run.
	KeyQuick = "quick"
	// KeyThreads is the threads the kernels use (kernels.Threads).
	KeyThreads = "threads"
)

// oneThread returns f run with kernels.SetThreads(1).
func oneThread(f func()) func() {
	return func() {
		prev := kernels.SetThreads(1)
		defer kernels.SetThreads(prev)
		f()
	}
}

// gemmShapes are the products one training step of LeNet-300-100
// runs: m×k times k×n.
var gemmShapes = [][3]int{{64, 784, 300}, {256, 784, 300}, {64, 300, 100}}

// forms are the compressed forms of LeNet-300-100 Run times.
var forms = []string{"dense", "sparse90", "sparse95", "int8", "rank32"}

// Run measures the speed of the numerics on this machine and returns a
// flat map of medians:
//
//   - threads: the threads the kernels use (kernels.Threads, by default
//     GOMAXPROCS);
//   - gemm_gflops_MxKxN, gemm_gflops_1t_MxKxN and gonum_gemm_gflops_MxKxN:
//     kernels.Gemm on those threads and on one, and gonum's blas32.Gemm, on
//     the LeNet-300-100 training shapes, in GFLOP/s (2·m·k·n per product);
//   - train_epoch_s_b64, train_epoch_s_b256 and their _1t twins: seconds
//     per epoch of LeNet-300-100 (784-300-100-10, ReLU, Adam lr 1e-3) on
//     MNIST's 60 000 training images at batch 64 and 256, on those threads
//     and on one, median of 3 runs in alternation (Quick times 5% of an
//     epoch and scales; train_epoch_fraction says which fraction);
//   - infer_us_b1_F, infer_us_b256_F: microseconds per Forward(x, false) of
//     LeNet-300-100 at batch 1 and 256 after PrepareInference, for F in
//     dense, sparse90 and sparse95 (prune.Prune with ScopeGlobal), int8
//     (quant.QuantizeModel at 8 bits) and rank32 (lowrank.FactorizeModel of
//     fc1 at rank 32), on the kernels' threads. The weights are random:
//     speed does not depend on their values;
//   - infer_speedup_b1_F, infer_speedup_b256_F: the dense time over F's;
//   - infer_us_b1_lenet5_F, infer_us_b256_lenet5_F: the same for LeNet-5
//     (conv 20@5×5, pool, conv 50@5×5, pool, dense 500, dense 10), F in
//     dense, sparse90, int8 and filters50 (half of each convolution's
//     filters removed by prune.Structured);
//   - train_epoch_s_lenet5_b64: seconds per LeNet-5 epoch with Adam at
//     batch 64, timed on 5% of an epoch (Quick: 1%) and scaled.
//
// Every timing is a median over rounds; the GEMMs and the inference forms
// are measured interleaved (each round runs every candidate in turn), so
// load from other processes on shared cores slows them alike and the
// speedups compare within one run. Progress lines go to progress (nil:
// none). A cancelled ctx stops it.
func Run(ctx context.Context, opts Options, progress io.Writer) (map[string]float64, error) {
	if progress == nil {
		progress = io.Discard
	}
	r := map[string]float64{KeyQuick: 0}
	if opts.Quick {
		r[KeyQuick] = 1
	}
	// One timing round of each measured call; results are medians over
	// rounds.
	round, rounds := 20*time.Millisecond, 15
	if opts.Quick {
		round, rounds = 5*time.Millisecond, 11
	}
	threads := kernels.Threads()
	r[KeyThreads] = float64(threads)
	fmt.Fprintf(progress, "bench: kernels %s (gemm), %s (sparse), %s (int8), up to %d threads\n", kernels.Impl(), kernels.SparseImpl(), kernels.Int8Impl(), threads)

	rng := rand.New(rand.NewPCG(2024, 11))
	for _, sh := range gemmShapes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, k, n := sh[0], sh[1], sh[2]
		a, b, c := normals(rng, m*k), normals(rng, k*n), make([]float32, m*n)
		flops := 2 * float64(m) * float64(k) * float64(n)
		name := fmt.Sprintf("gemm_gflops_%dx%dx%d", m, k, n)
		A := blas32.General{Rows: m, Cols: k, Stride: k, Data: a}
		B := blas32.General{Rows: k, Cols: n, Stride: n, Data: b}
		C := blas32.General{Rows: m, Cols: n, Stride: n, Data: c}
		t, err := interleaved(ctx, round, rounds, []func(){
			func() { kernels.Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) },
			oneThread(func() { kernels.Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }),
			func() { blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, A, B, 0, C) },
		})
		if err != nil {
			return nil, err
		}
		name1 := fmt.Sprintf("gemm_gflops_1t_%dx%dx%d", m, k, n)
		r[name] = flops / t[0].Seconds() / 1e9
		r[name1] = flops / t[1].Seconds() / 1e9
		r["gonum_"+name] = flops / t[2].Seconds() / 1e9
		fmt.Fprintf(progress, "bench: %s %.1f GFLOP/s on %d threads, %.1f on 1 (gonum %.1f)\n", name, r[name], threads, r[name1], r["gonum_"+name])
	}

	if err := inference(ctx, r, round, rounds, progress); err != nil {
		return nil, err
	}
	if err := convInference(ctx, r, round, rounds, progress); err != nil {
		return nil, err
	}
	if err := training(ctx, r, opts, progress); err != nil {
		return nil, err
	}
	if err := convTraining(ctx, r, opts, progress); err != nil {
		return nil, err
	}
	return r, nil
}

// leNet returns LeNet-300-100 (784-300-100-10, ReLU) with He-normal
// weights from seed.
func leNet(seed uint64) *nn.Sequential {
	rng := rand.New(rand.NewPCG(seed, seed))
	return &nn.Sequential{Layers: []nn.Layer{
		nn.NewDense("fc1", 784, 300, rng), nn.NewReLU("relu1"),
		nn.NewDense("fc2", 300, 100, rng), nn.NewReLU("relu2"),
		nn.NewDense("fc3", 100, 10, rng),
	}}
}

// model returns LeNet-300-100 compressed to form, with its inference
// plan prepared.
func model(form string) (*nn.Sequential, error) {
	m := leNet(7)
	var err error
	switch form {
	case "dense":
	case "sparse90":
		err = prune.Prune(nn.WeightLayers(m), 0.90, prune.Options{Scope: prune.ScopeGlobal})
	case "sparse95":
		err = prune.Prune(nn.WeightLayers(m), 0.95, prune.Options{Scope: prune.ScopeGlobal})
	case "int8":
		_, err = quant.QuantizeModel(m, quant.Options{Bits: 8}, nil)
	case "rank32":
		err = lowrank.FactorizeModel(m, "fc1", 32)
	default:
		err = fmt.Errorf("unknown form %q", form)
	}
	if err != nil {
		return nil, fmt.Errorf("bench model %s: %w", form, err)
	}
	m.PrepareInference()
	return m, nil
}

func inference(ctx context.Context, r map[string]float64, round time.Duration, rounds int, progress io.Writer) error {
	rng := rand.New(rand.NewPCG(5, 5))
	models := make([]*nn.Sequential, len(forms))
	for i, form := range forms {
		m, err := model(form)
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
		for i, form := range forms {
			key := fmt.Sprintf("infer_us_b%d_%s", batch, form)
			r[key] = float64(times[i].Nanoseconds()) / 1e3
			fmt.Fprintf(progress, "bench: %s %.1f µs\n", key, r[key])
		}
	}
	for _, form := range forms[1:] {
		for _, batch := range []int{1, 256} {
			dense := r[fmt.Sprintf("infer_us_b%d_dense", batch)]
			r[fmt.Sprintf("infer_speedup_b%d_%s", batch, form)] = dense / r[fmt.Sprintf("infer_us_b%d_%s", batch, form)]
		}
	}
	return nil
}

// training times epochs of LeNet-300-100 with Adam on MNIST at batch
// 64 and 256, on the kernels' threads and on one: the median of 3 epochs,
// or with Quick of 3 runs over 5% of an epoch each, scaled to the whole
// epoch.
func training(ctx context.Context, r map[string]float64, opts Options, progress io.Writer) error {
	dir, err := data.FindMNIST(opts.DataDir)
	if err != nil {
		return fmt.Errorf("bench training: %w", err)
	}
	train, _, err := data.LoadMNIST(dir, 0, 1)
	if err != nil {
		return fmt.Errorf("bench training: %w", err)
	}
	fraction := 1.0
	if opts.Quick {
		fraction = 0.05
	}
	rows := int(fraction * float64(train.Len()))
	for _, batch := range []int{64, 256} {
		// One model and optimizer per thread setting, trained in
		// alternation: the same work, the same machine noise.
		settings := []int{kernels.Threads(), 1}
		models := make([]*nn.Sequential, len(settings))
		opts := make([]nn.Optimizer, len(settings))
		times := make([][]float64, len(settings))
		rng := rand.New(rand.NewPCG(3, uint64(batch)))
		for i := range settings {
			models[i], opts[i] = leNet(11), nn.NewAdam(1e-3)
			// One warm-up step so buffers exist before the clock starts.
			if _, err := nn.TrainEpoch(ctx, models[i], opts[i], train.X.Slice(0, batch), train.Y[:batch], batch, rng, nil); err != nil {
				return err
			}
		}
		for run := range 3 {
			from := (run * rows) % (train.Len() - rows + 1)
			x, y := train.X.Slice(from, from+rows), train.Y[from:from+rows]
			for i, threads := range settings {
				prev := kernels.SetThreads(threads)
				start := time.Now()
				_, err := nn.TrainEpoch(ctx, models[i], opts[i], x, y, batch, rng, nil)
				kernels.SetThreads(prev)
				if err != nil {
					return err
				}
				times[i] = append(times[i], time.Since(start).Seconds()/fraction)
			}
		}
		for i, threads := range settings {
			key := fmt.Sprintf("train_epoch_s_b%d", batch)
			if i > 0 {
				key = fmt.Sprintf("train_epoch_s_b%d_1t", batch)
			}
			slices.Sort(times[i])
			r[key] = times[i][1]
			fmt.Fprintf(progress, "bench: %s %.2f s on %d threads (median of 3, each timed on %d of %d images)\n", key, r[key], threads, rows, train.Len())
		}
	}
	r[KeyEpochFraction] = fraction
	return nil
}

// interleaved returns, for each call, the median over rounds of its
// time per call. Each round runs every call in turn, as many times as take
// about round, so a burst of load from other processes on the shared cores
// slows all of them alike and ratios between them stay fair.
func interleaved(ctx context.Context, round time.Duration, rounds int, calls []func()) ([]time.Duration, error) {
	reps := make([]int, len(calls))
	for i, f := range calls {
		f() // warm-up: buffers, caches
		n := 1
		for {
			start := time.Now()
			for range n {
				f()
			}
			el := time.Since(start)
			if el >= round/4 {
				reps[i] = max(1, int(float64(n)*float64(round)/float64(el)))
				break
			}
			n *= 4
		}
	}
	times := make([][]time.Duration, len(calls))
	for range rounds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i, f := range calls {
			start := time.Now()
			for range reps[i] {
				f()
			}
			times[i] = append(times[i], time.Since(start)/time.Duration(reps[i]))
		}
	}
	med := make([]time.Duration, len(calls))
	for i, ts := range times {
		slices.Sort(ts)
		med[i] = ts[len(ts)/2]
	}
	return med, nil
}

func normals(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// targets are the speedups the compressed forms should reach over
// dense: sparse (95%) ≥ 5× at batch 1 and ≥ 3× at 256, sparse (90%) ≥ 3×
// and ≥ 2×, int8 ≥ 2× at 256 and no slower at batch 1.
var targets = map[string]float64{
	"infer_speedup_b1_sparse95":   5,
	"infer_speedup_b256_sparse95": 3,
	"infer_speedup_b1_sparse90":   3,
	"infer_speedup_b256_sparse90": 2,
	"infer_speedup_b256_int8":     2,
	"infer_speedup_b1_int8":       1,
}

// WriteTable writes the results of Run as a table: key, value, unit,
// and for the speedups their target and whether it was met. Keys are sorted
// by kind (threads, GEMM, training, inference times, speedups), then by
// name.
func WriteTable(w io.Writer, r map[string]float64) error {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	order := func(k string) int {
		for i, p := range []string{KeyThreads, "gemm_", "gonum_gemm_", "train_", "infer_us_b1_", "infer_us_b256_", "infer_speedup_"} {
			if strings.HasPrefix(k, p) {
				return i
			}
		}
		return 99
	}
	slices.SortFunc(keys, func(a, b string) int {
		if oa, ob := order(a), order(b); oa != ob {
			return oa - ob
		}
		return strings.Compare(a, b)
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "key\tvalue\tunit\ttarget")
	for _, k := range keys {
		v := r[k]
		target := ""
		if t, ok := targets[k]; ok {
			verdict := "met"
			if v < t {
				verdict = "MISSED"
			}
			target = fmt.Sprintf("≥ %g× %s", t, verdict)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k, format(v), unit(k), target)
	}
	return tw.Flush()
}

func unit(key string) string {
	switch {
	case strings.Contains(key, "gflops"):
		return "GFLOP/s"
	case strings.HasPrefix(key, "train_epoch_s"):
		return "s"
	case strings.HasPrefix(key, "infer_us"):
		return "µs"
	case strings.HasPrefix(key, "infer_speedup"):
		return "×"
	}
	return ""
}

func format(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e6:
		return fmt.Sprintf("%d", int64(v))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
