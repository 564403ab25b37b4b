package spec

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Memory is what a run of a spec holds in memory at its peak, by part, in
// bytes: an estimate made from the spec alone, before anything is
// allocated, so a spec the machine cannot hold is refused at once
// instead of dying of an out-of-memory error minutes later.
//
//	Dataset      (train + test examples) × (4·dim + 8) bytes (float32 inputs,
//	             a label each) + 8 bytes a training example (the shuffle
//	             order); MNIST also holds its raw bytes while it converts
//	             them: 785 bytes an image. Synthetic sets are generated whole
//	             (samples and samples/4), then cut to limit and test_limit.
//	Model        P parameters (Σ in·out + out over the weight layers: dense
//	             layers, and convolutions' kernel²·channels × filters) ×
//	             4 bytes × (3 + k) for each copy trained — value, gradient,
//	             pruning mask and k optimizer states (adam 2, sgd with
//	             momentum 1, sgd 0) — the trained baseline and, when there
//	             are compression steps, the copy each works on; plus
//	             12 bytes a parameter for the inference copy and its model
//	             file, 4 for each lottery rewind point, and the float64 SVD
//	             of the largest layer a lowrank step factorizes:
//	             16·(in·out + (in+out)·min(in, out)).
//	Activations  3 copies × 4 bytes × R rows × (dim + Σ dense (in + out) +
//	             Σ conv (in + out + positions·kernel²·channels) + Σ maxpool
//	             (in + 2·out) + Σ relu 2·width + Σ dropout 3·width +
//	             classes): each layer's output and input gradient (dropout:
//	             its mask too; conv: its patches; maxpool: each output's
//	             argmax), R the larger of train.batch and the evaluation
//	             batch of 256.
type Memory struct {
	Dataset, Model, Activations int64
}

// evalBatch is the batch the engine evaluates and measures latency at.
const evalBatch = 256

// Total is the sum of the parts, saturating at math.MaxInt64.
func (m Memory) Total() int64 { return add(add(m.Dataset, m.Model), m.Activations) }

// String says the total and its parts: "1.23 GiB (dataset 1.00 GiB, model
// 200 MiB, activations 30.0 MiB)".
func (m Memory) String() string { return FormatBytes(m.Total()) + " (" + m.parts() + ")" }

func (m Memory) parts() string {
	return fmt.Sprintf("dataset %s, model %s, activations %s", FormatBytes(m.Dataset), FormatBytes(m.Model), FormatBytes(m.Activations))
}

// Memory estimates what a run of s holds in memory at its peak (see the
// type). s should be valid; the figures saturate instead of overflowing.
func (s Spec) Memory() Memory {
	r := s.resolved()
	return Memory{Dataset: r.datasetBytes(), Model: r.modelBytes(), Activations: r.activationBytes()}
}

// CheckMemory refuses a spec whose run would need more than limit bytes
// (see Memory), saying how much it needs, where it goes, the limit and
// where the limit comes from (from, e.g. "--max-memory"); limit ≤ 0
// checks nothing. The error is an *Error naming the part of the spec that
// needs the most: the model or the dataset.
func (s Spec) CheckMemory(limit int64, from string) error {
	if limit <= 0 {
		return nil
	}
	m := s.Memory()
	if m.Total() <= limit {
		return nil
	}
	field := "model.layers"
	if m.Dataset > m.Model && m.Dataset > m.Activations {
		field = "dataset"
	}
	return &Error{Source: s.Source, Field: field,
		Msg: fmt.Sprintf("a run needs about %s of memory (%s), more than the limit of %s (%s); --max-memory SIZE changes it",
			FormatBytes(m.Total()), m.parts(), FormatBytes(limit), from)}
}

func (s Spec) datasetBytes() int64 {
	d := s.Dataset
	var train, test int64
	var raw int64 // bytes held while loading
	if d.Images() {
		train, test = mnistTrainSize, mnistTestSize
		if d.Limit > 0 {
			train = int64(min(d.Limit, mnistTrainSize))
		}
		if d.TestLimit > 0 {
			test = int64(min(d.TestLimit, mnistTestSize))
		}
		raw = mul(train+test, MNISTDim+1)
	} else {
		train, test = int64(d.Samples), int64(max(d.Samples/4, 1))
	}
	perExample := add(mul(4, int64(d.InputDim())), 8)
	return add(add(mul(add(train, test), perExample), mul(train, 8)), raw)
}

