package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Large products, optimizer steps and compressed forwards are split into
// chunks that the caller and a few persistent helper goroutines claim one
// at a time. A chunk is computed by the same code whoever claims it, so
// the result does not depend on the number of threads or on who ran what:
// each chunk is a rectangle of register tiles of C with the whole k loop
// inside, or in a pipelined product the last k blocks of a group of row
// tiles after the owner's first ones (see tiling), a range of elements of
// an element-wise update, or rows of a compressed layer's forward.
//
// One caller at a time owns the helpers. A second caller that arrives
// while they are busy (the TUI evaluates two models at once) does not wait
// for them: it computes its own call on its own thread, which gives the
// same bits.

// threadSetting is the number of threads set by SetThreads; 0 means
// runtime.GOMAXPROCS.
var threadSetting atomic.Int32

// SetThreads sets the most threads one call may use, caller included, and
// returns the previous setting: 1 computes every call on the caller's
// thread, n ≤ 0 restores the default, runtime.GOMAXPROCS(0). Results are
// bit for bit the same whatever the setting; only the time changes.
func SetThreads(n int) (previous int) {
	return int(threadSetting.Swap(int32(max(n, 0))))
}

// Threads returns the most threads one call uses now.
func Threads() int {
	if n := int(threadSetting.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// chunkTask is work the pool splits: runChunk computes chunk i with
// scratch s, which belongs to the calling thread.
type chunkTask interface {
	runChunk(i int, s *panelScratch)
}

// ownerFirster is a task with work its owner does once the job is
// published, before it claims chunks; chunks may wait for parts of it.
type ownerFirster interface {
	ownerFirst(s *panelScratch)
}

// contendedFor is how long callers compute alone after one found the
// helpers busy. With several callers at once (the TUI scores a knob
// setting on the test and the training images at once, while it encodes
// the model file) the cores are busy without help, and a polling helper
// only takes one from them: BenchmarkKnobPreview ran 10% slower than
// before the helpers with a 10 ms window, as fast with 100 ms (a preview
// takes about 50 ms).
const contendedFor = 100 * time.Millisecond

// helperSpin is how long a helper keeps polling for the next job after
// finishing one before it sleeps. Waking a sleeping goroutine on the other
// core takes 30–300 µs on a 2-vCPU virtual machine (the idle vCPU is
// halted), longer than most products take, so a helper that slept between
// the products and optimizer steps of a training step would come too late
// for each: a LeNet-300-100 epoch at batch 64 on two threads took 1.16×
// the time on one with 100 µs, as long as on one with 2 ms (before the k
// pipeline of split made it faster).
const helperSpin = 2 * time.Millisecond

// workerPool is the caller's helpers and the job they share.
//
// state packs the job's generation (bits 32-63) and the range of chunks
// not yet claimed, [front, back) (bits 16-31 and 0-15). The owner claims
// chunks from the front, helpers from the back, each with a
// compare-and-swap on the whole word, so a claim made on a stale reading
// of a finished job fails. Claiming from both ends keeps the owner on the
// first part of every job and the helpers on the last, so from one job to
// the next of the same shape (a training step's weight gradient, then the
// optimizer step over it) each core mostly finds its part of the data in
// its own cache: moving a line between the cores of a virtual machine is
// slow. The owner writes task (and what it points to) before it publishes
// the new state and changes them only after every chunk is done, so a
// helper reads them only between a successful claim and its done.Add.
type workerPool struct {
	mu    sync.Mutex // held by the caller that owns the helpers
	state atomic.Uint64
	done  atomic.Int32 // chunks of the current job completed
	task  chunkTask
	want  atomic.Int32 // helpers that may claim chunks of the current job
	// contendedUntil is the time (UnixNano) until which callers compute
	// alone, after one found the helpers busy.
	contendedUntil atomic.Int64
	ownerCPU       atomic.Int32 // the CPU the owner ran on when it published the job, or -1

	adam   adamTask   // the owner's optimizer step, when task is &adam
	rows   rowsTask   // the owner's compressed forward, when task is &rows
	ranges rangesTask // the owner's Parallel loop, when task is &ranges

	spawn   sync.Mutex
	helpers atomic.Pointer[[]*helper]
}

type helper struct {
	scratch  panelScratch // first, so its panel is as aligned as the allocation
	sleeping atomic.Bool
	wake     chan struct{} // one token per successful sleeping true → false
}

var workers workerPool

const chunkBits = 16

// maxChunks is the most chunks one job may have.
const maxChunks = 1<<chunkBits - 1

// tryOwn takes threads−1 helpers for the caller, and reports whether it
// got them and whether they were all awake (polling for work, see poll).
// It wakes the ones asleep, which takes tens to hundreds of microseconds
// on a virtual machine whose other cores idle: the caller may compute a
// job alone meanwhile, or cut it finer so they take less of it. The owner
// runs jobs with run and releases the helpers with mu.Unlock.
//
// It fails when another caller owns the helpers: the kernels then have
// more callers than one, which keep the cores busy without help, so for
// contendedFor it fails for every caller, and the helpers sleep rather
// than poll.
func (p *workerPool) tryOwn(threads int) (owned, awake bool) {
	if threads <= 1 {
		return false, false
	}
	now := time.Now().UnixNano()
	if now < p.contendedUntil.Load() {
		return false, false
	}
	if !p.mu.TryLock() {
		p.contendedUntil.Store(now + int64(contendedFor))
		return false, false
	}
	p.ensureHelpers(threads - 1)
	awake = true
	for _, h := range (*p.helpers.Load())[:threads-1] {
		if h.sleeping.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
			awake = false
		}
	}
	return true, awake
}

// run computes chunks 0..total-1 of task with the helpers the caller owns,
// itself included, and returns when all are done.
func (p *workerPool) run(task chunkTask, total, helpers int, s *panelScratch) {
	p.task = task
	p.want.Store(int32(helpers))
	p.done.Store(0)
	gen := p.state.Load()>>32 + 1
	p.ownerCPU.Store(int32(currentCPU()))
	p.state.Store(gen<<32 | uint64(total))
	for _, h := range (*p.helpers.Load())[:helpers] {
		if h.sleeping.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	if f, ok := task.(ownerFirster); ok {
		f.ownerFirst(s)
	}
	for {
		i, ok := p.claim(true)
		if !ok {
			break
		}
		task.runChunk(i, s)
		p.done.Add(1)
	}
	// The chunks still running were claimed by helpers that are running
	// them: wait the little it takes. Not through the Go scheduler, which
	// could move this goroutine to the other core, away from its caches
	// (once it costs more than the whole product gains); only a helper
	// that is not running (more threads than GOMAXPROCS) gets a Gosched,
	// after a while.
	for spins := 1; p.done.Load() < int32(total); spins++ {
		if spins%1024 == 0 {
			yieldCPU()
			if spins >= 64*1024 {
				runtime.Gosched()
			}
		}
	}
	p.task = nil
}

// claim takes the first (owner) or last (helper) chunk of the current job
// that no one has claimed, if one is left.
func (p *workerPool) claim(owner bool) (int, bool) {
	for {
		s := p.state.Load()
		front, back := s>>chunkBits&maxChunks, s&maxChunks
		if front >= back {
			return 0, false
		}
		next, i := s-1, back-1
		if owner {
			next, i = s+1<<chunkBits, front
		}
		if p.state.CompareAndSwap(s, next) {
			return int(i), true
		}
	}
}

// claimable reports whether the current job has a chunk left.
func (p *workerPool) claimable() bool {
	s := p.state.Load()
	return s>>chunkBits&maxChunks < s&maxChunks
}

// ensureHelpers starts helpers until there are at least n.
func (p *workerPool) ensureHelpers(n int) {
	if hs := p.helpers.Load(); hs != nil && len(*hs) >= n {
		return
	}
	p.spawn.Lock()
	defer p.spawn.Unlock()
	var hs []*helper
	if old := p.helpers.Load(); old != nil {
		hs = *old
	}
	for len(hs) < n {
		h := new(helper)
		h.wake = make(chan struct{}, 1)
		go p.help(h, len(hs))
		hs = append(hs, h)
	}
	p.helpers.Store(&hs)
}

// help is a helper's life: claim chunks while there are any, poll for the
// next job for helperSpin, then sleep until an owner wakes it. It keeps
// its thread, whose CPU moveOff may change.
func (p *workerPool) help(h *helper, index int) {
	runtime.LockOSThread()
	for {
		for int32(index) < p.want.Load() {
			i, ok := p.claim(false)
			if !ok {
				break
			}
			p.task.runChunk(i, &h.scratch)
			p.done.Add(1)
		}
		if p.poll(index) {
			continue
		}
		h.sleeping.Store(true)
		if p.claimable() && int32(index) < p.want.Load() {
			if h.sleeping.CompareAndSwap(true, false) {
				continue
			}
			// An owner saw it sleeping and is sending the token.
		}
		<-h.wake
	}
}

// poll waits up to helperSpin for a job with a chunk left that this helper
// may claim. Every few microseconds it checks that it does not share the
// owner's CPU (moving off it if it does, see moveOff) and yields the CPU
// to other threads: a helper that only spun beside its owner would halve
// the owner's speed until it slept. It yields to other goroutines (the
// TUI's, while training keeps the helper busy) every few tens of
// microseconds, not more often: runtime.Gosched goes through the
// scheduler's global queue, and done every microsecond it slowed the
// owner's products on the other core by a quarter.
func (p *workerPool) poll(index int) bool {
	start := time.Now()
	for spins := 1; ; spins++ {
		if p.claimable() && int32(index) < p.want.Load() {
			return true
		}
		if spins%256 == 0 {
			if now := time.Now(); now.Sub(start) > helperSpin || now.UnixNano() < p.contendedUntil.Load() {
				return false
			}
			if spins%(8*256) == 0 {
				if cpu := int(p.ownerCPU.Load()); cpu >= 0 && currentCPU() == cpu {
					moveOff(cpu)
				}
				yieldCPU()
			}
			if spins%(16*256) == 0 {
				runtime.Gosched()
			}
		}
	}
}

// adamTask is AdamStep over chunks of adamChunk elements.
type adamTask struct {
	w, g, m, v                          []float32
	impl                                int
	beta1, beta2, step, eps, tinyMoment float32
}

// adamChunk is the elements of one chunk of a threaded AdamStep, and
// adamMinParallel the fewest for which it is split at all: below that
// the step takes under 20 µs and waking the helpers is not worth it.
const (
	adamChunk       = 1 << 14
	adamMinParallel = 1 << 15
)

func (t *adamTask) runChunk(i int, _ *panelScratch) {
	lo, hi := i*adamChunk, min(len(t.w), (i+1)*adamChunk)
	adamWith(t.impl, t.w[lo:hi], t.g[lo:hi], t.m[lo:hi], t.v[lo:hi], t.beta1, t.beta2, t.step, t.eps, t.tinyMoment)
}

// rowsTask is a batched forward of a compressed layer (CSR or Int8) over
// chunks of rowsChunk rows: rows do not depend on each other, and with
// rowsChunk a multiple of 16 every chunk of a CSR batch stays in the
// panel regime.
type rowsTask struct {
	csr   *CSR
	q     *Int8
	y, x  []float32
	batch int
}

// rowsChunk is the rows of one chunk of a threaded compressed forward, and
// rowsMinParallel the smallest batch split at all.
const (
	rowsChunk       = 32
	rowsMinParallel = 2 * rowsChunk
)

func (t *rowsTask) runChunk(i int, _ *panelScratch) {
	r0, r1 := i*rowsChunk, min(t.batch, (i+1)*rowsChunk)
	if t.csr != nil {
		m := t.csr
		sparsePanels(sparseActive, m, t.y[r0*m.Out:r1*m.Out], t.x[r0*m.In:r1*m.In], r1-r0)
		return
	}
	m := t.q
	m.forward(t.y[r0*m.Out:r1*m.Out], t.x[r0*m.In:r1*m.In], r1-r0)
}

// forwardRows runs the forward of csr or q (the other nil) on the helpers
// and reports whether it could own them.
func forwardRows(csr *CSR, q *Int8, y, x []float32, batch int) bool {
	threads := Threads()
	owned, _ := workers.tryOwn(threads)
	if !owned {
		return false
	}
	workers.rows = rowsTask{csr, q, y, x, batch}
	workers.run(&workers.rows, (batch+rowsChunk-1)/rowsChunk, threads-1, nil)
	workers.rows = rowsTask{}
	workers.mu.Unlock()
	return true
}
