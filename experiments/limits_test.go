package experiments

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// TestRunRefusesWhatDoesNotFit: a spec that needs more than MaxMemory
// fails before anything is loaded — here MNIST from a folder that does not
// exist, which would be the error otherwise.
func TestRunRefusesWhatDoesNotFit(t *testing.T) {
	sp := parseValid(t, "name: big\ndataset: {name: mnist}\nmodel: {layers: [{type: dense, units: 100000}, {type: dense, units: 10}]}\n"+
		"train: {optimizer: adam, lr: 0.001, epochs: 1, batch: 64}\n")
	rec := &recorder{}
	opts := Options{DataDir: filepath.Join(t.TempDir(), "none"), MaxMemory: 64 << 20}
	_, err := Run(context.Background(), sp, opts, rec)
	if err == nil || !strings.Contains(err.Error(), "model.layers: a run needs about") ||
		!strings.Contains(err.Error(), "more than the limit of 64.0 MiB (--max-memory)") {
		t.Fatalf("error %v, want the memory refusal", err)
	}
	if got := tokens(rec.events); len(got) != 2 || !strings.HasPrefix(got[0], "stage failed") {
		t.Errorf("events %q: want the failure and nothing loaded", got)
	}
	// The same spec fits in a larger limit: the next error is MNIST's.
	opts.MaxMemory = sp.Memory().Total()
	if err := Preflight(sp, opts); err != nil {
		t.Errorf("Preflight with a limit of exactly the estimate: %v", err)
	}
}

func TestDefaultMaxMemory(t *testing.T) {
	dir := t.TempDir()
	oldMeminfo, oldCgroup := meminfoPath, cgroupPath
	t.Cleanup(func() { meminfoPath, cgroupPath = oldMeminfo, oldCgroup })
	meminfoPath, cgroupPath = filepath.Join(dir, "meminfo"), filepath.Join(dir, "memory.max")
	os.WriteFile(meminfoPath, []byte("MemFree:  100 kB\nMemTotal:       16777216 kB\nMemAvailable: 1 kB\n"), 0o644)

	// 16 GiB: ¾ is 12 GiB.
	if limit, from := DefaultMaxMemory(); limit != 12<<30 || !strings.Contains(from, "16.0 GiB, the machine's memory") {
		t.Errorf("meminfo: %d (%s), want 12 GiB", limit, from)
	}
	os.WriteFile(cgroupPath, []byte("max\n"), 0o644)
	if limit, _ := DefaultMaxMemory(); limit != 12<<30 {
		t.Errorf("cgroup without a limit: %d, want 12 GiB", limit)
	}
	os.WriteFile(cgroupPath, []byte("4294967296\n"), 0o644)
	if limit, from := DefaultMaxMemory(); limit != 3<<30 || !strings.Contains(from, "container") {
		t.Errorf("cgroup of 4 GiB: %d (%s), want 3 GiB", limit, from)
	}
	os.Remove(cgroupPath)
	os.Remove(meminfoPath)
	if limit, from := DefaultMaxMemory(); limit != 6<<30 || !strings.Contains(from, "assumed") {
		t.Errorf("nothing to read: %d (%s), want ¾ of 8 GiB", limit, from)
	}
}

// TestSaveDirCheckedBeforeTheRun: a --save folder that takes no files, or
// is a file, fails at once; one that takes them is left as it was.
func TestSaveDirCheckedBeforeTheRun(t *testing.T) {
	sp := parseValid(t, validSpec)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	if err := Preflight(sp, Options{SaveDir: file}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as --save: %v", err)
	}
	if err := Preflight(sp, Options{SaveDir: filepath.Join(file, "sub")}); err == nil || !strings.Contains(err.Error(), "--save") {
		t.Errorf("a folder under a file: %v", err)
	}
	readOnly := filepath.Join(dir, "ro")
	os.Mkdir(readOnly, 0o555)
	if f, err := os.Create(filepath.Join(readOnly, "x")); err == nil {
		f.Close()
		t.Log("running with permission to write a read-only folder (root?): skipping that case")
	} else if err := Preflight(sp, Options{SaveDir: readOnly}); err == nil || !strings.Contains(err.Error(), "cannot write model files there") {
		t.Errorf("a read-only --save: %v", err)
	}
	ok := filepath.Join(dir, "models")
	if err := Preflight(sp, Options{SaveDir: ok}); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(ok); len(entries) != 0 {
		t.Errorf("the check left %d files behind", len(entries))
	}
}

func TestTableKinds(t *testing.T) {
	sp := parseValid(t, strings.Replace(validSpec, "compress:\n", "compress:\n  - {technique: bit-sensitivity}\n  - {technique: sensitivity}\n  - {technique: bit-sensitivity, bit_widths: [2]}\n", 1))
	got := TableKinds(sp)
	if len(got) != 2 || got[0] != results.Bits || got[1] != results.Pruning {
		t.Errorf("TableKinds = %v, want [bits pruning]", got)
	}
	if got := TableKinds(spec.Spec{}); len(got) != 0 {
		t.Errorf("no steps: %v", got)
	}
}
