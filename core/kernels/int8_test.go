package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// useInt8Impl makes Int8.Forward run impl until restore is called.
func useInt8Impl(impl int) (restore func()) {
	prev := int8Active
	int8Active = impl
	return func() { int8Active = prev }
}

func int8Name(impl int) string { return int8Names[impl] }

// TestNewInt8Codes checks codes and scales worked out by hand.
func TestNewInt8Codes(t *testing.T) {
	// W (3×2): column 0 = [1, -0.5, 0.25], column 1 = [0, 0, -4].
	w := []float32{1, 0, -0.5, 0, 0.25, -4}
	cases := []struct {
		bits  int
		codes [3][2]int8
		scale [2]float32
	}{
		// qmax 127: 0.5·127 = 63.5 → 64 (ties away from zero), 0.25·127 = 31.75 → 32.
		{8, [3][2]int8{{127, 0}, {-64, 0}, {32, -127}}, [2]float32{1.0 / 127, 4.0 / 127}},
		// qmax 7: 3.5 → −4, 1.75 → 2.
		{4, [3][2]int8{{7, 0}, {-4, 0}, {2, -7}}, [2]float32{1.0 / 7, 4.0 / 7}},
		// qmax 1: 0.5 → −1 (away from zero), 0.25 → 0.
		{1, [3][2]int8{{1, 0}, {-1, 0}, {0, -1}}, [2]float32{1, 4}},
	}
	for _, c := range cases {
		m, err := NewInt8(w, nil, 3, 2, c.bits)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			for j := 0; j < 2; j++ {
				if got := m.Q(i, j); got != c.codes[i][j] {
					t.Errorf("bits %d: Q(%d,%d) = %d, want %d", c.bits, i, j, got, c.codes[i][j])
				}
			}
		}
		for j := 0; j < 2; j++ {
			if got := m.Scale(j); got != c.scale[j] {
				t.Errorf("bits %d: Scale(%d) = %v, want %v", c.bits, j, got, c.scale[j])
			}
		}
	}
}

// TestNewInt8RecoversGridCodes snaps weights to a per-channel grid the way
// core/quant.Quantize with Options{Bits: bits} does (w = float32(q·max/qmax))
// and checks that NewInt8 gets back exactly q.
func TestNewInt8RecoversGridCodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	const in, out = 37, 5
	for _, bits := range []int{2, 3, 4, 8} {
		qmax := 1<<(bits-1) - 1
		codes := make([]int, in*out)
		w := make([]float32, in*out)
		for j := 0; j < out; j++ {
			maxAbs := 0.1 + rng.Float64()
			step := maxAbs / float64(qmax)
			for i := 0; i < in; i++ {
				q := rng.IntN(2*qmax+1) - qmax
				if i == j {
					q = qmax // each channel reaches its maximum
				}
				codes[i*out+j] = q
				w[i*out+j] = float32(float64(q) * step)
			}
		}
		m, err := NewInt8(w, nil, in, out, bits)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < in; i++ {
			for j := 0; j < out; j++ {
				if got := int(m.Q(i, j)); got != codes[i*out+j] {
					t.Fatalf("bits %d: Q(%d,%d) = %d, want %d", bits, i, j, got, codes[i*out+j])
				}
			}
		}
	}
}

// TestQuantizeRowHandComputed: x = [−1, 0, 0.5, 3] spans 4. With 255 levels
// scale = 4/255, 1/scale = 63.75, zp = rne(63.75) = 64 and the codes are
// rne(x·63.75) + 64 = [0, 64, 96, 255]; with 127 levels 1/scale = 31.75,
// zp = 32 and the codes are [0, 32, 48, 127].
func TestQuantizeRowHandComputed(t *testing.T) {
	x := []float32{-1, 0, 0.5, 3}
	for _, impl := range supportedInt8() {
		codes := make([]uint8, 8)
		for i := range codes {
			codes[i] = 99 // padding must be cleared
		}
		scale, zp := quantizeRow(impl, x, codes)
		want, wantZP, levels := []uint8{0, 64, 96, 255, 0, 0, 0, 0}, int32(64), float32(255)
		if activationLevels(impl) == levelsU7 {
			want, wantZP, levels = []uint8{0, 32, 48, 127, 0, 0, 0, 0}, 32, 127
		}
		if scale != 4/levels || zp != wantZP || string(codes) != string(want) {
			t.Errorf("%s: scale %v zp %d codes %v, want %v %d %v", int8Name(impl), scale, zp, codes, 4/levels, wantZP, want)
		}
	}
}

