package data

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAugmentByHand: a 3×3 one-channel image moved one pixel right and
// down, the uncovered pixels the fill; mirrored, then moved.
func TestAugmentByHand(t *testing.T) {
	src := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	dst := make([]float32, 9)
	// Shift 1, no flip: find a draw of dx = dy = +1.
	a := &Augment{H: 3, W: 3, C: 1, Shift: 1, Fill: -1}
	for seed := uint64(0); ; seed++ {
		a.Apply(dst, src, rand.New(rand.NewPCG(seed, 0)))
		if dst[0] == -1 && dst[4] == 1 {
			break
		}
	}
	if want := []float32{-1, -1, -1, -1, 1, 2, -1, 4, 5}; !slices.Equal(dst, want) {
		t.Errorf("moved right and down: %v, want %v", dst, want)
	}
	// Flip only: each row reversed, every draw a flip or a copy.
	a = &Augment{H: 3, W: 3, C: 1, Flip: true}
	flips, copies := 0, 0
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		a.Apply(dst, src, rng)
		switch {
		case slices.Equal(dst, []float32{3, 2, 1, 6, 5, 4, 9, 8, 7}):
			flips++
		case slices.Equal(dst, src):
			copies++
		default:
			t.Fatalf("flip made %v", dst)
		}
	}
	if flips < 70 || copies < 70 {
		t.Errorf("%d flips and %d copies of 200: not about half each", flips, copies)
	}
}

// TestAugmentChannels: a pixel's channels move together.
func TestAugmentChannels(t *testing.T) {
	src := []float32{1, 10, 2, 20, 3, 30, 4, 40} // 2×2×2
	dst := make([]float32, 8)
	a := &Augment{H: 2, W: 2, C: 2, Flip: true}
	rng := rand.New(rand.NewPCG(3, 3))
	for range 20 {
		a.Apply(dst, src, rng)
		if !slices.Equal(dst, src) && !slices.Equal(dst, []float32{2, 20, 1, 10, 4, 40, 3, 30}) {
			t.Fatalf("flip of a two-channel image: %v", dst)
		}
	}
}
