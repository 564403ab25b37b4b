package lowrank

import (
	"fmt"

	"github.com/prunerlab/pruner-tui/core/nn"
	"gonum.org/v1/gonum/mat"
)

// Spatial is the other way to factorize a K×K convolution, kept to be
// measured against ConvLayer's channel split (see the README's
// "Convolutional networks" section): a K×1 convolution from C channels to
// Rank, then a 1×K one from Rank to F (Jaderberg et al. 2014, scheme 2).
// Its filters are the truncated SVD of the filter tensor W[c,ki,kj,f]
// read as the (C·K)×(K·F) matrix M[(c,ki),(kj,f)]: the vertical filters
// are the left singular vectors, the horizontal ones the right, each
// scaled by the square root of its singular value. It stores
// Rank·K·(C + F) weights instead of K·K·C·F, and costs Rank·K·C
// multiply-adds at each of (Ho·W) intermediate positions and Rank·K·F at
// each of Ho·Wo outputs (stride 1, no padding across the width).
type Spatial struct {
	K, C, F, Rank int
	// Weights is the filter matrix the two convolutions compute together,
	// in nn.Conv2D's layout (row (ki·K + kj)·C + c, column f): what a
	// model scores with to measure the factorization's accuracy.
	Weights []float32
}

// Params is the number of weights the two convolutions store (their
// biases apart).
func (s Spatial) Params() int { return s.Rank * s.K * (s.C + s.F) }

// MultiplyAdds is the two convolutions' work for one image of h×w
// pixels with stride 1 and no padding.
func (s Spatial) MultiplyAdds(h, w int) int {
	ho, wo := h-s.K+1, w-s.K+1
	return ho*w*s.Rank*s.K*s.C + ho*wo*s.Rank*s.K*s.F
}

// SpatialFactorize returns the rank-r spatial factorization of c's
// filters; r is at most min(C·K, K·F).
func SpatialFactorize(c *nn.Conv2D, rank int) (Spatial, error) {
	k, ch, f := c.K, c.In.C, c.Kernel.Out
	if full := min(ch*k, k*f); rank < 1 || rank > full {
		return Spatial{}, fmt.Errorf("lowrank: %s: spatial rank must be in [1, %d], got %d", c.Name(), full, rank)
	}
	w := c.Kernel.W.Value.Data
	m := mat.NewDense(ch*k, k*f, nil)
	for ki := range k {
		for kj := range k {
			for cc := range ch {
				row := (ki*k+kj)*ch + cc
				for ff := range f {
					m.Set(cc*k+ki, kj*f+ff, float64(w[row*f+ff]))
				}
			}
		}
	}
	var svd mat.SVD
	if !svd.Factorize(m, mat.SVDThin) {
		return Spatial{}, fmt.Errorf("lowrank: %s: the SVD did not converge", c.Name())
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	sigma := svd.Values(nil)
	out := make([]float32, len(w))
	for ki := range k {
		for kj := range k {
			for cc := range ch {
				row := (ki*k+kj)*ch + cc
				for ff := range f {
					var sum float64
					for r := range rank {
						sum += u.At(cc*k+ki, r) * sigma[r] * v.At(kj*f+ff, r)
					}
					out[row*f+ff] = float32(sum)
				}
			}
		}
	}
	return Spatial{K: k, C: ch, F: f, Rank: rank, Weights: out}, nil
}