// TestQuantizeRowImplsAgree checks the vector quantizers against the pure-Go
// one on every length up to 70 (full vectors and every tail) and an all-zero row.
func TestQuantizeRowImplsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for n := 1; n <= 70; n++ {
		x := randSlice(rng, n)
		if n == 70 {
			clear(x)
		}
		for _, impl := range supportedInt8()[1:] {
			levels := activationLevels(impl)
			kp := (n + 3) / 4 * 4
			got, want := make([]uint8, kp), make([]uint8, kp)
			gs, gz := quantizeRow(impl, x, got)
			ws, wz := quantizeRowGo(x, want, levels)
			if gs != ws || gz != wz || string(got) != string(want) {
				t.Fatalf("%s n=%d: scale %v zp %d codes %v, want %v %d %v", int8Name(impl), n, gs, gz, got, ws, wz, want)
			}
		}
	}
}

// gridWeights returns in×out weights that are integers in [−127, 127] with
// every column reaching 127, so NewInt8 at 8 bits has Scale 1 and Q = w.
func gridWeights(rng *rand.Rand, in, out int) []float32 {
	w := make([]float32, in*out)
	for i := range w {
		w[i] = float32(rng.IntN(255) - 127)
	}
	for j := 0; j < out; j++ {
		w[rng.IntN(in)*out+j] = 127
	}
	return w
}

// TestInt8SumsMatchIntegerReference checks the raw int32 sums of every
// implementation against Σ_i a[r][i]·Q[i][j] computed plainly, on odd sizes
// and row counts that cover every tile height and the masked last block.
func TestInt8SumsMatchIntegerReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	for _, sh := range [][2]int{{1, 1}, {7, 33}, {33, 7}, {300, 100}, {784, 300}, {100, 10}, {5, 65}} {
		in, out := sh[0], sh[1]
		w := gridWeights(rng, in, out)
		m, err := NewInt8(w, nil, in, out, 8)
		if err != nil {
			t.Fatal(err)
		}
		kp := 4 * m.kq
		for _, rows := range []int{1, 2, 5, 7, 13} {
			for _, impl := range supportedInt8() {
				levels := activationLevels(impl)
				codes := make([]uint8, rows*kp)
				for r := 0; r < rows; r++ {
					for i := 0; i < in; i++ {
						codes[r*kp+i] = uint8(rng.IntN(int(levels) + 1))
					}
					if r == 0 {
						for i := 0; i < in; i++ {
							codes[i] = uint8(levels) // the largest sums
						}
					}
				}
				got := make([]float32, rows*out)
				int8Product(impl, m, codes, kp, rows, got, make([]float32, rows), make([]int32, rows), true)
				for r := 0; r < rows; r++ {
					for j := 0; j < out; j++ {
						var want int64
						for i := 0; i < in; i++ {
							want += int64(codes[r*kp+i]) * int64(w[i*out+j])
						}
						if g := int64(int32(math.Float32bits(got[r*out+j]))); g != want {
							t.Fatalf("%s %d×%d rows %d: sum[%d][%d] = %d, want %d", int8Name(impl), in, out, rows, r, j, g, want)
						}
					}
				}
			}
		}
	}
}

