package quant

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func centroids(c *Codebook) []float32 { return c.Centroids.Value.Data }

func TestClusterOneDimByHand(t *testing.T) {
	// Linear init [1, 12]; the midpoint 6.5 splits {1, 2, 3} from
	// {10, 11, 12}; the means 2 and 11 keep the same split: converged.
	d := column(1, 2, 3, 10, 11, 12)
	c, err := Cluster(d, 2, InitLinear, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(centroids(c), []float32{2, 11}) {
		t.Errorf("centroids %v, want [2 11]", centroids(c))
	}
	if !slices.Equal(d.W.Value.Data, []float32{2, 2, 2, 11, 11, 11}) {
		t.Errorf("W = %v", d.W.Value.Data)
	}
	if !slices.Equal(c.Assign, []int32{0, 0, 0, 1, 1, 1}) || d.Bits != 1 || c.K() != 2 {
		t.Errorf("assign %v Bits %d K %d", c.Assign, d.Bits, c.K())
	}
}

func TestClusterTakesSeveralRounds(t *testing.T) {
	// Linear init [0, 10] on 0.5, 1, 2, 6, 10 (zeros excluded, so 0.5 is
	// the minimum): centroids 0.5, 10 → midpoint 5.25 → {0.5, 1, 2} {6, 10}
	// → means 7/6, 8 → midpoint 4.58 → same split: done.
	d := column(0.5, 1, 2, 6, 10)
	c, err := Cluster(d, 2, InitLinear, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !near(float64(centroids(c)[0]), 3.5/3, 1e-6) || centroids(c)[1] != 8 {
		t.Errorf("centroids %v, want [7/6 8]", centroids(c))
	}
	// No rounds: the centroids stay at the init.
	d = column(0.5, 1, 2, 6, 10)
	c, _ = Cluster(d, 2, InitLinear, 0)
	if !slices.Equal(centroids(c), []float32{0.5, 10}) {
		t.Errorf("iters 0: centroids %v, want the init [0.5 10]", centroids(c))
	}
}

func TestClusterInits(t *testing.T) {
	// Linear spans [min, max] of the non-zero weights: −1 … 3 in 3 steps.
	d := column(0, -1, 0.5, 0, 3)
	c, err := Cluster(d, 3, InitLinear, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(centroids(c), []float32{-1, 1, 3}) {
		t.Errorf("linear: %v, want [-1 1 3]", centroids(c))
	}
	// 0.5 is past the midpoint 0 of −1 and 1; zeros stay zero, unassigned.
	if !slices.Equal(d.W.Value.Data, []float32{0, -1, 1, 0, 3}) || !slices.Equal(c.Assign, []int32{-1, 0, 1, -1, 2}) {
		t.Errorf("linear: W %v assign %v", d.W.Value.Data, c.Assign)
	}

	// Density: quantiles (i+½)/k of 1…10 → the 3rd and 8th smallest.
	d = column(10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
	c, _ = Cluster(d, 2, InitDensity, 0)
	if !slices.Equal(centroids(c), []float32{3, 8}) {
		t.Errorf("density: %v, want [3 8]", centroids(c))
	}

	// Random: k distinct weights of the layer.
	w := []float32{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}
	d = column(w...)
	c, _ = ClusterRand(d, 3, InitRandom, 0, rand.New(rand.NewPCG(1, 2)))
	got := centroids(c)
	if len(got) != 3 || got[0] == got[1] || got[1] == got[2] {
		t.Errorf("random: %v, want 3 distinct weights", got)
	}
	for _, x := range got {
		if !slices.Contains(w, x) {
			t.Errorf("random: centroid %v is not a weight of the layer", x)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("random: centroids %v not ascending", got)
	}
}

func TestClusterKeepsPrunedZeros(t *testing.T) {
	// Linear init [1, 5]: 3 sits on the midpoint and joins the smaller; the
	// means are 2 and 5.
	d := column(0, 1, 0, 3, 0, 5)
	d.W.Mask = []float32{0, 1, 0, 1, 0, 1}
	c, err := Cluster(d, 2, InitLinear, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.W.Value.Data, []float32{0, 2, 0, 2, 0, 5}) || !slices.Equal(centroids(c), []float32{2, 5}) {
		t.Errorf("W %v centroids %v", d.W.Value.Data, centroids(c))
	}
	if c.Distinct() != 2 {
		t.Errorf("Distinct = %d", c.Distinct())
	}
	// More clusters than weights: the extra centroids stay empty.
	d = column(0, 1, 0, 3)
	c, _ = Cluster(d, 4, InitLinear, 5)
	if !slices.Equal(d.W.Value.Data, []float32{0, 1, 0, 3}) || d.Bits != 2 {
		t.Errorf("k > n: W %v Bits %d", d.W.Value.Data, d.Bits)
	}
	// An all-zero layer stays zero.
	d = column(0, 0)
	if _, err := Cluster(d, 4, InitDensity, 5); err != nil || !slices.Equal(d.W.Value.Data, []float32{0, 0}) {
		t.Errorf("all zero: %v %v", d.W.Value.Data, err)
	}
}

func TestCentroidGradientIsSumOfMembers(t *testing.T) {
	d := column(1, 2, 3, 10, 11, 0)
	c, err := Cluster(d, 2, InitLinear, 10) // {1,2,3} → 2, {10,11} → 10.5
	if err != nil {
		t.Fatal(err)
	}
	copy(d.W.Grad.Data, []float32{0.5, -1, 0.25, 2, 3, 100})
	g := c.Gradients(nil)
	// Centroid 0: 0.5 − 1 + 0.25; centroid 1: 2 + 3; the pruned weight's 100 is ignored.
	if len(g) != 2 || g[0] != -0.25 || g[1] != 5 {
		t.Errorf("gradients %v, want [-0.25 5]", g)
	}
	c.Step(0.1)
	if !near(float64(centroids(c)[0]), 2.025, 1e-6) || !near(float64(centroids(c)[1]), 10, 1e-6) {
		t.Errorf("after a step: centroids %v, want [2.025 10]", centroids(c))
	}
	if d.W.Value.Data[0] != centroids(c)[0] || d.W.Value.Data[4] != centroids(c)[1] || d.W.Value.Data[5] != 0 {
		t.Errorf("W not rewritten from the centroids: %v", d.W.Value.Data)
	}
}

func TestClusterErrors(t *testing.T) {
	cases := []struct {
		k, iters int
		init     Init
		want     string
	}{
		{0, 5, InitLinear, "allowed 1–256"},
		{257, 5, InitLinear, "allowed 1–256"},
		{4, -1, InitLinear, "negative"},
		{4, 5, Init(9), "allowed linear, random, density"},
	}
	for _, c := range cases {
		d := column(1, 2, 3)
		_, err := Cluster(d, c.k, c.init, c.iters)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "fc") {
			t.Errorf("%+v: err = %v", c, err)
		}
		if !slices.Equal(d.W.Value.Data, []float32{1, 2, 3}) {
			t.Errorf("%+v: a rejected call changed the layer", c)
		}
	}
	if i, err := ParseInit("density"); err != nil || i != InitDensity {
		t.Errorf("ParseInit(density) = %v, %v", i, err)
	}
	if _, err := ParseInit("kmeans++"); err == nil || !strings.Contains(err.Error(), "linear, random, density") {
		t.Errorf("ParseInit(kmeans++): %v", err)
	}
	for k, want := range map[int]int{1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 32: 5, 33: 6, 256: 8} {
		if got := IndexBits(k); got != want {
			t.Errorf("IndexBits(%d) = %d, want %d", k, got, want)
		}
	}
}

func TestClusterModelReachesFactors(t *testing.T) {
	m := factoredModel()
	books, err := ClusterModel(m, 1, InitLinear, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(books) != 3 || books[0].Dense.LayerName != "fc1.A" || books[2].Dense.LayerName != "fc2" {
		t.Fatalf("books for %d layers", len(books))
	}
	for _, b := range books {
		if b.Distinct() != 1 {
			t.Errorf("%s: %d distinct values with k = 1", b.Dense.LayerName, b.Distinct())
		}
	}
	if _, err := ClusterModel(factoredModel(), 0, InitLinear, 3, nil); err == nil {
		t.Error("k 0: no error")
	}
}

// Deep Compression's fine-tuning step through nn.TrainEpoch: the tuner
// trains the centroids (and biases), every layer keeps at most k distinct
// values on the same non-zero positions, and the loss goes down.
func TestCodebookTunerTrainsCentroids(t *testing.T) {
	x, y := toyData(300, 1)
	m := toyModel(2)
	trainFloat(t, m, x, y, 15)
	// Prune half of each layer by hand (the smallest |w|) so zeros exist.
	for _, d := range nn.WeightLayers(m) {
		abs := make([]float64, len(d.W.Value.Data))
		for i, w := range d.W.Value.Data {
			abs[i] = math.Abs(float64(w))
		}
		cut := percentile(abs, 50)
		d.W.Mask = make([]float32, len(abs))
		for i, a := range abs {
			if a > cut {
				d.W.Mask[i] = 1
			}
		}
		d.W.ApplyMask()
	}
	books, err := ClusterModel(m, 4, InitLinear, 20, nil)
	if err != nil {
		t.Fatal(err)
	}
	nonZero := func() []bool {
		var nz []bool
		for _, d := range nn.WeightLayers(m) {
			for _, w := range d.W.Value.Data {
				nz = append(nz, w != 0)
			}
		}
		return nz
	}
	before := nonZero()
	lossBefore, _ := nn.Evaluate(m, x, y, 64)
	cent0 := slices.Clone(centroids(books[0]))
	tuner := NewCodebookTuner(nn.NewAdam(0.005), books...)
	rng := rand.New(rand.NewPCG(5, 5))
	for range 5 {
		if _, err := nn.TrainEpoch(context.Background(), m, tuner, x, y, 32, rng, nil); err != nil {
			t.Fatal(err)
		}
	}
	lossAfter, _ := nn.Evaluate(m, x, y, 64)
	if !(lossAfter < lossBefore) {
		t.Errorf("loss %v → %v: fine-tuning the codebooks did not lower it", lossBefore, lossAfter)
	}
	if slices.Equal(cent0, centroids(books[0])) {
		t.Error("the centroids did not move")
	}
	for _, b := range books {
		if n := b.Distinct(); n > 4 {
			t.Errorf("%s: %d distinct values after fine-tuning, want ≤ 4", b.Dense.LayerName, n)
		}
	}
	if !slices.Equal(before, nonZero()) {
		t.Error("fine-tuning changed which weights are zero")
	}
}
