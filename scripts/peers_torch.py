"""PyTorch CPU timings of the networks pruner-tui trains, for scripts/peers.

Prints one JSON object: seconds per training epoch (Adam, batch 64, on
MNIST-sized random data: speed does not depend on the values; LeNet-5 timed
on a quarter of the epoch and scaled) and microseconds per inference
forward at batch 1 and 256, for LeNet-300-100 and LeNet-5 (Caffe variant),
plus torch.mm GFLOP/s on the GEMM shapes pruner-tui bench reports, on all
threads and on one. Needs only torch and numpy.

Refuses to report (exit 3) when numpy or torch run the reference BLAS: on
Debian both take their GEMM from libblas.so.3, which is the reference
implementation (~6 GFLOP/s) unless libopenblas0-pthread is installed, and
every comparison would be void.
"""

import argparse
import ctypes
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn


def loaded_blas():
    """The BLAS/LAPACK shared objects this process has mapped."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in path or "lapack" in path or "mkl" in path:
                    libs.add(path)
    except OSError:
        pass
    return sorted(libs)


def sgemm_gflops(mm, m, k, n, seconds=0.3):
    a = torch.randn(m, k)
    b = torch.randn(k, n)
    mm(a, b)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        mm(a, b)
        calls += 1
    return 2 * m * k * n * calls / (time.perf_counter() - start) / 1e9


def check_blas():
    """Exits with a message when the BLAS in use is the reference one."""
    libs = loaded_blas()
    reference = [p for p in libs if "/blas/" in p or p.endswith("/libblas.so.3") and "openblas" not in p]
    a = np.random.rand(256, 784).astype(np.float32)
    b = np.random.rand(784, 300).astype(np.float32)
    a @ b
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < 0.2:
        a @ b
        calls += 1
    numpy_gflops = 2 * 256 * 784 * 300 * calls / (time.perf_counter() - start) / 1e9
    torch_gflops = sgemm_gflops(torch.mm, 256, 784, 300, 0.2)
    if reference or numpy_gflops < 20 or torch_gflops < 20:
        print("peers_torch: numpy/torch run the reference BLAS "
              f"(numpy {numpy_gflops:.1f} GFLOP/s, torch {torch_gflops:.1f} GFLOP/s; "
              f"loaded: {', '.join(libs) or 'none found'}).\n"
              "Every comparison would be void. On Debian install OpenBLAS:\n"
              "  apt-get install libopenblas0-pthread\n"
              "(update-alternatives --display libblas.so.3-x86_64-linux-gnu shows the choice).",
              file=sys.stderr)
        sys.exit(3)
    return libs, numpy_gflops


def lenet300():
    return nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))


def lenet5():
    """LeNet-5 as in Caffe and Han et al. 2015 (431K parameters)."""
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(50 * 4 * 4, 500), nn.ReLU(), nn.Linear(500, 10))


def epoch_seconds(model, x, y, batch, fraction, runs=3):
    """Median over runs of one training pass over fraction of x, scaled to
    the whole epoch: Adam 1e-3, cross-entropy, shuffled batches."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    rows = max(batch, int(fraction * len(x)))

    def one(xs, ys):
        perm = torch.randperm(len(xs))
        for i in range(0, len(xs), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss_fn(model(xs[idx]), ys[idx]).backward()
            opt.step()

    one(x[:batch * 4], y[:batch * 4])  # warm-up
    times = []
    for run in range(runs):
        start = (run * rows) % (len(x) - rows + 1)
        t0 = time.perf_counter()
        one(x[start:start + rows], y[start:start + rows])
        times.append((time.perf_counter() - t0) * len(x) / rows)
    return statistics.median(times)


def infer_us(model, shape, batch, seconds):
    """Median microseconds per forward pass at batch, in rounds."""
    x = torch.randn(batch, *shape)
    model.eval()
    per_round = []
    with torch.no_grad():
        model(x)
        for _ in range(9):
            calls, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                model(x)
                calls += 1
            per_round.append((time.perf_counter() - start) / calls * 1e6)
    model.train()
    return statistics.median(per_round)


def blas_threads_setter(libs):
    """A function that sets OpenBLAS's threads, or None."""
    for path in libs:
        if "openblas" in path and ".so" in path:
            try:
                lib = ctypes.CDLL(path)
                return lambda n: lib.openblas_set_num_threads(n)
            except (OSError, AttributeError):
                pass
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads (default: the CPUs)")
    ap.add_argument("--quick", action="store_true", help="time parts of epochs and shorter inference rounds")
    args = ap.parse_args()
    libs, numpy_gflops = check_blas()
    set_blas = blas_threads_setter(libs)
    torch.manual_seed(0)
    fraction = 0.1 if args.quick else 1.0
    fraction5 = 0.05 if args.quick else 0.25
    round_s = 0.02 if args.quick else 0.1
    n = 60000
    x300 = torch.randn(n, 784)
    x5 = x300.view(n, 1, 28, 28)
    y = torch.randint(0, 10, (n,))
    t = args.threads
    # Debian's torch runs its GEMMs on OpenBLAS, whose own threads come on
    # top of torch's intra-op (OpenMP) threads: both at t oversubscribe the
    # cores (a LeNet-300-100 epoch 3× slower, measured). Each multi-thread
    # figure is the better of t intra-op threads over one-thread OpenBLAS
    # and one intra-op thread over t-thread OpenBLAS; which won is listed.
    configs = {f"torch {t}, OpenBLAS 1": (t, 1), f"torch 1, OpenBLAS {t}": (1, t)}
    if set_blas is None:
        configs = {f"torch {t}": (t, None)}
    r = {"torch_version": torch.__version__, "blas": libs, "numpy_gflops_256x784x300": numpy_gflops,
         "threads": t, "train_epoch_fraction": fraction, "train_epoch_fraction_lenet5": fraction5, "config": {}}

    def use(intra, blas):
        torch.set_num_threads(intra)
        if blas is not None and set_blas is not None:
            set_blas(blas)

    def best(key, measure, higher_is_better=False):
        results = {}
        for name, (intra, blas) in configs.items():
            use(intra, blas)
            results[name] = measure()
        pick = (max if higher_is_better else min)(results, key=results.get)
        r[key], r["config"][key] = results[pick], pick

    for m, k, n_ in [(64, 784, 300), (256, 784, 300), (64, 300, 100)]:
        best(f"gemm_gflops_{m}x{k}x{n_}", lambda: sgemm_gflops(torch.mm, m, k, n_), higher_is_better=True)
    best("train_epoch_s_b64", lambda: epoch_seconds(lenet300(), x300, y, 64, fraction))
    best("train_epoch_s_b256", lambda: epoch_seconds(lenet300(), x300, y, 256, fraction))
    best("infer_us_b1_dense", lambda: infer_us(lenet300(), (784,), 1, round_s))
    best("infer_us_b256_dense", lambda: infer_us(lenet300(), (784,), 256, round_s))
    best("train_epoch_s_lenet5_b64", lambda: epoch_seconds(lenet5(), x5, y, 64, fraction5, runs=3 if args.quick else 1))
    best("infer_us_b1_lenet5", lambda: infer_us(lenet5(), (1, 28, 28), 1, round_s))
    best("infer_us_b256_lenet5", lambda: infer_us(lenet5(), (1, 28, 28), 256, round_s))

    use(1, 1)
    for m, k, n_ in [(64, 784, 300), (256, 784, 300)]:
        r[f"gemm_gflops_1t_{m}x{k}x{n_}"] = sgemm_gflops(torch.mm, m, k, n_)
    r["train_epoch_s_b64_1t"] = epoch_seconds(lenet300(), x300, y, 64, fraction)
    json.dump(r, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
