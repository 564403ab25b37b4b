package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// useSparseImpl makes CSR.Forward run impl until restore is called.
func useSparseImpl(impl int) (restore func()) {
	prev := sparseActive
	sparseActive = impl
	return func() { sparseActive = prev }
}

// sparseKernels calls run once for every kernel combination this CPU can
// run m with: each implementation, and with AVX-512 both single-row kernels
// (lookup and gather), with CSR.Forward set up to use it.
func sparseKernels(m *CSR, run func(label string)) {
	for _, impl := range supportedImpls() {
		lookups := []bool{m.rowLookup}
		if impl == implAVX512 {
			lookups = []bool{true, false}
		}
		for _, lookup := range lookups {
			restore := useSparseImpl(impl)
			prev := m.rowLookup
			m.rowLookup = lookup
			label := implNames[impl]
			if impl == implAVX512 {
				label += map[bool]string{true: "/lookup", false: "/gather"}[lookup]
			}
			run(label)
			m.rowLookup = prev
			restore()
		}
	}
}

func TestCSRHandComputed(t *testing.T) {
	// W (3×2) = [1 0; 0 0; -2 3], b = [0.5, -1]
	// x = [1 2 3]: y = [1·1 + 3·(-2) + 0.5, 3·3 - 1] = [-4.5, 8]
	// x = [0 1 -1]: y = [2 + 0.5, -3 - 1] = [2.5, -4]
	w := []float32{1, 0, 0, 0, -2, 3}
	m, err := NewCSR(w, []float32{0.5, -1}, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m.NonZero() != 3 {
		t.Fatalf("NonZero = %d, want 3", m.NonZero())
	}
	samples := [][]float32{{1, 2, 3}, {0, 1, -1}}
	want := [][]float32{{-4.5, 8}, {2.5, -4}}
	sparseKernels(m, func(label string) {
		// Batches below and above sellBatchMax run different kernels.
		for _, rows := range []int{1, 2, sellBatchMax + 2, 17} {
			var x []float32
			for r := 0; r < rows; r++ {
				x = append(x, samples[r%2]...)
			}
			y := make([]float32, rows*2)
			m.Forward(y, x, rows)
			for r := 0; r < rows; r++ {
				for j := 0; j < 2; j++ {
					if got := y[r*2+j]; got != want[r%2][j] {
						t.Fatalf("%s rows=%d: y[%d][%d] = %v, want %v", label, rows, r, j, got, want[r%2][j])
					}
				}
			}
		}
	})
}

// sparseWeights returns in×out weights with about the given fraction zero,
// plus input row emptyIn and output column emptyOut entirely zero.
func sparseWeights(rng *rand.Rand, in, out int, sparsity float64) []float32 {
	w := make([]float32, in*out)
	for i := range w {
		if rng.Float64() >= sparsity {
			w[i] = float32(rng.NormFloat64())
		}
	}
	emptyIn, emptyOut := rng.IntN(in), rng.IntN(out)
	for j := 0; j < out; j++ {
		w[emptyIn*out+j] = 0
	}
	for i := 0; i < in; i++ {
		w[i*out+emptyOut] = 0
	}
	return w
}

// checkAffine compares y with x·W + b computed in float64. The allowed error
// of each output is the standard bound for float32 summation of n terms,
// γ_n·(|b| + Σ|x_i·w_ij|) with γ_n = n·2⁻²⁴/(1 − n·2⁻²⁴), n = terms + 1.
func checkAffine(t *testing.T, label string, y, x, w, b []float32, batch, in, out int) {
	t.Helper()
	for r := 0; r < batch; r++ {
		for j := 0; j < out; j++ {
			want := float64(b[j])
			mag := math.Abs(want)
			n := 1
			for i := 0; i < in; i++ {
				if p := float64(x[r*in+i]) * float64(w[i*out+j]); w[i*out+j] != 0 {
					want += p
					mag += math.Abs(p)
					n++
				}
			}
			u := float64(n) * 0x1p-24
			tol := u / (1 - u) * mag
			if got := float64(y[r*out+j]); math.Abs(got-want) > tol {
				t.Fatalf("%s: y[%d][%d] = %v, want %v ± %.3g", label, r, j, got, want, tol)
			}
		}
	}
}

// TestCSRMatchesDense runs every implementation on odd sizes, sparsities
// from 0.5 to 0.99 with an empty input row and output column, and batches on
// both sides of sellBatchMax and of a 16-row panel, against x·W + b.
func TestCSRMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	shapes := [][2]int{{1, 1}, {7, 1}, {1, 7}, {7, 33}, {33, 7}, {300, 100}, {784, 300}, {100, 10}, {33, 300}}
	batches := []int{1, 2, sellBatchMax, sellBatchMax + 1, 16, 17, 33}
	if testing.Short() {
		batches = []int{1, sellBatchMax + 1, 17}
	}
	for _, sh := range shapes {
		in, out := sh[0], sh[1]
		for _, sparsity := range []float64{0.5, 0.9, 0.99} {
			w := sparseWeights(rng, in, out, sparsity)
			b := randSlice(rng, out)
			m, err := NewCSR(w, b, in, out)
			if err != nil {
				t.Fatal(err)
			}
			for _, batch := range batches {
				if in*out*batch > 784*300*17 {
					continue // keep the float64 reference quick
				}
				x := randSlice(rng, batch*in)
				for i := range x {
					if rng.IntN(2) == 0 {
						x[i] = 0 // ReLU outputs: many exact zeros
					}
				}
				sparseKernels(m, func(kernel string) {
					y := make([]float32, batch*out)
					for i := range y {
						y[i] = float32(math.NaN()) // Forward must write every output
					}
					m.Forward(y, x, batch)
					label := fmt.Sprintf("%s %d×%d sparsity %.2f batch %d", kernel, in, out, sparsity, batch)
					checkAffine(t, label, y, x, w, b, batch, in, out)
				})
			}
		}
	}
}

