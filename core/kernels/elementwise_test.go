package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// withElementwise runs f with the element-wise kernels switched to each
// implementation this CPU supports.
func withElementwise(t *testing.T, f func(t *testing.T, name string)) {
	t.Helper()
	prev := elementwiseActive
	defer func() { elementwiseActive = prev }()
	for _, impl := range supportedImpls() {
		elementwiseActive = impl
		f(t, implNames[impl])
	}
}

// elementwiseLengths covers empty, sub-vector, exact-vector, vector plus a
// tail and the LeNet bias widths.
var elementwiseLengths = []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 300, 1000}

func fill(n int, f func(i int) float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = f(i)
	}
	return s
}

// TestAdamStepHandComputed uses constants exact in float32: from m = v = 0
// with g = 2, β1 = 0.875, β2 = 1 − 2⁻¹⁰: m = 0.125·2 = 0.25,
// v = 2⁻¹⁰·4 = 2⁻⁸, √v = 0.0625, and with step 0.1, eps 0:
// w = 1 − 0.1·0.25/0.0625 = 0.6.
func TestAdamStepHandComputed(t *testing.T) {
	withElementwise(t, func(t *testing.T, impl string) {
		for _, n := range elementwiseLengths {
			w := fill(n, func(int) float32 { return 1 })
			g := fill(n, func(int) float32 { return 2 })
			m, v := make([]float32, n), make([]float32, n)
			AdamStep(w, g, m, v, 0.875, 1-0x1p-10, 0.1, 0)
			for i := range w {
				if m[i] != 0.25 || v[i] != 0x1p-8 || !near(float64(w[i]), 0.6, 2e-7) {
					t.Fatalf("%s n=%d [%d]: m=%v v=%v w=%v, want 0.25, 0.00390625, 0.6", impl, n, i, m[i], v[i], w[i])
				}
			}
		}
	})
}

func near(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// adamInputs returns random w, g, m, v of length n with gradients spread
// over many magnitudes, including zeros, −0, squares that underflow to
// subnormals and squares that overflow to +Inf.
func adamInputs(n int, rng *rand.Rand) (w, g, m, v []float32) {
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-25, 3e19, -2e20, 1e-45}
	w = fill(n, func(int) float32 { return float32(rng.NormFloat64()) })
	g = fill(n, func(i int) float32 {
		if rng.IntN(8) == 0 {
			return special[rng.IntN(len(special))]
		}
		return float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-6)))
	})
	// Moments near the floor (1.2e-35 at step 1e-3) and below 2⁻¹²⁶.
	tinyM := []float32{1.2e-35, -1.4e-35, 1e-36, 1.2e-38, 1e-40, -1e-44, float32(math.Copysign(0, -1))}
	m = fill(n, func(int) float32 {
		if rng.IntN(8) == 0 {
			return tinyM[rng.IntN(len(tinyM))]
		}
		return float32(rng.NormFloat64() * 1e-3)
	})
	v = fill(n, func(int) float32 { return float32(rng.ExpFloat64() * 1e-6) })
	return w, g, m, v
}

// TestAdamStepAgainstFloat64 checks the update against the same formula in
// float64. m and v take two rounded products and a rounded sum, so each is
// within 2 ulps of the sum of its terms' magnitudes (m's terms may cancel),
// plus a few subnormal steps; given the m and v it returns, w is within 4
// ulps of |w| + |Δw| (a product, a square root, a sum, a quotient and the
// difference).
func TestAdamStepAgainstFloat64(t *testing.T) {
	const b1, b2, step, eps = float32(0.9), float32(0.999), float32(1e-3), float32(1e-8)
	const ulp, subnormal = 0x1p-23, 4e-45
	withElementwise(t, func(t *testing.T, impl string) {
		rng := rand.New(rand.NewPCG(7, 1))
		for _, n := range elementwiseLengths {
			w, g, m, v := adamInputs(n, rng)
			w0, m0, v0 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
			AdamStep(w, g, m, v, b1, b2, step, eps)
			for i := range w {
				gi := float64(g[i])
				c1, c2 := float64(1-b1), float64(1-b2)
				mTerms := [2]float64{float64(b1) * float64(m0[i]), c1 * gi}
				vTerms := [2]float64{float64(b2) * float64(v0[i]), c2 * gi * gi}
				wantM, wantV := mTerms[0]+mTerms[1], vTerms[0]+vTerms[1]
				dw := float64(step) * float64(m[i]) / (math.Sqrt(float64(v[i])) + float64(eps))
				wantW := float64(w0[i]) - dw
				floor := float64(MomentFloor(b1, step))
				if math.Abs(wantM) < floor*(1-1e-6) && m[i] != 0 {
					t.Fatalf("%s n=%d [%d]: m = %v, want %v below the floor %v set to 0", impl, n, i, m[i], wantM, floor)
				}
				if math.Abs(float64(m[i])-wantM) > 2*ulp*(math.Abs(mTerms[0])+math.Abs(mTerms[1]))+floor ||
					math.Abs(float64(v[i])-wantV) > 2*ulp*wantV+subnormal ||
					math.Abs(float64(w[i])-wantW) > 4*ulp*(math.Abs(float64(w0[i]))+math.Abs(dw)) {
					t.Fatalf("%s n=%d [%d]: g=%v: got m=%v v=%v w=%v, want %v %v %v", impl, n, i, g[i], m[i], v[i], w[i], wantM, wantV, wantW)
				}
			}
		}
	})
}

