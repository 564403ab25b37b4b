package quant

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// MaxClusters is the largest codebook Cluster builds: 8-bit indices.
const MaxClusters = 256

// Init is how k-means weight sharing places its first centroids (Han et
// al. 2016, §3.2, compare all three).
type Init int

const (
	// InitLinear spaces the centroids evenly over [min, max] of the
	// non-zero weights: the best of the three in Deep Compression, because
	// it keeps centroids on the few large weights that matter most.
	InitLinear Init = iota
	// InitRandom (Forgy) picks k distinct non-zero weights at random.
	InitRandom
	// InitDensity spaces the centroids evenly on the weights' CDF: the
	// quantiles (i+½)/k, crowding them where weights are dense.
	InitDensity
)

func (i Init) String() string {
	switch i {
	case InitLinear:
		return "linear"
	case InitRandom:
		return "random"
	case InitDensity:
		return "density"
	}
	return fmt.Sprintf("Init(%d)", int(i))
}

// ParseInit reads "linear", "random" or "density".
func ParseInit(s string) (Init, error) {
	for _, i := range []Init{InitLinear, InitRandom, InitDensity} {
		if s == i.String() {
			return i, nil
		}
	}
	return 0, fmt.Errorf("k-means init %q is unknown: allowed linear, random, density", s)
}

// Codebook is the result of weight sharing on one Dense layer: each
// non-zero weight W[i] is Centroids[Assign[i]]; Assign[i] is −1 for a zero
// (pruned) weight, which stays zero.
type Codebook struct {
	Dense *nn.Dense
	// Centroids is a 1×K parameter so an nn optimizer can train it (see
	// CodebookTuner).
	Centroids *nn.Param
	// Assign has one entry per weight of W, in W's row-major order.
	Assign []int32
}

// K is the number of centroids.
func (c *Codebook) K() int { return len(c.Centroids.Value.Data) }

// Cluster shares d's weights by 1-D k-means (Lloyd's algorithm) over its
// non-zero weights, Deep Compression's "trained quantization": it places k
// centroids by init, then alternates "each weight joins its nearest
// centroid" (ties to the smaller) and "each centroid moves to the mean of its
// weights" for at most iters rounds, stopping early when no weight changes
// cluster; a centroid left without weights stays where it is. Each non-zero
// weight is then replaced by its centroid, zero weights stay exactly zero,
// and d.Bits becomes ⌈log₂ k⌉ (the index width). InitRandom draws from a
// fixed seed; ClusterRand takes the generator.
func Cluster(d *nn.Dense, k int, init Init, iters int) (*Codebook, error) {
	return ClusterRand(d, k, init, iters, rand.New(rand.NewPCG(uint64(k), 0xc0de)))
}

// ClusterRand is Cluster with the random generator for InitRandom.
func ClusterRand(d *nn.Dense, k int, init Init, iters int, rng *rand.Rand) (*Codebook, error) {
	if err := checkCluster(k, init, iters); err != nil {
		return nil, fmt.Errorf("cluster layer %s: %w", d.LayerName, err)
	}
	w := d.W.Value.Data
	var values []float64
	for _, x := range w {
		if x != 0 {
			values = append(values, float64(x))
		}
	}
	centroids := initCentroids(values, k, init, rng)
	assign := make([]int32, len(w))
	nearest(w, centroids, assign)
	for range iters {
		updateMeans(w, assign, centroids)
		slices.Sort(centroids) // empty clusters can leave them out of order
		if !nearest(w, centroids, assign) {
			break
		}
	}
	c := &Codebook{Dense: d, Centroids: &nn.Param{Name: d.LayerName + ".centroids", Value: nn.NewMatrix(1, k), Grad: nn.NewMatrix(1, k)}, Assign: assign}
	for i, x := range centroids {
		c.Centroids.Value.Data[i] = float32(x)
	}
	c.Apply()
	d.Bits = IndexBits(k)
	return c, nil
}

func checkCluster(k int, init Init, iters int) error {
	if k < 1 || k > MaxClusters {
		return fmt.Errorf("cluster count %d is out of range: allowed 1–%d (at most 8-bit indices)", k, MaxClusters)
	}
	if init < InitLinear || init > InitDensity {
		return fmt.Errorf("k-means init %d is unknown: allowed linear, random, density", int(init))
	}
	if iters < 0 {
		return fmt.Errorf("k-means iterations %d is negative: allowed 0 (initialization only) or more", iters)
	}
	return nil
}

// IndexBits is the width of an index into k centroids: ⌈log₂ k⌉, at least 1.
func IndexBits(k int) int {
	if k <= 2 {
		return 1
	}
	return bits.Len(uint(k - 1))
}

// initCentroids returns k centroids for the non-zero values, ascending.
func initCentroids(values []float64, k int, init Init, rng *rand.Rand) []float64 {
	c := make([]float64, k)
	if len(values) == 0 {
		return c
	}
	switch init {
	case InitLinear:
		lo, hi := slices.Min(values), slices.Max(values)
		if k == 1 {
			c[0] = (lo + hi) / 2
			break
		}
		for i := range c {
			c[i] = lo + float64(i)*(hi-lo)/float64(k-1)
		}
	case InitDensity:
		s := slices.Clone(values)
		slices.Sort(s)
		for i := range c {
			q := (float64(i) + 0.5) / float64(k)
			c[i] = s[min(len(s)-1, int(q*float64(len(s))))]
		}
	case InitRandom:
		perm := rng.Perm(len(values))
		for i := range c {
			c[i] = values[perm[min(i, len(perm)-1)]]
		}
	}
	for i := range c {
		c[i] = float64(float32(c[i])) // the centroids live in float32
	}
	slices.Sort(c)
	return c
}

