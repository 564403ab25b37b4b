package kernels

// Parallel calls f(lo, hi) over consecutive ranges that cover [0, n), on
// the kernels' threads when work — about how many values the whole loop
// touches — is large enough to pay for waking them (at least
// parallelMinWork), else once, f(0, n), on the caller. f must compute each
// index on its own, writing nothing another index writes: then the result
// is the same however the range is split. It returns once every range is
// done.
//
// The layers use it for work between products that is a loop over the
// images of a batch: im2col, col2im, pooling.
func Parallel(n, work int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	threads := Threads()
	if threads > 1 && n > 1 && work >= parallelMinWork {
		if owned, _ := workers.tryOwn(threads); owned {
			// Several ranges per thread, so a thread slowed by other work
			// takes fewer of them.
			chunks := min(n, 4*threads, maxChunks)
			workers.ranges = rangesTask{f: f, n: n, chunks: chunks}
			workers.run(&workers.ranges, chunks, threads-1, nil)
			workers.ranges = rangesTask{}
			workers.mu.Unlock()
			return
		}
	}
	f(0, n)
}

// parallelMinWork is the fewest values a Parallel loop must touch to be
// split: about 50 µs of copying, several times what waking the helpers
// costs.
const parallelMinWork = 1 << 16

// rangesTask is a Parallel loop over chunks of nearly equal length.
type rangesTask struct {
	f         func(lo, hi int)
	n, chunks int
}

func (t *rangesTask) runChunk(i int, _ *panelScratch) {
	t.f(i*t.n/t.chunks, (i+1)*t.n/t.chunks)
}
