package data

import (
	"math"
	"testing"
)

// realMNIST finds the real MNIST files or skips the test.
func realMNIST(tb testing.TB) string {
	tb.Helper()
	dir, err := FindMNIST("")
	if err != nil {
		tb.Skipf("real MNIST not found: %v", err)
	}
	return dir
}

func TestLoadRealMNIST(t *testing.T) {
	dir := realMNIST(t)
	train, test, err := LoadMNIST(dir, 500, 100)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 500 || train.X.Rows != 500 || train.X.Cols != 784 || train.Classes != 10 {
		t.Fatalf("train: %d labels, X %v, %d classes; want 500, 500×784, 10", train.Len(), train.X, train.Classes)
	}
	if test.Len() != 100 || test.X.Rows != 100 || test.X.Cols != 784 {
		t.Fatalf("test: %d labels, X %v; want 100, 100×784", test.Len(), test.X)
	}
	// MNIST's first training image is a 5, its first test image a 7.
	if train.Y[0] != 5 || test.Y[0] != 7 {
		t.Errorf("first labels: train %d, test %d; want 5 and 7", train.Y[0], test.Y[0])
	}
	seen := make([]bool, 10)
	for _, s := range []*Set{train, test} {
		for i, y := range s.Y {
			if y < 0 || y > 9 {
				t.Fatalf("%s label %d is %d", s.Name, i, y)
			}
			seen[y] = true
		}
	}
	for d, ok := range seen {
		if !ok {
			t.Errorf("digit %d never appears in 600 images", d)
		}
	}
	// Standardized pixels: background maps to -0.1307/0.3081, ink tops out
	// at (1-0.1307)/0.3081, and 500 images have mean ≈ 0, std ≈ 1.
	var sum, sumSq float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range train.X.Data {
		f := float64(v)
		sum += f
		sumSq += f * f
		lo, hi = min(lo, f), max(hi, f)
	}
	n := float64(len(train.X.Data))
	mean := sum / n
	std := math.Sqrt(sumSq/n - mean*mean)
	if math.Abs(lo-pix0) > 1e-6 || math.Abs(hi-pix255) > 1e-6 {
		t.Errorf("pixel range [%.4f, %.4f], want [%.4f, %.4f]", lo, hi, pix0, pix255)
	}
	if math.Abs(mean) > 0.1 || math.Abs(std-1) > 0.1 {
		t.Errorf("standardized mean %.3f std %.3f, want 0 ± 0.1 and 1 ± 0.1", mean, std)
	}
}

func BenchmarkLoadMNIST(b *testing.B) {
	dir := realMNIST(b)
	for b.Loop() {
		train, test, err := LoadMNIST(dir, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		if train.Len() != 60000 || test.Len() != 10000 {
			b.Fatalf("loaded %d/%d images, want 60000/10000", train.Len(), test.Len())
		}
	}
}