// TestMomentFloor: 2⁻¹²⁶ ≈ 1.1755e-38 divided by the smaller of β1 and
// step (ignoring zeros, at most 1), rounded up.
func TestMomentFloor(t *testing.T) {
	for _, c := range []struct{ b1, step, want float32 }{
		{0.9, 1e-3, 1.1754944e-35},
		{0.9, 1, 1.3061049e-38},
		{0, 2, 0x1p-126},
		{0.5, 0, 0x1p-125},
		{0.9, -1e-2, 1.1754944e-36},
	} {
		got := MomentFloor(c.b1, c.step)
		if !near(float64(got), float64(c.want), 1e-6) {
			t.Errorf("MomentFloor(%v, %v) = %v, want %v", c.b1, c.step, got, c.want)
		}
		lo := float64(min(c.b1, max(c.step, -c.step), 1))
		if c.b1 == 0 {
			lo = float64(min(max(c.step, -c.step), 1))
		}
		if c.step == 0 {
			lo = float64(min(c.b1, 1))
		}
		if float64(got)*lo < 0x1p-126 {
			t.Errorf("MomentFloor(%v, %v) = %v: %v times it is below 2⁻¹²⁶", c.b1, c.step, got, lo)
		}
	}
}

// TestAdamStepMomentFloor: with g = 0, m = β1·m; below the floor (1.1755e-35
// for β1 = 0.9, step = 1e-3) m becomes a zero of its sign, above it and
// NaN it stays. With v = 1 and eps = 0 the step is 1e-3·m.
func TestAdamStepMomentFloor(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	nan := float32(math.NaN())
	cases := []struct{ m, g, want float32 }{
		{2e-35, 0, 0.9 * 2e-35},     // 1.8e-35: kept
		{1.25e-35, 0, 0},            // 1.125e-35: below
		{-1.25e-35, 0, negZero},     // keeps the sign
		{1e-40, 0, 0},               // subnormal in
		{negZero, 0, 0},             // −0 + 0 = +0, as IEEE adds
		{negZero, negZero, negZero}, // −0 + −0 = −0
		{0, 1e-33, 0.1 * 1e-33},     // (1−β1)·g = 1e-34: kept
		{0, 1e-35, 0},               // (1−β1)·g = 1e-36: below
		{0, nan, nan},               // NaN stays
		{2, 0, 1.8},                 // ordinary
		{-1.25e-35, 1e-30, 0.1*1e-30 - 0.9*1.25e-35}, // the sum is above
	}
	withElementwise(t, func(t *testing.T, impl string) {
		for _, n := range []int{1, 16, 17, 40} {
			w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for _, c := range cases {
				for i := range m {
					w[i], g[i], m[i], v[i] = 1, c.g, c.m, 1
				}
				AdamStep(w, g, m, v, 0.9, 0.5, 1e-3, 0)
				for i := range m {
					same := math.Float32bits(m[i]) == math.Float32bits(c.want) || (c.want != c.want && m[i] != m[i])
					if !same && !(c.want != 0 && near(float64(m[i]), float64(c.want), 1e-6)) {
						t.Fatalf("%s n=%d: m=%v g=%v: m = %v (%#08x), want %v", impl, n, c.m, c.g, m[i], math.Float32bits(m[i]), c.want)
					}
				}
			}
		}
	})
}

// The references below spell out each kernel's float32 arithmetic one
// operation at a time in float64, rounding every result to float32 (r32).
// That gives exactly the float32 result: a float64 sum, difference,
// product, quotient or square root of float32 operands, rounded once more to
// float32, is the correctly rounded float32 result (53 ≥ 2·24 + 2 bits, so
// the double rounding is harmless). So every implementation, the pure-Go one
// too, is checked bit for bit against code that shares none of its loops.

func r32(x float64) float32 { return float32(x) }

