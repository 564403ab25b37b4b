"""Load pruner-tui's .safetensors exports (run --save DIR writes one per
row) into PyTorch from their metadata alone and score them on the MNIST
or Fashion-MNIST test set.

Needs only torch: the file is read by hand (an 8-byte length, a JSON
header, the raw data). Its "__metadata__" gives everything else:

  layers   the layers in order (JSON): dense (units; rank: factorized into
           NAME.A then NAME.B), conv (filters, kernel, stride, padding;
           rank: a kernel×kernel conv to rank channels, then a 1×1 one),
           maxpool (size, stride), flatten, relu, dropout, act-quant
           (range: the activation fake-quantizer before a weight layer);
           bits and pruned say what was done to the weights, which the
           file holds as float32
  input    {"shape", "scale", "mean", "std"}: x = (raw · scale − mean) / std (JSON)
  dataset  mnist or fashion-mnist

Prints one JSON object per file: its technique, setting and test accuracy.

  python3 score.py --data DIR [--test-limit N] FILE.safetensors ...
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys

import torch
from torch import nn


def read_safetensors(path):
    """The tensors (name → float32 tensor) and the metadata of a file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} is past the end of the file")
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    tensors, body = {}, data[8 + n :]
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} has dtype {t['dtype']}: this script reads F32")
        begin, end = t["data_offsets"]
        values = torch.frombuffer(bytearray(body[begin:end]), dtype=torch.float32)
        if sys.byteorder == "big":
            values = values.byteswap()
        tensors[name] = values.reshape(t["shape"])
    return tensors, metadata


class Factored(nn.Module):
    """A factorized layer: A then B (tensors NAME.A.*, NAME.B.*)."""

    def __init__(self, a, b):
        super().__init__()
        self.A, self.B = a, b

    def forward(self, x):
        return self.B(self.A(x))


class ActQuant(nn.Module):
    """pruner-tui's activation fake-quantizer: q = clamp(round(x/scale) + zero_point)
    on the code range, x ← (q − zero_point)·scale."""

    def __init__(self, bits, r):
        super().__init__()
        self.scale, self.zero = r["scale"], r["zero_point"]
        self.lo, self.hi = (-(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1) if r["symmetric"] else (0, 2**bits - 1)

    def forward(self, x):
        if self.scale == 0:
            return torch.zeros_like(x)
        # Go rounds halves away from zero, torch.round to even.
        q = torch.sign(x.double() / self.scale) * torch.floor(torch.abs(x.double() / self.scale) + 0.5) + self.zero
        return ((q.clamp(self.lo, self.hi) - self.zero) * self.scale).float()


def conv_out(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def build(layers, shape):
    """The modules of the metadata's layers for inputs of shape, by name,
    each with its kind."""
    out = []
    for l in layers:
        kind, rank = l["type"], l.get("rank", 0)
        if kind == "dense":
            n = math.prod(shape)
            units = l["units"]
            module = Factored(nn.Linear(n, rank, bias=False), nn.Linear(rank, units)) if rank else nn.Linear(n, units)
            shape = [units]
        elif kind == "conv":
            k, s, p, f = l["kernel"], l.get("stride", 1), l.get("padding", 0), l["filters"]
            if rank:
                module = Factored(nn.Conv2d(shape[0], rank, k, s, p, bias=False), nn.Conv2d(rank, f, 1))
            else:
                module = nn.Conv2d(shape[0], f, k, s, p)
            shape = [f, conv_out(shape[1], k, s, p), conv_out(shape[2], k, s, p)]
        elif kind == "maxpool":
            k, s = l["size"], l.get("stride", l["size"])
            module, shape = nn.MaxPool2d(k, s), [shape[0], conv_out(shape[1], k, s, 0), conv_out(shape[2], k, s, 0)]
        elif kind == "flatten":
            module, shape = nn.Flatten(), [math.prod(shape)]
        elif kind == "relu":
            module = nn.ReLU()
        elif kind == "dropout":
            module = nn.Dropout(l.get("rate", 0))
        elif kind == "act-quant":
            module = ActQuant(l["bits"], l["range"])
        else:
            raise ValueError(f"layer {l['name']}: unknown type {kind!r}")
        out.append((l["name"], kind, module))
    return out


class Net(nn.Module):
    def __init__(self, layers, shape):
        super().__init__()
        self.kinds = []
        for name, kind, module in build(layers, shape):
            if "." in name and any(True for _ in module.parameters()):
                raise ValueError(f"layer {name}: a name with '.' does not make a torch module name")
            # A layer without weights (fc1.actquant) needs no tensor name.
            self.add_module(name.replace(".", "_"), module)
            self.kinds.append((kind, module))

    def forward(self, x):
        for kind, module in self.kinds:
            # pruner-tui's dense layers take an image as the vector of its
            # values, in PyTorch's (channel, row, column) order.
            if kind == "dense" and x.dim() > 2:
                x = x.flatten(1)
            x = module(x)
        return x


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim :]), dtype=torch.uint8).reshape(dims)


def test_set(folder, inp, limit=0):
    """The test images (the first limit, or all) prepared as the
    metadata's input says, and labels."""
    x = read_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz")).long()
    if limit:
        x, y = x[:limit], y[:limit]
    x = ((x.double() * inp["scale"] - inp["mean"]) / inp["std"]).float()
    return x.reshape([len(x)] + inp["shape"]), y


def score(path, data, limit=0):
    tensors, meta = read_safetensors(path)
    inp = json.loads(meta["input"])
    model = Net(json.loads(meta["layers"]), inp["shape"])
    model.load_state_dict(tensors, strict=True)  # names and shapes, one by one
    model.eval()
    x, y = test_set(data, inp, limit)
    with torch.no_grad():
        right = sum(int((model(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum()) for i in range(0, len(x), 1000))
    return {"file": path, "technique": meta.get("technique", ""), "setting": meta.get("setting", ""),
            "test_acc": 100 * right / len(x), "correct": right, "total": len(x)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder with the dataset's four .gz files (the metadata's dataset)")
    p.add_argument("--test-limit", type=int, default=0, help="score on the first N test images only (0: all)")
    p.add_argument("files", nargs="+")
    args = p.parse_args()
    torch.set_num_threads(2)
    for path in args.files:
        print(json.dumps(score(path, args.data, args.test_limit)), flush=True)


if __name__ == "__main__":
    main()