// nearest assigns each non-zero weight of w to its nearest centroid
// (ascending centroids; a weight halfway between two joins the smaller) and
// each zero weight to −1. It reports whether any assignment changed.
func nearest(w []float32, centroids []float64, assign []int32) (changed bool) {
	mids := make([]float64, len(centroids)-1)
	for i := range mids {
		mids[i] = (centroids[i] + centroids[i+1]) / 2
	}
	for i, x := range w {
		a := int32(-1)
		if x != 0 {
			v := float64(x)
			a = int32(sort.Search(len(mids), func(j int) bool { return mids[j] >= v }))
		}
		if assign[i] != a {
			assign[i] = a
			changed = true
		}
	}
	return changed
}

// updateMeans moves each centroid to the mean of its weights; a centroid
// without weights keeps its place.
func updateMeans(w []float32, assign []int32, centroids []float64) {
	sum := make([]float64, len(centroids))
	count := make([]int, len(centroids))
	for i, a := range assign {
		if a >= 0 {
			sum[a] += float64(w[i])
			count[a]++
		}
	}
	for k := range centroids {
		if count[k] > 0 {
			centroids[k] = float64(float32(sum[k] / float64(count[k])))
		}
	}
}

// Apply writes each weight from its centroid; zero weights stay zero.
func (c *Codebook) Apply() {
	cent := c.Centroids.Value.Data
	for i, a := range c.Assign {
		if a >= 0 {
			c.Dense.W.Value.Data[i] = cent[a]
		} else {
			c.Dense.W.Value.Data[i] = 0
		}
	}
}

// Gradients returns, for each centroid k, the sum of the loss gradients of
// the weights that share it (Han et al. 2016, eq. 3):
//
//	∂L/∂C_k = Σ_{i: Assign[i] = k} ∂L/∂W_i
//
// read from Dense.W.Grad after a Backward pass. dst is reused when it has
// room.
func (c *Codebook) Gradients(dst []float64) []float64 {
	dst = slices.Grow(dst[:0], c.K())[:c.K()]
	clear(dst)
	g := c.Dense.W.Grad.Data
	for i, a := range c.Assign {
		if a >= 0 {
			dst[a] += float64(g[i])
		}
	}
	return dst
}

// Step is one plain gradient step on the centroids, C_k −= lr·∂L/∂C_k, then
// Apply: the fine-tuning step of Deep Compression.
func (c *Codebook) Step(lr float64) {
	g := c.Gradients(nil)
	for k, gk := range g {
		c.Centroids.Value.Data[k] -= float32(lr * gk)
	}
	c.Apply()
}

// Distinct counts the distinct non-zero values of the layer's weights: at
// most K after Apply.
func (c *Codebook) Distinct() int {
	seen := map[float32]bool{}
	for _, x := range c.Dense.W.Value.Data {
		if x != 0 {
			seen[x] = true
		}
	}
	return len(seen)
}

// ClusterModel runs Cluster on each weight layer of m named in layers (nil
// or empty: every Dense layer and factor), in model order. Arguments and
// names are checked before any layer is changed.
func ClusterModel(m *nn.Sequential, k int, init Init, iters int, layers []string) ([]*Codebook, error) {
	if err := checkCluster(k, init, iters); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	ds, err := nn.SelectWeightLayers(m, layers)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	books := make([]*Codebook, len(ds))
	for i, d := range ds {
		if books[i], err = Cluster(d, k, init, iters); err != nil {
			return nil, err
		}
	}
	return books, nil
}

// CodebookTuner fine-tunes shared weights with any nn optimizer: it is an
// nn.Optimizer that, for each codebook whose weight parameter is in the step,
// hands Inner the centroids (with their summed gradients, see Gradients)
// instead of the weights, then rewrites the weights from the centroids. So
//
//	nn.TrainEpoch(ctx, m, quant.NewCodebookTuner(nn.NewSGD(lr, 0.9), books...), x, y, ...)
//
// trains the centroids and the biases and keeps every layer at K distinct
// values; pruned weights stay zero. Parameters of other layers pass through
// to Inner unchanged.
type CodebookTuner struct {
	Inner nn.Optimizer
	Books []*Codebook
	grads []float64
}

// NewCodebookTuner wraps inner to train the centroids of books.
func NewCodebookTuner(inner nn.Optimizer, books ...*Codebook) *CodebookTuner {
	return &CodebookTuner{Inner: inner, Books: books}
}

func (t *CodebookTuner) SetLR(lr float64) { t.Inner.SetLR(lr) }

func (t *CodebookTuner) Step(params []*nn.Param) {
	list := make([]*nn.Param, 0, len(params))
	var touched []*Codebook
	for _, p := range params {
		b := t.book(p)
		if b == nil {
			list = append(list, p)
			continue
		}
		t.grads = b.Gradients(t.grads)
		for k, g := range t.grads {
			b.Centroids.Grad.Data[k] = float32(g)
		}
		list = append(list, b.Centroids)
		touched = append(touched, b)
	}
	t.Inner.Step(list)
	for _, b := range touched {
		b.Apply()
	}
}

func (t *CodebookTuner) book(p *nn.Param) *Codebook {
	for _, b := range t.Books {
		if b.Dense.W == p {
			return b
		}
	}
	return nil
}