// adamRef is AdamStep: m = β1·m + (1−β1)·g, set to a zero of its sign below
// MomentFloor; v = β2·v + ((1−β2)·g)·g; w = w − (step·m)/(√v + eps).
func adamRef(w, g, m, v []float32, b1, b2, step, eps float32) {
	floor := float64(MomentFloor(b1, step))
	c1, c2 := float64(r32(1-float64(b1))), float64(r32(1-float64(b2)))
	for i := range w {
		gi := float64(g[i])
		mi := r32(float64(r32(float64(b1)*float64(m[i]))) + float64(r32(c1*gi)))
		if math.Abs(float64(mi)) < floor {
			mi = r32(math.Copysign(0, float64(mi)))
		}
		vi := r32(float64(r32(float64(b2)*float64(v[i]))) + float64(r32(float64(r32(c2*gi))*gi)))
		m[i], v[i] = mi, vi
		den := r32(float64(r32(math.Sqrt(float64(vi)))) + float64(eps))
		w[i] = r32(float64(w[i]) - float64(r32(float64(r32(float64(step)*float64(mi)))/float64(den))))
	}
}

// momentumRef is MomentumStep: vel = μ·vel + g; w = w − lr·vel.
func momentumRef(w, g, vel []float32, mu, lr float32) {
	for i := range w {
		vel[i] = r32(float64(r32(float64(mu)*float64(vel[i]))) + float64(g[i]))
		w[i] = r32(float64(w[i]) - float64(r32(float64(lr)*float64(vel[i]))))
	}
}

// addRowsRef is AddRows: the rows of src added into dst one after another.
func addRowsRef(dst, src []float32, rows, ld int) {
	for r := 0; r < rows; r++ {
		for j := range dst {
			dst[j] = r32(float64(dst[j]) + float64(src[r*ld+j]))
		}
	}
}

// TestAdamStepBitIdentical: every implementation gives exactly the bits of
// the reference, so a run does not depend on the instruction set.
func TestAdamStepBitIdentical(t *testing.T) {
	const b1, b2, step, eps = 0.9, 0.999, 3e-3, 1e-8
	rng := rand.New(rand.NewPCG(7, 2))
	for _, n := range elementwiseLengths {
		w, g, m, v := adamInputs(n, rng)
		wantW, wantM, wantV := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		adamRef(wantW, g, wantM, wantV, b1, b2, step, eps)
		withElementwise(t, func(t *testing.T, impl string) {
			gotW, gotM, gotV := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
			AdamStep(gotW, g, gotM, gotV, b1, b2, step, eps)
			sameBits(t, impl+" w", n, gotW, wantW)
			sameBits(t, impl+" m", n, gotM, wantM)
			sameBits(t, impl+" v", n, gotV, wantV)
		})
	}
}

func sameBits(t *testing.T, what string, n int, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s n=%d [%d]: got %v (%#08x), want %v (%#08x)", what, n, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestMomentumStepHandComputed: vel = 0.5·1 + 2 = 2.5; w = 1 − 0.1·2.5 = 0.75.
func TestMomentumStepHandComputed(t *testing.T) {
	withElementwise(t, func(t *testing.T, impl string) {
		for _, n := range elementwiseLengths {
			w := fill(n, func(int) float32 { return 1 })
			g := fill(n, func(int) float32 { return 2 })
			vel := fill(n, func(int) float32 { return 1 })
			MomentumStep(w, g, vel, 0.5, 0.1)
			for i := range w {
				if vel[i] != 2.5 || w[i] != 0.75 {
					t.Fatalf("%s n=%d [%d]: vel=%v w=%v, want 2.5 and 0.75", impl, n, i, vel[i], w[i])
				}
			}
		}
	})
}

func TestMomentumStepBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 3))
	for _, n := range elementwiseLengths {
		w, g, vel, _ := adamInputs(n, rng)
		wantW, wantVel := append([]float32(nil), w...), append([]float32(nil), vel...)
		momentumRef(wantW, g, wantVel, 0.9, 0.01)
		withElementwise(t, func(t *testing.T, impl string) {
			gotW, gotVel := append([]float32(nil), w...), append([]float32(nil), vel...)
			MomentumStep(gotW, g, gotVel, 0.9, 0.01)
			sameBits(t, impl+" w", n, gotW, wantW)
			sameBits(t, impl+" vel", n, gotVel, wantVel)
		})
	}
}

// reluSpecials are inputs whose ReLU is easy to get wrong: signed zeros,
// infinities, NaNs and subnormals.
var reluSpecials = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), math.Float32frombits(0xffc00000), // +NaN, −NaN
	1e-45, -1e-45, math.SmallestNonzeroFloat32 * 3, math.MaxFloat32, -math.MaxFloat32,
}

func reluInputs(n int, rng *rand.Rand) []float32 {
	return fill(n, func(int) float32 {
		if rng.IntN(4) == 0 {
			return reluSpecials[rng.IntN(len(reluSpecials))]
		}
		return float32(rng.NormFloat64())
	})
}

