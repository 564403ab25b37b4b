package data

import (
	"math"
	"slices"
	"testing"
)

func classCounts(s *Set) []int {
	counts := make([]int, s.Classes)
	for _, y := range s.Y {
		counts[y]++
	}
	return counts
}

func checkShapeAndBalance(t *testing.T, s *Set, n, dim, classes int) {
	t.Helper()
	if s.Len() != n || s.X.Rows != n || s.X.Cols != dim || len(s.X.Data) != n*dim || s.Classes != classes {
		t.Fatalf("%s: %d labels, X %v (%d values), %d classes; want %d, %d×%d, %d",
			s.Name, s.Len(), s.X, len(s.X.Data), s.Classes, n, n, dim, classes)
	}
	counts := classCounts(s)
	if lo, hi := slices.Min(counts), slices.Max(counts); hi-lo > 1 {
		t.Errorf("%s: class counts %v, want balanced to within 1", s.Name, counts)
	}
	for i, v := range s.X.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("%s: X value %d is %v", s.Name, i, v)
		}
	}
}

func TestBlobsShapesAndBalance(t *testing.T) {
	train, test := Blobs(1001, 3, 5, 1)
	checkShapeAndBalance(t, train, 1001, 5, 3)
	checkShapeAndBalance(t, test, 250, 5, 3)
}

// Each class's points should average to one centre with unit variance per
// coordinate, and the test set should share the training centres.
func TestBlobsClusterStatistics(t *testing.T) {
	const n, classes, dim = 8000, 4, 3
	train, test := Blobs(n, classes, dim, 42)
	mean := func(s *Set) (m [][]float64, variance []float64) {
		m = make([][]float64, classes)
		for c := range m {
			m[c] = make([]float64, dim)
		}
		counts := classCounts(s)
		for i, y := range s.Y {
			for j, v := range s.X.Row(i) {
				m[y][j] += float64(v) / float64(counts[y])
			}
		}
		variance = make([]float64, classes)
		for i, y := range s.Y {
			for j, v := range s.X.Row(i) {
				d := float64(v) - m[y][j]
				variance[y] += d * d / float64(counts[y]*dim)
			}
		}
		return m, variance
	}
	trainMean, trainVar := mean(train)
	testMean, _ := mean(test)
	for c := range classes {
		if math.Abs(trainVar[c]-1) > 0.1 {
			t.Errorf("class %d: per-coordinate variance %.3f, want 1 ± 0.1", c, trainVar[c])
		}
		for j := range dim {
			if trainMean[c][j] < -4.2 || trainMean[c][j] > 4.2 {
				t.Errorf("class %d centre coordinate %.2f outside [-4,4]", c, trainMean[c][j])
			}
			// Test means average n/4/classes = 500 unit-variance points: std ≈ 0.045.
			if d := math.Abs(trainMean[c][j] - testMean[c][j]); d > 0.25 {
				t.Errorf("class %d coordinate %d: train mean %.3f, test mean %.3f; want the same centre", c, j, trainMean[c][j], testMean[c][j])
			}
		}
	}
}

func TestSpiralsShapesAndBalance(t *testing.T) {
	train, test := Spirals(600, 3, 0.1, 7)
	checkShapeAndBalance(t, train, 600, 2, 3)
	checkShapeAndBalance(t, test, 150, 2, 3)
}

// Without noise, each point lies on its arm: at radius r = |(x,y)| the
// angle atan2(x, y) must equal 2πk/classes + 2π·0.75·r (mod 2π).
func TestSpiralsLieOnTheirArms(t *testing.T) {
	const classes = 4
	train, _ := Spirals(400, classes, 0, 3)
	for i, k := range train.Y {
		x, y := float64(train.X.At(i, 0)), float64(train.X.At(i, 1))
		r := math.Hypot(x, y)
		if r > 1+1e-6 {
			t.Fatalf("point %d at radius %v, want ≤ 1", i, r)
		}
		if r < 1e-3 {
			continue // the angle is meaningless at the centre
		}
		want := 2*math.Pi*float64(k)/classes + 2*math.Pi*0.75*r
		d := math.Remainder(math.Atan2(x, y)-want, 2*math.Pi)
		if math.Abs(d) > 1e-4/r {
			t.Fatalf("point %d (class %d, r=%.4f): angle off its arm by %.2e rad", i, k, r, d)
		}
	}
}

func TestSpiralsNoise(t *testing.T) {
	clean, _ := Spirals(2000, 2, 0, 5)
	noisy, _ := Spirals(2000, 2, 0.2, 5)
	// Same seed, so the same radii and angles; the difference is the noise.
	var sum, sumSq float64
	for i := range clean.X.Data {
		d := float64(noisy.X.Data[i] - clean.X.Data[i])
		sum += d
		sumSq += d * d
	}
	n := float64(len(clean.X.Data))
	std := math.Sqrt(sumSq/n - (sum/n)*(sum/n))
	if math.Abs(std-0.2) > 0.02 {
		t.Errorf("noise std %.4f, want 0.2 ± 0.02", std)
	}
}

func TestSyntheticDeterminism(t *testing.T) {
	makers := map[string]func(seed uint64) (*Set, *Set){
		"blobs":   func(seed uint64) (*Set, *Set) { return Blobs(200, 3, 4, seed) },
		"spirals": func(seed uint64) (*Set, *Set) { return Spirals(200, 3, 0.1, seed) },
	}
	for name, make := range makers {
		a, aTest := make(9)
		b, bTest := make(9)
		c, _ := make(10)
		if !slices.Equal(a.X.Data, b.X.Data) || !slices.Equal(a.Y, b.Y) || !slices.Equal(aTest.X.Data, bTest.X.Data) {
			t.Errorf("%s: seed 9 twice gave different data", name)
		}
		if slices.Equal(a.X.Data, c.X.Data) {
			t.Errorf("%s: seeds 9 and 10 gave the same data", name)
		}
		if slices.Equal(a.X.Data[:aTest.X.Rows*aTest.X.Cols], aTest.X.Data) {
			t.Errorf("%s: test set repeats the start of the training set", name)
		}
	}
}

func TestSyntheticClampsSizes(t *testing.T) {
	train, test := Blobs(0, 0, -1, 1)
	checkShapeAndBalance(t, train, 1, 1, 1)
	checkShapeAndBalance(t, test, 1, 1, 1)
	train, test = Spirals(-5, 0, -1, 1)
	checkShapeAndBalance(t, train, 1, 2, 1)
	checkShapeAndBalance(t, test, 1, 2, 1)
}

func TestSubset(t *testing.T) {
	train, _ := Blobs(10, 2, 3, 1)
	sub := train.Subset(4)
	if sub.Len() != 4 || sub.X.Rows != 4 || sub.X.Cols != 3 || sub.Classes != 2 || sub.Name != train.Name {
		t.Fatalf("Subset(4): %d labels, X %v, %d classes", sub.Len(), sub.X, sub.Classes)
	}
	sub.X.Set(3, 2, 123)
	sub.Y[0] = 1
	if train.X.At(3, 2) != 123 || train.Y[0] != 1 {
		t.Error("Subset does not share storage with its set")
	}
	for _, n := range []int{0, -1, 10, 11} {
		if got := train.Subset(n); got != train {
			t.Errorf("Subset(%d) is not the set itself", n)
		}
	}
}
