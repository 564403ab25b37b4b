// Package bench measures how fast the numerics run on this machine: the
// GEMM kernels against gonum's, a LeNet-300-100 training epoch, and
// inference of its dense, pruned, int8 and low-rank forms (Run, printed by
// WriteTable as `pruner-tui bench` does), and the forward-pass latency the
// experiment tables report (Latency).
//
// Timings are medians over repeated runs. Run interleaves the candidates it
// compares (each round runs every one in turn), so load from other
// processes on shared cores slows them alike and the speedups compare
// within one run.
package bench
