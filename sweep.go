package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/prunerlab/pruner-tui/experiments"
	"github.com/prunerlab/pruner-tui/experiments/plot"
	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
	"github.com/prunerlab/pruner-tui/internal/printable"
)

// runSweep is `pruner-tui sweep`: every point of a spec's sweep, a line
// on stderr as each job ends, the table (or, with repeats, its
// statistics) on stdout and in --out.
func runSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep", stderr)
	out := fs.String("out", "", "write the sweep's table here (.csv, .md or .json); with repeats the statistics, every run beside them as NAME-runs.EXT")
	plotOut := fs.String("plot", "", "draw the Pareto frontier of test accuracy against size here (.png or .svg)")
	workers := fs.Int("workers", 0, "runs at once (default: the number of cores)")
	kernelThreads := fs.Int("kernel-threads", 0, "the most threads one matrix product may use (default: 1 with several workers, else the number of cores)")
	dataDir := fs.String("data", "", "folder with the MNIST .gz files")
	maxMemory := memoryFlag(fs)
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) != 1 {
		return fmt.Errorf("sweep takes one preset name or YAML file, got %d: try 'pruner-tui presets'", len(names))
	}
	if *workers < 0 {
		return fmt.Errorf("--workers must be ≥ 1 (or 0 for the number of cores), got %d", *workers)
	}
	s, err := spec.Load(names[0])
	if err != nil {
		return err
	}
	if err := checkSweepOutputs(*out, *plotOut, s); err != nil {
		return err
	}
	opts := experiments.Options{DataDir: *dataDir, MaxMemory: *maxMemory}
	limitMemory(opts)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, runErr := experiments.RunSweep(ctx, s, opts, experiments.SweepOptions{Workers: *workers, KernelThreads: *kernelThreads, Progress: func(p experiments.SweepProgress) {
		printSweepProgress(stderr, p)
	}})
	if len(report.Rows) > 0 {
		if err := writeSweepText(stdout, report); err != nil {
			return err
		}
		if *plotOut != "" {
			if err := plot.Pareto(*plotOut, s.Name+": test accuracy against size", report.ParetoPoints()); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "wrote the Pareto frontier to %s\n", *plotOut)
		}
		if *out != "" {
			if err := exportKeeping(report, *out, stderr); err != nil {
				return err
			}
		}
	}
	if errors.Is(runErr, context.Canceled) {
		return fmt.Errorf("interrupted: %d rows kept", len(report.Rows))
	}
	return runErr
}

// checkSweepOutputs checks before any work that the sweep's files can be
// written: the table (and its runs beside it) and the plot.
func checkSweepOutputs(out, plotOut string, s spec.Spec) error {
	if plotOut != "" {
		if _, err := plot.Format(plotOut); err != nil {
			return err
		}
		if info, err := os.Stat(filepath.Dir(plotOut)); err != nil || !info.IsDir() {
			return fmt.Errorf("plot %s: the folder %s does not exist", plotOut, filepath.Dir(plotOut))
		}
	}
	if out == "" {
		return nil
	}
	if err := results.CheckExport(out); err != nil {
		return err
	}
	if s.Sweep != nil && s.Sweep.Repeats > 1 {
		return results.CheckExport(results.RunsPath(out))
	}
	return nil
}

func printSweepProgress(w io.Writer, p experiments.SweepProgress) {
	what := fmt.Sprintf("%d rows", len(p.Rows))
	if len(p.Rows) == 1 {
		what = "1 row"
	}
	switch {
	case errors.Is(p.Err, context.Canceled):
		what = "cancelled"
	case p.Err != nil:
		what = "failed: " + p.Err.Error()
	}
	fmt.Fprintf(w, "[%*d/%d] %s: %s, %.1fs\n", len(fmt.Sprint(p.Total)), p.Done, p.Total, printable.Escape(p.Job), printable.Escape(what), p.Elapsed.Seconds())
}

// writeSweepText writes the statistics when the points ran with several
// seeds, the table of every run otherwise.
func writeSweepText(w io.Writer, r results.SweepReport) error {
	if r.Stats != nil {
		fmt.Fprintln(w, "mean ± standard deviation over the seeds; * Δ beyond noise (Welch's t-test, 95%)")
		return r.Stats.WriteText(w)
	}
	return r.Rows.WriteText(w)
}
