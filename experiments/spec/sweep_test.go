package spec

import (
	"strings"
	"testing"
)

// validSpec has 23 lines: a sweep block appended starts on line 24.
func sweepSpec(block string) []byte { return []byte(validSpec + block) }

func TestSweepGrid(t *testing.T) {
	s, err := Parse("g.yaml", sweepSpec("sweep:\n  grid:\n    compress[0].ratio: [0.5, 0.8, 0.9]\n    compress[1].bits: [2, 4]\n  repeats: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	sw := s.Sweep
	if sw == nil || sw.Kind != "grid" || len(sw.Points) != 18 || sw.Repeats != 3 {
		t.Fatalf("sweep = %+v", sw)
	}
	// The first axis slowest, a point's repeats side by side.
	want := []struct {
		label string
		seed  uint64
	}{
		{"compress[0].ratio=0.5 compress[1].bits=2", 7}, {"compress[0].ratio=0.5 compress[1].bits=2", 8},
		{"compress[0].ratio=0.5 compress[1].bits=2", 9}, {"compress[0].ratio=0.5 compress[1].bits=4", 7},
	}
	for i, w := range want {
		p := sw.Points[i]
		if p.Label() != w.label || p.Spec.Seed != w.seed || p.Index != i/3 || p.Repeat != i%3 {
			t.Errorf("point %d = %q seed %d index %d repeat %d, want %q seed %d", i, p.Label(), p.Spec.Seed, p.Index, p.Repeat, w.label, w.seed)
		}
	}
	last := sw.Points[17].Spec
	if r := last.Compress[0].(Prune).Ratio; r != 0.9 {
		t.Errorf("last point's ratio = %v, want 0.9", r)
	}
	if b := last.Compress[1].(Quantize).Bits; b != 4 {
		t.Errorf("last point's bits = %v, want 4", b)
	}
	if s.Compress[0].(Prune).Ratio != 0.5 || s.Seed != 7 {
		t.Errorf("the spec as written changed: %+v", s.Compress[0])
	}
}

func TestSweepSetsAbsentFieldsAndModel(t *testing.T) {
	s, err := Parse("g.yaml", sweepSpec("sweep:\n  grid:\n    model.layers[0].units: [8, 16]\n    train.lr_decay: [0.5]\n    compress[0].finetune_lr: [0.001]\n    seed: [100]\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := s.Sweep.Points[1].Spec
	if p.Model.Layers[0].Units != 16 || p.Train.LRDecay != 0.5 || p.Seed != 100 {
		t.Errorf("point 2: units %d, lr_decay %v, seed %d", p.Model.Layers[0].Units, p.Train.LRDecay, p.Seed)
	}
	if lr := p.Compress[0].(Prune).FinetuneLR; lr != 0.001 {
		t.Errorf("finetune_lr = %v, want 0.001", lr)
	}
}

func TestSweepRandom(t *testing.T) {
	block := "sweep:\n  random:\n    n: 50\n    seed: 7\n    axes:\n      train.lr: {log_uniform: [1e-4, 1e-2]}\n" +
		"      compress[0].ratio: {uniform: [0.5, 0.95]}\n      train.batch: {int_uniform: [8, 12]}\n      compress[1].bits: {choice: [2, 8]}\n"
	a, err := Parse("r.yaml", sweepSpec(block))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Parse("r.yaml", sweepSpec(block))
	if len(a.Sweep.Points) != 50 {
		t.Fatalf("%d points, want 50", len(a.Sweep.Points))
	}
	bits := map[int]bool{}
	for i, p := range a.Sweep.Points {
		if p.Label() != b.Sweep.Points[i].Label() {
			t.Fatalf("point %d drawn differently: %q, %q", i, p.Label(), b.Sweep.Points[i].Label())
		}
		lr, ratio, batch := p.Spec.Train.LR, p.Spec.Compress[0].(Prune).Ratio, p.Spec.Train.Batch
		if lr < 1e-4 || lr > 1e-2 || ratio < 0.5 || ratio > 0.95 || batch < 8 || batch > 12 {
			t.Errorf("point %d out of its ranges: %s", i, p.Label())
		}
		if round3(lr) != lr || round3(ratio) != ratio {
			t.Errorf("point %d not rounded to 3 digits: %s", i, p.Label())
		}
		bits[p.Spec.Compress[1].(Quantize).Bits] = true
	}
	if !bits[2] || !bits[8] || len(bits) != 2 {
		t.Errorf("choice drew %v, want both of 2 and 8 in 50 draws", bits)
	}
}

func TestSweepRepeatsAlone(t *testing.T) {
	s, err := Parse("n.yaml", sweepSpec("sweep: {repeats: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Sweep.Points) != 5 || s.Sweep.Points[4].Spec.Seed != 11 || s.Sweep.Points[4].Label() != "" {
		t.Errorf("points %d, last seed %d label %q", len(s.Sweep.Points), s.Sweep.Points[4].Spec.Seed, s.Sweep.Points[4].Label())
	}
}

// A field the spec lacks may come from an axis.
func TestSweepSuppliesRequiredField(t *testing.T) {
	text := strings.Replace(validSpec, "{technique: quantize, bits: 4}", "{technique: quantize}", 1)
	s, err := Parse("q.yaml", []byte(text+"sweep:\n  grid:\n    compress[1].bits: [2, 4]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Compress[1].(Quantize).Bits != 2 || len(s.Sweep.Points) != 2 {
		t.Errorf("spec bits %d, %d points", s.Compress[1].(Quantize).Bits, len(s.Sweep.Points))
	}
	if _, err := Parse("q.yaml", []byte(text+"sweep:\n  grid:\n    compress[0].ratio: [0.2]\n")); err == nil ||
		!strings.Contains(err.Error(), "line 22: compress[1].bits: required field is missing") {
		t.Errorf("a missing field no axis sets: %v", err)
	}
}

func TestSweepErrors(t *testing.T) {
	for _, c := range []struct{ block, want string }{
		{"sweep:\n  grid:\n    compress[0].ratio: [0.5,\n      1.5]\n", "g.yaml: line 27: sweep axis compress[0].ratio: the value 1.5: must be in [0, 0.99], got 1.5"},
		{"sweep:\n  grid:\n    compress[1].bits: [4, 9]\n", "line 26: sweep axis compress[1].bits: the value 9: must be in [1, 8], or 32 for float32, got 9"},
		{"sweep:\n  grid: {train.epochs: [2, fast]}\n", `line 25: sweep axis train.epochs: the value fast: must be a whole number, got "fast"`},
		{"sweep:\n  grid: {train.lrr: [0.1]}\n", `sweep axis train.lrr: the value 0.1: unknown field "lrr" in train`},
		{"sweep:\n  grid:\n    compress[5].ratio: [0.1]\n", "sweep axis compress[5].ratio: the value 0.1: entry [5] does not exist: the list has 3"},
		{"sweep:\n  grid: {Train.LR: [0.1]}\n", `line 25: sweep axis "Train.LR": must be the path of a field`},
		{"sweep:\n  grid: {}\n", "line 25: sweep.grid: must be a mapping of at least one axis"},
		{"sweep:\n  grid: {train.lr: []}\n", "line 25: sweep.grid.train.lr: must be a list of at least one value"},
		{"sweep:\n  grid: {train.lr: [0.1, 0.1]}\n", "the value 0.1 is given twice"},
		{"sweep:\n  grid: {train: [{}], train.lr: [0.1]}\n", `sweep axis "train.lr": overlaps the axis train`},
		{"sweep: {}\n", "line 24: sweep: needs a grid, a random search or repeats"},
		{"sweep: 3\n", "line 24: sweep: must be a mapping of grid, random and repeats, got 3"},
		{"sweep: {repeat: 3}\n", `unknown field "repeat" in sweep (allowed: grid, random, repeats); did you mean "repeats"?`},
		{"sweep: {repeats: 0}\n", "sweep.repeats: must be a whole number in [1, 100], got 0"},
		{"sweep:\n  grid: {train.batch: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}\n  repeats: 100\n  random: {n: 1, axes: {seed: {int_uniform: [1, 2]}}}\n", "line 27: sweep.random: give a grid or a random search, not both"},
		{"sweep:\n  grid:\n    train.batch: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n    train.epochs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  repeats: 101\n", "repeats: must be a whole number in [1, 100], got 101"},
		{"sweep:\n  grid:\n    train.batch: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n    train.epochs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  repeats: 100\n", "line 28: sweep: makes 11000 runs (points × repeats), more than the 10000 a sweep may have"},
		{"sweep:\n  random: {n: 10000, axes: {seed: {int_uniform: [1, 9]}}}\n  repeats: 2\n", "makes 20000 runs (points × repeats), more than the 10000 a sweep may have"},
		{"sweep:\n  random: {n: 3, axes: {train.lr: {log_uniform: [0, 1]}}}\n", "sweep.random.axes.train.lr.log_uniform: must be [lo, hi], two numbers with 0 < lo < hi, got [0, 1]"},
		{"sweep:\n  random: {n: 3, axes: {train.lr: {normal: [0, 1]}}}\n", `must be one of uniform, log_uniform, int_uniform, choice, got "normal"`},
		{"sweep:\n  random: {n: 3, axes: {train.batch: {int_uniform: [1.5, 4]}}}\n", "two whole numbers with lo ≤ hi, got [1.5, 4]"},
		{"sweep:\n  random: {axes: {train.lr: {uniform: [0.1, 0.2]}}}\n", "sweep.random.n: required field is missing"},
		{"sweep:\n  random: {n: 2, axes: {train.lr: {uniform: [2, 3]}}}\n", "sweep axis train.lr: the value "},
		{"sweep:\n  grid:\n    model.layers[0].units: [1, 2]\n", "line 24: sweep: the point model.layers[0].units=1: compress[2].rank: "},
		{"sweep:\n  grid: {name: [a, b]}\n", "cannot vary its own block or the experiment's name"},
	} {
		_, err := Parse("g.yaml", sweepSpec(c.block))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant …%s…", c.block, err, c.want)
		}
	}
}
