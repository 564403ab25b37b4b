package experiments

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/prunerlab/pruner-tui/experiments/results"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// fallbackMemory is the machine's memory where it cannot be read (no
// /proc/meminfo).
const fallbackMemory = 8 << 30

// Where the machine's memory is read: the kernel's total, and the
// cgroup (v2) limit of a container, which can be far lower.
var (
	meminfoPath = "/proc/meminfo"
	cgroupPath  = "/sys/fs/cgroup/memory.max"
)

// DefaultMaxMemory is the memory limit of a run when Options.MaxMemory is
// 0: three quarters of the machine's memory (the kernel's MemTotal, or a
// container's cgroup limit when lower), leaving the rest to the system;
// where neither can be read, three quarters of 8 GiB. from says where the
// figure came from, for messages.
func DefaultMaxMemory() (limit int64, from string) {
	total, from := machineMemory()
	return total / 4 * 3, fmt.Sprintf("¾ of %s, %s", spec.FormatBytes(total), from)
}

// machineMemory is the memory this process may use, and where the figure
// comes from.
func machineMemory() (int64, string) {
	total, from := int64(fallbackMemory), "assumed: this system does not say"
	if b, err := os.ReadFile(meminfoPath); err == nil {
		if kb, ok := meminfoTotal(b); ok {
			total, from = kb*1024, "the machine's memory"
		}
	}
	if b, err := os.ReadFile(cgroupPath); err == nil {
		// "max" when the container has no limit.
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && n < total {
			total, from = n, "the container's memory limit"
		}
	}
	return total, from
}

// meminfoTotal reads the MemTotal line of /proc/meminfo ("MemTotal:
// 24683664 kB").
func meminfoTotal(b []byte) (kb int64, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			n, err := strconv.ParseInt(fields[1], 10, 64)
			return n, err == nil && n > 0
		}
	}
	return 0, false
}

// Preflight checks what Run checks before it does any work: that s is
// valid, that its run fits in the memory limit (Options.MaxMemory, or
// DefaultMaxMemory), and that Options.SaveDir can take its model files
// (making the folder when missing). A command calls it before it writes
// or starts anything, to fail at once with a clear message.
func Preflight(s spec.Spec, opts Options) error {
	if err := s.Validate(); err != nil {
		return err
	}
	limit, from := opts.MaxMemory, "--max-memory"
	if limit == 0 {
		limit, from = DefaultMaxMemory()
	}
	if err := s.CheckMemory(limit, from); err != nil {
		return err
	}
	path, what, err := baselineFrom(s, opts)
	if err != nil {
		return err
	}
	if path != "" {
		if err := checkBaselineSteps(s, what); err != nil {
			return err
		}
		// The file is read into the spec's model, as the run will.
		if err := loadBaseline(path, what, buildModel(s.Resolved())); err != nil {
			return err
		}
	}
	return checkSaveDir(opts.SaveDir, s.Resolved())
}

// maxTechniqueLength is more than the longest technique column
// ("prune-structured-iterative").
const maxTechniqueLength = 32

// checkSaveDir checks that dir is a folder a run can write its model
// files to, making it when missing: it writes and removes a file named as
// long as the longest the run of s may write, so neither a read-only
// folder nor a file system with short names fails after the training.
func checkSaveDir(dir string, s spec.Spec) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--save %s: %w", dir, err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--save %s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("--save %s: not a directory", dir)
	}
	row := results.Row{Experiment: s.Name, Technique: strings.Repeat("x", maxTechniqueLength)}
	longest := len(RowFileStem(row, 99)) + len(SafetensorsExt)
	f, err := os.CreateTemp(dir, "."+strings.Repeat("x", longest-1)+"*") // a few digits longer still
	if err != nil {
		return fmt.Errorf("--save %s: cannot write model files there: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