// TestInt8ForwardMatchesFloat checks Forward against x·Ŵ + b in float64,
// where Ŵ[i][j] = Scale[j]·Q[i][j] are the weights Int8 holds. What remains
// is the activation rounding, at most one step s_r per input (half a step,
// plus half more where the zero point's rounding meets the clamp), so
//
//	|y − x·Ŵ − b| ≤ s_r·Σ_i |Ŵ[i][j]| + float32 rounding.
//
// It also checks that the result is within the weight rounding of the
// original x·W: ½·Scale[j]·Σ_i |x_i| more.
func TestInt8ForwardMatchesFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, sh := range [][2]int{{1, 3}, {7, 33}, {300, 100}, {784, 300}, {100, 10}} {
		in, out := sh[0], sh[1]
		w := randSlice(rng, in*out)
		b := randSlice(rng, out)
		for _, bits := range []int{8, 4} {
			m, err := NewInt8(w, b, in, out, bits)
			if err != nil {
				t.Fatal(err)
			}
			for _, batch := range []int{1, 9} {
				x := randSlice(rng, batch*in)
				for i := range x {
					if rng.IntN(3) == 0 {
						x[i] = 0
					}
				}
				for _, impl := range supportedInt8() {
					y := make([]float32, batch*out)
					restore := useInt8Impl(impl)
					m.Forward(y, x, batch)
					restore()
					levels := float64(activationLevels(impl))
					for r := 0; r < batch; r++ {
						var lo, hi float64
						var sumX float64
						for _, v := range x[r*in : (r+1)*in] {
							lo, hi = min(lo, float64(v)), max(hi, float64(v))
							sumX += math.Abs(float64(v))
						}
						step := (hi - lo) / levels
						for j := 0; j < out; j++ {
							want, wantW := float64(b[j]), float64(b[j])
							var sumW, mag float64
							for i := 0; i < in; i++ {
								wh := float64(m.Scale(j)) * float64(m.Q(i, j))
								want += float64(x[r*in+i]) * wh
								wantW += float64(x[r*in+i]) * float64(w[i*out+j])
								sumW += math.Abs(wh)
								mag += math.Abs(float64(x[r*in+i]) * wh)
							}
							tol := step*sumW*1.0001 + 1e-5*(mag+math.Abs(float64(b[j])))
							got := float64(y[r*out+j])
							label := fmt.Sprintf("%s bits %d %d×%d batch %d: y[%d][%d]", int8Name(impl), bits, in, out, batch, r, j)
							if math.Abs(got-want) > tol {
								t.Fatalf("%s = %v, want %v ± %.3g (activation rounding)", label, got, want, tol)
							}
							tolW := tol + 0.5*float64(m.Scale(j))*sumX*1.0001
							if math.Abs(got-wantW) > tolW {
								t.Fatalf("%s = %v, want %v ± %.3g (with weight rounding)", label, got, wantW, tolW)
							}
						}
					}
				}
			}
		}
	}
}

// TestInt8ImplsBitIdentical: with the same activation codes, every
// implementation's float output equals the pure-Go one bit for bit (the
// epilogue rounds the same steps in the same order).
func TestInt8ImplsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	const in, out, rows = 300, 100, 11
	m, err := NewInt8(randSlice(rng, in*out), randSlice(rng, out), in, out, 8)
	if err != nil {
		t.Fatal(err)
	}
	x := randSlice(rng, rows*in)
	kp := 4 * m.kq
	for _, impl := range supportedInt8()[1:] {
		levels := activationLevels(impl)
		codes := make([]uint8, rows*kp)
		rowScale, rowZero := make([]float32, rows), make([]int32, rows)
		for r := 0; r < rows; r++ {
			rowScale[r], rowZero[r] = quantizeRowGo(x[r*in:(r+1)*in], codes[r*kp:(r+1)*kp], levels)
		}
		got, want := make([]float32, rows*out), make([]float32, rows*out)
		int8Product(impl, m, codes, kp, rows, got, rowScale, rowZero, false)
		int8Product(int8Generic, m, codes, kp, rows, want, rowScale, rowZero, false)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: y[%d] = %v, generic %v", int8Name(impl), i, got[i], want[i])
			}
		}
	}
}

// TestInt8RowIndependent: a row's output is the same bits whether it runs
// alone or inside a batch, and run after run.
func TestInt8RowIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	const in, out, batch = 784, 300, 37
	m, err := NewInt8(randSlice(rng, in*out), randSlice(rng, out), in, out, 8)
	if err != nil {
		t.Fatal(err)
	}
	x := randSlice(rng, batch*in)
	all := make([]float32, batch*out)
	m.Forward(all, x, batch)
	one := make([]float32, out)
	for _, r := range []int{0, 17, batch - 1} {
		m.Forward(one, x[r*in:(r+1)*in], 1)
		for j := range one {
			if math.Float32bits(one[j]) != math.Float32bits(all[r*out+j]) {
				t.Fatalf("row %d: y[%d] = %v alone, %v in the batch", r, j, one[j], all[r*out+j])
			}
		}
	}
}

func TestNewInt8Errors(t *testing.T) {
	cases := []struct {
		name          string
		w, b          []float32
		in, out, bits int
		want          string
	}{
		{"empty", nil, nil, 2, 0, 8, "at least 1"},
		{"bits0", make([]float32, 4), nil, 2, 2, 0, "allowed 1–8"},
		{"bits9", make([]float32, 4), nil, 2, 2, 9, "allowed 1–8"},
		{"short", make([]float32, 3), nil, 2, 2, 8, "got 3 values, want 4"},
		{"bias", make([]float32, 4), make([]float32, 3), 2, 2, 8, "got 3 biases, want 2"},
		{"wide", nil, nil, MaxInt8Inputs + 1, 1, 8, "int32"},
	}
	for _, c := range cases {
		_, err := NewInt8(c.w, c.b, c.in, c.out, c.bits)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