func (s Spec) modelBytes() int64 {
	var params, svd int64
	for _, name := range s.WeightNames() {
		in, out := s.WeightShape(name)
		params = add(params, add(mul(int64(in), int64(out)), int64(out)))
	}
	states := int64(0)
	switch {
	case s.Train.Optimizer == "adam":
		states = 2
	case s.Train.Momentum != 0:
		states = 1
	}
	copies := int64(1)
	if len(s.Compress) > 0 {
		copies = 2
	}
	rewinds := map[int]bool{}
	for _, st := range s.allSteps() {
		switch st := st.(type) {
		case Prune:
			if st.Schedule == "lottery" {
				rewinds[st.RewindEpoch] = true
			}
		case Lowrank:
			for _, name := range st.Factorizes(s) {
				in, out := s.WeightShape(name)
				k := int64(min(in, out))
				svd = max(svd, mul(16, add(mul(int64(in), int64(out)), mul(int64(in+out), k))))
			}
		}
	}
	perParam := add(mul(copies, 4*(3+states)), add(12, mul(4, int64(len(rewinds)))))
	return add(mul(params, perParam), svd)
}

func (s Spec) activationBytes() int64 {
	widths := int64(s.Dataset.InputDim() + s.Dataset.Classes)
	ins, outs := s.Shapes()
	for i, l := range s.Model.Layers {
		in, out := int64(ins[i].Size()), int64(outs[i].Size())
		switch l.Type {
		case "dense":
			widths = add(widths, in+out)
		case "conv":
			// The output, the input gradient, and the patches (a row of
			// kernel²·channels per output position).
			patches := mul(int64(outs[i].H*outs[i].W), int64(l.Kernel*l.Kernel*ins[i].C))
			widths = add(widths, add(in+out, patches))
		case "maxpool":
			widths = add(widths, in+2*out) // output, input gradient, the argmax of each output
		case "relu":
			widths = add(widths, 2*in)
		case "dropout":
			widths = add(widths, 3*in)
		}
	}
	rows := int64(max(s.Train.Batch, evalBatch))
	return mul(mul(3*4, rows), widths)
}

// allSteps is every compress entry and every pipeline stage.
func (s Spec) allSteps() []Step {
	var out []Step
	for _, st := range s.Compress {
		out = append(out, st)
		if p, ok := st.(Pipeline); ok {
			out = append(out, p.Stages...)
		}
	}
	return out
}

// add and mul saturate at math.MaxInt64; the operands are ≥ 0.
func add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mul(a, b int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(lo)
}

var byteUnits = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// FormatBytes writes a size in powers of 1024 with three significant
// digits: "512 B", "1.50 KiB", "37.3 GiB".
func FormatBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, unit := float64(n), 0
	for v >= 1024 && unit < len(byteUnits)-1 {
		v, unit = v/1024, unit+1
	}
	prec := 2
	switch {
	case v >= 100:
		prec = 0
	case v >= 10:
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + byteUnits[unit]
}

// ParseBytes reads a size such as "8GiB", "512 MiB", "1.5G", "2e9" or
// "4000000000": a number, then an optional unit — B, KiB/MiB/GiB/TiB
// (powers of 1024), kB/MB/GB/TB (powers of 1000) or K/M/G/T (1024, as
// most tools read them) — in any case.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != 'e' && r != 'E' && r != '+' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	scale, known := unitScale(strings.ToLower(unit))
	switch {
	case err != nil || num == "":
		return 0, fmt.Errorf("%q is not a size: want a number and a unit, e.g. 8GiB or 512MB", s)
	case !known:
		return 0, fmt.Errorf("%q: unknown unit %q (allowed: B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)", s, unit)
	case v <= 0 || math.IsInf(v, 0) || v*scale >= math.MaxInt64:
		return 0, errors.New("a size must be more than 0 and less than 8 EiB, got " + strconv.Quote(s))
	}
	return int64(v * scale), nil
}

func unitScale(unit string) (float64, bool) {
	switch unit {
	case "", "b":
		return 1, true
	case "k", "kib":
		return 1 << 10, true
	case "m", "mib":
		return 1 << 20, true
	case "g", "gib":
		return 1 << 30, true
	case "t", "tib":
		return 1 << 40, true
	case "kb":
		return 1e3, true
	case "mb":
		return 1e6, true
	case "gb":
		return 1e9, true
	case "tb":
		return 1e12, true
	}
	return 0, false
}