// TestCSRAllZero checks a matrix with no non-zeros: y = b on every path.
func TestCSRAllZero(t *testing.T) {
	const in, out = 5, 19
	b := make([]float32, out)
	for j := range b {
		b[j] = float32(j) - 3
	}
	m, err := NewCSR(make([]float32, in*out), b, in, out)
	if err != nil {
		t.Fatal(err)
	}
	sparseKernels(m, func(label string) {
		for _, batch := range []int{1, 20} {
			x := make([]float32, batch*in)
			for i := range x {
				x[i] = 1
			}
			y := make([]float32, batch*out)
			m.Forward(y, x, batch)
			for i, v := range y {
				if v != b[i%out] {
					t.Fatalf("%s batch %d: y[%d] = %v, want %v", label, batch, i, v, b[i%out])
				}
			}
		}
	})
}

// TestCSRNilBias checks that a nil bias means zero.
func TestCSRNilBias(t *testing.T) {
	m, err := NewCSR([]float32{2, 0, 0, 3}, nil, 2, 2) // W = diag(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float32, 2)
	m.Forward(y, []float32{5, 7}, 1)
	if y[0] != 10 || y[1] != 21 {
		t.Fatalf("y = %v, want [10 21]", y)
	}
}

// TestCSRDeterministic checks that repeated calls give bit-identical output.
func TestCSRDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const in, out, batch = 300, 100, 37
	m, err := NewCSR(sparseWeights(rng, in, out, 0.9), randSlice(rng, out), in, out)
	if err != nil {
		t.Fatal(err)
	}
	x := randSlice(rng, batch*in)
	y1, y2 := make([]float32, batch*out), make([]float32, batch*out)
	m.Forward(y1, x, batch)
	m.Forward(y2, x, batch)
	for i := range y1 {
		if math.Float32bits(y1[i]) != math.Float32bits(y2[i]) {
			t.Fatalf("y[%d] = %v then %v", i, y1[i], y2[i])
		}
	}
}

func TestNewCSRErrors(t *testing.T) {
	cases := []struct {
		name    string
		w, b    []float32
		in, out int
		want    string
	}{
		{"empty", nil, nil, 0, 3, "at least 1"},
		{"short", make([]float32, 5), nil, 2, 3, "got 5 values, want 6"},
		{"bias", make([]float32, 6), make([]float32, 2), 2, 3, "got 2 biases, want 3"},
		{"wide", nil, nil, MaxSparseInputs + 1, 1, "16-bit"},
	}
	for _, c := range cases {
		_, err := NewCSR(c.w, c.b, c.in, c.out)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestCSRPanicsOnShortSlices(t *testing.T) {
	m, err := NewCSR([]float32{1, 2}, nil, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "batch 2") {
			t.Fatalf("recovered %v, want a panic naming the batch", r)
		}
	}()
	m.Forward(make([]float32, 4), make([]float32, 1), 2)
}

// TestSparseAndInt8Concurrent runs Forward of one CSR and one Int8 from
// several goroutines (they share only read-only data and pooled scratch)
// and checks every result against a serial run.
func TestSparseAndInt8Concurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	const in, out = 300, 100
	w := sparseWeights(rng, in, out, 0.9)
	b := randSlice(rng, out)
	csr, err := NewCSR(w, b, in, out)
	if err != nil {
		t.Fatal(err)
	}
	q, err := NewInt8(w, b, in, out, 8)
	if err != nil {
		t.Fatal(err)
	}
	forwards := []func(y, x []float32, batch int){csr.Forward, q.Forward}
	batches := []int{1, 3, 20, 64}
	xs := make([][]float32, len(batches))
	want := make([][][]float32, len(forwards))
	for f, forward := range forwards {
		want[f] = make([][]float32, len(batches))
		for i, batch := range batches {
			if f == 0 {
				xs[i] = randSlice(rng, batch*in)
			}
			want[f][i] = make([]float32, batch*out)
			forward(want[f][i], xs[i], batch)
		}
	}
	errs := make(chan string, 8)
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for rep := 0; rep < 5; rep++ {
				for f, forward := range forwards {
					for i, batch := range batches {
						y := make([]float32, batch*out)
						forward(y, xs[i], batch)
						for k := range y {
							if math.Float32bits(y[k]) != math.Float32bits(want[f][i][k]) {
								errs <- fmt.Sprintf("goroutine %d form %d batch %d: y[%d] = %v, serial %v", g, f, batch, k, y[k], want[f][i][k])
								return
							}
						}
					}
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