// TestReLU checks y against the definition: x when x > 0 or x is NaN, +0
// otherwise (so −0 becomes +0).
func TestReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 4))
	withElementwise(t, func(t *testing.T, impl string) {
		for _, n := range append(elementwiseLengths, len(reluSpecials)) {
			x := reluInputs(n, rng)
			if n == len(reluSpecials) {
				copy(x, reluSpecials)
			}
			y := fill(n, func(int) float32 { return -7 })
			ReLU(y, x)
			for i, v := range x {
				switch {
				case v != v:
					if y[i] == y[i] {
						t.Fatalf("%s n=%d: ReLU(NaN) = %v, want NaN", impl, n, y[i])
					}
				case v > 0:
					if math.Float32bits(y[i]) != math.Float32bits(v) {
						t.Fatalf("%s n=%d: ReLU(%v) = %v, want %v", impl, n, v, y[i], v)
					}
				default:
					if math.Float32bits(y[i]) != 0 {
						t.Fatalf("%s n=%d: ReLU(%v) = %v (%#08x), want +0", impl, n, v, y[i], math.Float32bits(y[i]))
					}
				}
			}
		}
	})
}

// TestReLUBackward checks dx against the definition: dy (its exact bits,
// −0 and NaN included) where y > 0, +0 where y is +0, negative or NaN.
func TestReLUBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 5))
	withElementwise(t, func(t *testing.T, impl string) {
		for _, n := range append(elementwiseLengths, len(reluSpecials)) {
			y := reluInputs(n, rng)
			if n == len(reluSpecials) {
				copy(y, reluSpecials)
			}
			dy := reluInputs(n, rng)
			dx := fill(n, func(int) float32 { return -7 })
			ReLUBackward(dx, dy, y)
			for i := range y {
				want := uint32(0)
				if y[i] > 0 {
					want = math.Float32bits(dy[i])
				}
				if got := math.Float32bits(dx[i]); got != want {
					t.Fatalf("%s n=%d: y=%v dy=%v: dx = %v (%#08x), want %#08x", impl, n, y[i], dy[i], dx[i], got, want)
				}
			}
		}
	})
}

// TestAddRowsHandComputed: rows 1, 2, 3, … k added to dst = 0.5 give
// 0.5 + k(k+1)/2 in every column (exact in float32), for a row stride
// longer than the width.
func TestAddRowsHandComputed(t *testing.T) {
	withElementwise(t, func(t *testing.T, impl string) {
		for _, n := range elementwiseLengths {
			for _, rows := range []int{0, 1, 5, 64} {
				ld := n + 3
				src := make([]float32, max(0, (rows-1)*ld+n))
				for r := 0; r < rows; r++ {
					for j := 0; j < n; j++ {
						src[r*ld+j] = float32(r + 1)
					}
					for j := n; j < ld && r*ld+j < len(src); j++ {
						src[r*ld+j] = 1e9 // past the width: must not be added
					}
				}
				dst := fill(n, func(int) float32 { return 0.5 })
				AddRows(dst, src, rows, ld)
				want := 0.5 + float32(rows*(rows+1)/2)
				for j, v := range dst {
					if v != want {
						t.Fatalf("%s n=%d rows=%d: dst[%d] = %v, want %v", impl, n, rows, j, v, want)
					}
				}
			}
		}
	})
}

// TestAddRowsBitIdentical: the order of the adds (row by row) is kept, so
// every implementation gives the bits of the reference on values whose sums
// round.
func TestAddRowsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 6))
	for _, n := range elementwiseLengths {
		const rows = 37
		src := reluInputs(rows*n, rng)
		for i, v := range src {
			if v != v || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 1e30 {
				src[i] = 1
			}
		}
		dst := fill(n, func(int) float32 { return float32(rng.NormFloat64()) })
		want := append([]float32(nil), dst...)
		addRowsRef(want, src, rows, n)
		withElementwise(t, func(t *testing.T, impl string) {
			got := append([]float32(nil), dst...)
			AddRows(got, src, rows, n)
			sameBits(t, impl+" AddRows", n, got, want)
		})
	}
}

func TestElementwiseLengthMismatchPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"AdamStep": func() {
			AdamStep(make([]float32, 3), make([]float32, 3), make([]float32, 2), make([]float32, 3), 0.9, 0.999, 1, 0)
		},
		"MomentumStep":  func() { MomentumStep(make([]float32, 3), make([]float32, 4), make([]float32, 3), 0.9, 1) },
		"ReLU":          func() { ReLU(make([]float32, 3), make([]float32, 2)) },
		"ReLUBackward":  func() { ReLUBackward(make([]float32, 3), make([]float32, 3), make([]float32, 5)) },
		"AddRows short": func() { AddRows(make([]float32, 3), make([]float32, 8), 3, 3) },
		"AddRows ld":    func() { AddRows(make([]float32, 3), make([]float32, 8), 2, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with mismatched lengths did not panic", name)
				}
			}()
			f()
		}()
	}
}
