package spec

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestMemoryByHand checks the estimate of validSpec part by part.
func TestMemoryByHand(t *testing.T) {
	s, err := Parse("tiny.yaml", []byte(validSpec))
	if err != nil {
		t.Fatal(err)
	}
	// blobs, dim 4: 120 training and 30 test examples of 4·4 + 8 bytes,
	// and 8 bytes of shuffle order per training example.
	const dataset = 150*(4*4+8) + 120*8
	// P = 4·8 + 8 + 8·3 + 3 = 67 parameters; adam (2 states), compression
	// steps (2 copies): 2·4·(3+2) + 12 = 52 bytes each; the lowrank step
	// factorizes fc1 (4×8, k = 4): 16·(32 + 12·4).
	const model = 67*52 + 16*(4*8+12*4)
	// 256 rows (batch 16 < 256) × (4 in + 3 classes + fc1 4+8 + relu 2·8 +
	// dropout 3·8 + out 8+3) × 4 bytes × 3 copies.
	const activations = 3 * 4 * 256 * (4 + 3 + 12 + 16 + 24 + 11)
	want := Memory{Dataset: dataset, Model: model, Activations: activations}
	if got := s.Memory(); got != want {
		t.Errorf("Memory() = %+v, want %+v", got, want)
	}
	if got := want.Total(); got != 4560+4764+215040 {
		t.Errorf("Total() = %d, want 224364", got)
	}

	// MNIST, 100 training images and the 10,000 test images, each held as
	// float32 and, while loading, as 785 raw bytes; sgd without momentum,
	// no compression: one copy, no optimizer state.
	m, err := Parse("m.yaml", []byte("name: m\ndataset: {name: mnist, limit: 100}\nmodel: {layers: [{type: dense, units: 10}]}\n"+
		"train: {optimizer: sgd, lr: 0.1, epochs: 1, batch: 1000}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want = Memory{
		Dataset:     10100*(4*784+8) + 100*8 + 10100*785,
		Model:       (784*10 + 10) * (4*3 + 12),
		Activations: 3 * 4 * 1000 * (784 + 10 + 784 + 10),
	}
	if got := m.Memory(); got != want {
		t.Errorf("mnist: Memory() = %+v, want %+v", got, want)
	}
}

// TestCheckMemory: the two specs of the issue — two hidden layers of
// 100,000 units, a synthetic set within its ranges — are refused with what
// they need, the part that needs it and the limit.
func TestCheckMemory(t *testing.T) {
	big, err := Parse("big.yaml", []byte("name: big\ndataset: {name: mnist, limit: 1000}\nmodel:\n  layers:\n"+
		"    - {type: dense, units: 100000}\n    - {type: relu}\n    - {type: dense, units: 100000}\n    - {type: relu}\n    - {type: dense, units: 10}\n"+
		"train: {optimizer: adam, lr: 0.001, epochs: 1, batch: 64}\n"))
	if err != nil {
		t.Fatal(err)
	}
	// P = 784·1e5 + 1e5 + 1e10 + 1e5 + 1e6 + 10; one copy with adam:
	// (3+2)·4 + 12 = 32 bytes each, 300 GiB.
	const params = 78_400_000 + 100_000 + 10_000_000_000 + 100_000 + 1_000_000 + 10
	if got := big.Memory().Model; got != params*32 {
		t.Errorf("model %d, want %d", got, int64(params*32))
	}
	err = big.CheckMemory(8<<30, "--max-memory")
	var e *Error
	if !errors.As(err, &e) || e.Field != "model.layers" {
		t.Fatalf("error %v, want an *Error on model.layers", err)
	}
	for _, want := range []string{"big.yaml: model.layers: a run needs about 303 GiB of memory (dataset 41.2 MiB, model 300 GiB", "more than the limit of 8.00 GiB (--max-memory)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := big.CheckMemory(big.Memory().Total(), "x"); err != nil {
		t.Errorf("a limit of exactly the estimate: %v", err)
	}
	if err := big.CheckMemory(0, "x"); err != nil {
		t.Errorf("no limit: %v", err)
	}

	blobs, err := Parse("blobs.yaml", []byte("name: b\ndataset: {name: blobs, classes: 3, dim: 100000, samples: 10000000}\n"+
		"model: {layers: [{type: dense, units: 3}]}\ntrain: {optimizer: adam, lr: 0.001, epochs: 1, batch: 64}\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = blobs.CheckMemory(8<<30, "--max-memory")
	if !errors.As(err, &e) || e.Field != "dataset" || !strings.Contains(err.Error(), "needs about 4.55 TiB") {
		t.Errorf("blobs: error %v, want 4.55 TiB on dataset", err)
	}
}

// TestMemorySaturates: a spec built in Go, beyond any bound, saturates
// instead of wrapping around to a small figure.
func TestMemorySaturates(t *testing.T) {
	layers := make([]Layer, 1000)
	for i := range layers {
		layers[i] = Layer{Type: "dense", Units: math.MaxInt32}
	}
	s := Spec{Name: "huge", Dataset: Dataset{Name: "blobs", Classes: 3, Dim: math.MaxInt32, Samples: math.MaxInt32},
		Model: Model{Layers: layers}, Train: Train{Optimizer: "adam", LR: 0.1, Epochs: 1, Batch: math.MaxInt32}}
	if m := s.Memory(); m.Total() != math.MaxInt64 || m.Model != math.MaxInt64 {
		t.Errorf("Memory() = %+v, want saturated", m)
	}
}

func TestFormatAndParseBytes(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.00 KiB"}, {1536, "1.50 KiB"}, {1 << 20, "1.00 MiB"},
		{100 << 20, "100 MiB"}, {37*(1<<30) + 1<<29, "37.5 GiB"}, {math.MaxInt64, "8.00 EiB"},
	} {
		if got := FormatBytes(c.n); got != c.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"8GiB", 8 << 30}, {"8 gib", 8 << 30}, {"8G", 8 << 30}, {"512MB", 512e6}, {"1.5GiB", 3 << 29},
		{"4000000000", 4e9}, {"2e9", 2e9}, {"100kB", 1e5}, {"64k", 64 << 10}, {"1TiB", 1 << 40}, {"7B", 7},
	} {
		if got, err := ParseBytes(c.in); err != nil || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "GiB", "8XB", "-1GiB", "0", "9EiB", "99999999999TiB", "lots"} {
		if n, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", bad, n)
		}
	}
}
