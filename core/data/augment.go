package data

import (
	"math/rand/v2"
)

// Augment changes a training image at random each time a batch draws it,
// so the model never sees quite the same image twice: a standard way to
// curb overfitting on small images. The test set is never augmented.
type Augment struct {
	H, W, C int     // the images' shape, channels fastest (see nn.Shape)
	Shift   int     // move the image by dx, dy drawn uniformly from [−Shift, Shift] pixels
	Flip    bool    // mirror it left–right with probability ½
	Fill    float32 // the value the pixels moved in from outside take: the background
}

// Apply writes src changed at random into dst (both H·W·C long),
// drawing from rng: first the flip (when Flip), then dx and dy (when
// Shift > 0).
func (a *Augment) Apply(dst, src []float32, rng *rand.Rand) {
	flip := a.Flip && rng.IntN(2) == 1
	dx, dy := 0, 0
	if a.Shift > 0 {
		dx, dy = rng.IntN(2*a.Shift+1)-a.Shift, rng.IntN(2*a.Shift+1)-a.Shift
	}
	if !flip && dx == 0 && dy == 0 {
		copy(dst, src)
		return
	}
	h, w, c := a.H, a.W, a.C
	for y := 0; y < h; y++ {
		sy := y - dy
		row := dst[y*w*c : (y+1)*w*c]
		if sy < 0 || sy >= h {
			fill(row, a.Fill)
			continue
		}
		for x := 0; x < w; x++ {
			sx := x - dx
			if flip {
				sx = w - 1 - x - dx
			}
			px := row[x*c : (x+1)*c]
			if sx < 0 || sx >= w {
				fill(px, a.Fill)
				continue
			}
			copy(px, src[(sy*w+sx)*c:(sy*w+sx+1)*c])
		}
	}
}

func fill(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}
