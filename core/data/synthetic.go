package data

import (
	"math"
	"math/rand/v2"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// PCG stream numbers, so the centres, the training points and the test
// points of one seed are independent draws.
const (
	streamCentres = 0xb10b5
	streamTrain   = 0x7a1e
	streamTest    = 0x7e57
)

// blobCentreRange is the half-width of the cube the blob centres are drawn
// from; with unit-variance points, clusters overlap a little in 2-D and
// hardly at all in higher dimensions.
const blobCentreRange = 4.0

// spiralTurns is how far each spiral arm winds from the centre to radius 1.
const spiralTurns = 0.75

// Blobs returns `classes` Gaussian clusters in `dim` dimensions: centres
// drawn uniformly from [-4,4]^dim by the seed, each point its centre plus
// standard normal noise. The training set has n points and the test set n/4
// (at least 1), drawn independently; point i has class i mod classes, so
// the classes are balanced to within one point. Sizes below 1 are raised to 1.
func Blobs(n, classes, dim int, seed uint64) (train, test *Set) {
	n, classes, dim = max(n, 1), max(classes, 1), max(dim, 1)
	rng := rand.New(rand.NewPCG(seed, streamCentres))
	centres := nn.NewMatrix(classes, dim)
	for i := range centres.Data {
		centres.Data[i] = float32(blobCentreRange * (2*rng.Float64() - 1))
	}
	draw := func(name string, count int, stream uint64) *Set {
		rng := rand.New(rand.NewPCG(seed, stream))
		s := &Set{Name: name, X: nn.NewMatrix(count, dim), Y: make([]int, count), Classes: classes}
		for i := range count {
			c := i % classes
			s.Y[i] = c
			row, centre := s.X.Row(i), centres.Row(c)
			for j := range row {
				row[j] = centre[j] + float32(rng.NormFloat64())
			}
		}
		return s
	}
	return draw("blobs-train", n, streamTrain), draw("blobs-test", max(n/4, 1), streamTest)
}

// Spirals returns the classic interleaved 2-D spirals: `classes` arms, arm k
// starting at angle 2πk/classes. A point at radius t ~ U(0,1) sits at angle
// 2πk/classes + 2π·0.75·t, i.e. (t·sin θ, t·cos θ), plus Gaussian noise of
// std `noise` on each coordinate. The training set has n points and the
// test set n/4 (at least 1); point i has class i mod classes. Sizes below 1
// are raised to 1 and a negative noise is taken as 0.
func Spirals(n, classes int, noise float64, seed uint64) (train, test *Set) {
	n, classes, noise = max(n, 1), max(classes, 1), max(noise, 0)
	draw := func(name string, count int, stream uint64) *Set {
		rng := rand.New(rand.NewPCG(seed, stream))
		s := &Set{Name: name, X: nn.NewMatrix(count, 2), Y: make([]int, count), Classes: classes}
		for i := range count {
			c := i % classes
			t := rng.Float64()
			theta := 2*math.Pi*float64(c)/float64(classes) + 2*math.Pi*spiralTurns*t
			s.Y[i] = c
			s.X.Set(i, 0, float32(t*math.Sin(theta)+noise*rng.NormFloat64()))
			s.X.Set(i, 1, float32(t*math.Cos(theta)+noise*rng.NormFloat64()))
		}
		return s
	}
	return draw("spirals-train", n, streamTrain), draw("spirals-test", max(n/4, 1), streamTest)
}
