package bench

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
)

func TestWriteTable(t *testing.T) {
	r := map[string]float64{
		"infer_speedup_b1_sparse95":   4.2,
		"infer_speedup_b256_sparse95": 6,
		"infer_us_b1_dense":           15.25,
		"gemm_gflops_64x784x300":      150.4,
		"train_epoch_s_b64":           3.5,
		KeyEpochFraction:              0.1,
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(r)+1 || !strings.HasPrefix(lines[0], "key") {
		t.Fatalf("got %d lines, want a header and %d rows:\n%s", len(lines), len(r), buf.String())
	}
	// GEMM first, then training, inference times, speedups.
	wantOrder := []string{"gemm_gflops_64x784x300", KeyEpochFraction, "train_epoch_s_b64", "infer_us_b1_dense",
		"infer_speedup_b1_sparse95", "infer_speedup_b256_sparse95"}
	for i, key := range wantOrder {
		if f := strings.Fields(lines[i+1]); f[0] != key {
			t.Errorf("row %d is %q, want %q", i+1, f[0], key)
		}
	}
	for _, want := range [][]string{
		{"gemm_gflops_64x784x300", "150", "GFLOP/s"},
		{"train_epoch_s_b64", "3.50", "s"},
		{"infer_us_b1_dense", "15.2", "µs"},
		{"infer_speedup_b1_sparse95", "4.20", "×", "≥", "5×", "MISSED"},
		{"infer_speedup_b256_sparse95", "6", "×", "≥", "3×", "met"},
	} {
		found := false
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == want[0] {
				found = true
				if strings.Join(f, " ") != strings.Join(want, " ") {
					t.Errorf("row %q, want %q", strings.Join(f, " "), strings.Join(want, " "))
				}
			}
		}
		if !found {
			t.Errorf("no row for %s", want[0])
		}
	}
}

// TestModels checks the compressed forms Run times: the sparsity
// prune.Prune (ScopeGlobal) leaves, and that PrepareInference picked the fast kernels
// for fc1 (the layer that dominates the time).
func TestModels(t *testing.T) {
	zeroFraction := func(m *nn.Sequential) float64 {
		var zero, all int
		for _, p := range m.Params() {
			if strings.HasSuffix(p.Name, ".W") {
				all += len(p.Value.Data)
				zero += len(p.Value.Data) - p.NonZero()
			}
		}
		return float64(zero) / float64(all)
	}
	for _, c := range []struct {
		form, fc1b1, fc1b256 string
		sparsity             float64
	}{
		{"dense", "dense", "dense", 0},
		{"sparse90", "sparse", "sparse", 0.90},
		{"sparse95", "sparse", "sparse", 0.95},
		{"int8", "int8", "int8", -1}, // rounding zeroes some weights
	} {
		m, err := model(c.form)
		if err != nil {
			t.Fatal(err)
		}
		if got := zeroFraction(m); c.sparsity >= 0 && (got < c.sparsity-0.001 || got > c.sparsity+0.001) {
			t.Errorf("%s: %.4f of the weights are zero, want %.2f", c.form, got, c.sparsity)
		}
		fc1 := m.Layers[0].(*nn.Dense)
		if got1, got256 := fc1.InferenceForm(1), fc1.InferenceForm(256); got1 != c.fc1b1 || got256 != c.fc1b256 {
			t.Errorf("%s: fc1 runs %s at batch 1 and %s at 256, want %s and %s", c.form, got1, got256, c.fc1b1, c.fc1b256)
		}
	}
	m, err := model("rank32")
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := m.Layers[0].(*lowrank.Layer); !ok || l.Rank != 32 {
		t.Fatalf("rank32: first layer is %T, want a rank-32 lowrank.Layer", m.Layers[0])
	}
	if _, err := model("sparse99"); err == nil || !strings.Contains(err.Error(), "sparse99") {
		t.Fatalf("unknown form: error %v, want one naming it", err)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Options{Quick: true}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestRunWhole runs the whole benchmark when PRUNER_TUI_BENCH is set
// (quick: a few seconds; full: about 15 s) and checks that every documented
// key is there and positive. It logs the table.
//
//	PRUNER_TUI_BENCH=quick go test -run RunWhole -v ./core/bench/
func TestRunWhole(t *testing.T) {
	mode := os.Getenv("PRUNER_TUI_BENCH")
	if mode != "quick" && mode != "full" {
		t.Skip("set PRUNER_TUI_BENCH=quick or full to run the benchmark")
	}
	var progress bytes.Buffer
	r, err := Run(context.Background(), Options{Quick: mode == "quick"}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{KeyThreads, "gemm_gflops_64x784x300", "gemm_gflops_256x784x300", "gemm_gflops_64x300x100",
		"gemm_gflops_1t_64x784x300", "gemm_gflops_1t_256x784x300", "gemm_gflops_1t_64x300x100",
		"gonum_gemm_gflops_64x784x300", "gonum_gemm_gflops_256x784x300", "gonum_gemm_gflops_64x300x100",
		"train_epoch_s_b64", "train_epoch_s_b256", "train_epoch_s_b64_1t", "train_epoch_s_b256_1t"}
	for _, f := range forms {
		keys = append(keys, "infer_us_b1_"+f, "infer_us_b256_"+f)
		if f != "dense" {
			keys = append(keys, "infer_speedup_b1_"+f, "infer_speedup_b256_"+f)
		}
	}
	for _, k := range keys {
		if !(r[k] > 0) {
			t.Errorf("%s = %v, want > 0", k, r[k])
		}
	}
	var table bytes.Buffer
	if err := WriteTable(&table, r); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + progress.String() + table.String())
}
