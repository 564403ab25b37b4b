"""Train LeNet-300-100 and LeNet-5 on MNIST in PyTorch and write each as a
.safetensors file that pruner-tui imports as it is (model: {from: FILE}).

Needs only torch: MNIST is read from its four IDX .gz files, and the
safetensors file is written by hand (an 8-byte length, a JSON header,
the raw float32 data), so the safetensors package is not needed. The
header's "__metadata__" records what a reader needs to run the tensors:

  layers   the layer list, as a pruner-tui spec's model.layers (JSON)
  input    {"shape": [1, 28, 28], "scale": 1/255, "mean": 0.1307, "std": 0.3081}:
           x = (pixel byte · scale − mean) / std (JSON)
  classes  the class names, in output order (JSON)
  dataset  "mnist"

Prints one JSON object per model: its file and its test accuracy on the
10,000 MNIST test images (or the first --test-limit), as PyTorch computes
it.

  python3 train.py --data DIR [--out DIR] [--epochs N] [--limit N] [--test-limit N] [--models lenet-300-100,lenet5]
"""

import argparse
import array
import gzip
import json
import math
import os
import struct
import sys

import torch
from torch import nn

SCALE, MEAN, STD = 1 / 255, 0.1307, 0.3081
INPUT = [1, 28, 28]

ARCHITECTURES = {
    "lenet-300-100": [
        {"type": "dense", "name": "fc1", "units": 300},
        {"type": "relu", "name": "relu1"},
        {"type": "dense", "name": "fc2", "units": 100},
        {"type": "relu", "name": "relu2"},
        {"type": "dense", "name": "fc3", "units": 10},
    ],
    # LeNet-5 as pruner-tui's lenet5 preset (Caffe's, with dropout).
    "lenet5": [
        {"type": "conv", "name": "conv1", "filters": 20, "kernel": 5},
        {"type": "maxpool", "name": "pool1", "size": 2},
        {"type": "conv", "name": "conv2", "filters": 50, "kernel": 5},
        {"type": "maxpool", "name": "pool2", "size": 2},
        {"type": "flatten", "name": "flatten1"},
        {"type": "dense", "name": "fc1", "units": 500},
        {"type": "relu", "name": "relu1"},
        {"type": "dropout", "name": "dropout1", "rate": 0.5},
        {"type": "dense", "name": "fc2", "units": 10},
    ],
}


def read_idx(path):
    """The array of an IDX file (gzip-compressed), as a uint8 tensor."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim :]), dtype=torch.uint8).reshape(dims)


def load_mnist(folder, split, limit=0):
    """Images as N×1×28×28 float32, (p·scale − mean)/std in float64 first
    (as pruner-tui prepares them), and labels."""
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(folder, prefix + "-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(folder, prefix + "-labels-idx1-ubyte.gz"))
    if limit:
        x, y = x[:limit], y[:limit]
    x = ((x.double() * SCALE - MEAN) / STD).float().unsqueeze(1)
    return x, y.long()


class Net(nn.Module):
    """The layers of an architecture, named as pruner-tui names tensors
    (fc1.weight, conv1.bias); a dense layer fed an image flattens it."""

    def __init__(self, layers, shape):
        super().__init__()
        self.kinds = []
        for l in layers:
            kind, name = l["type"], l["name"]
            if kind == "dense":
                module, shape = nn.Linear(math.prod(shape), l["units"]), [l["units"]]
            elif kind == "conv":
                k, s, p = l["kernel"], l.get("stride", 1), l.get("padding", 0)
                module = nn.Conv2d(shape[0], l["filters"], k, s, p)
                shape = [l["filters"], (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1]
            elif kind == "maxpool":
                k, s = l["size"], l.get("stride", l["size"])
                module, shape = nn.MaxPool2d(k, s), [shape[0], (shape[1] - k) // s + 1, (shape[2] - k) // s + 1]
            elif kind == "flatten":
                module, shape = nn.Flatten(), [math.prod(shape)]
            elif kind == "relu":
                module = nn.ReLU()
            elif kind == "dropout":
                module = nn.Dropout(l.get("rate", 0))
            else:
                raise ValueError(f"layer {name}: type {kind!r} is not one this script trains")
            self.add_module(name, module)
            self.kinds.append((kind, module))

    def forward(self, x):
        for kind, module in self.kinds:
            if kind == "dense" and x.dim() > 2:
                x = x.flatten(1)
            x = module(x)
        return x


def accuracy(model, x, y):
    """Percent of x classified as y, and the count right."""
    model.eval()
    with torch.no_grad():
        right = sum(int((model(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum()) for i in range(0, len(x), 1000))
    return 100 * right / len(x), right


def train(model, x, y, epochs, seed):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        for batch in torch.randperm(len(x), generator=gen).split(64):
            opt.zero_grad()
            loss(model(x[batch]), y[batch]).backward()
            opt.step()
        print(f"epoch {epoch + 1}/{epochs} done", file=sys.stderr)


def write_safetensors(path, tensors, metadata):
    """Writes the float32 tensors (a name → tensor dict) in the
    safetensors format: u64 LE header length, JSON header padded with
    spaces to a multiple of 8, then the data, little-endian."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        values = array.array("f", t.detach().float().contiguous().flatten().tolist())
        if sys.byteorder == "big":
            values.byteswap()
        blob = values.tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for blob in blobs:
            f.write(blob)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder with the four MNIST .gz files")
    p.add_argument("--out", default=".", help="folder the .safetensors files go to")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all 60,000)")
    p.add_argument("--test-limit", type=int, default=0, help="score on the first N test images only (0: all 10,000)")
    p.add_argument("--models", default="lenet-300-100,lenet5")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    x, y = load_mnist(args.data, "train", args.limit)
    tx, ty = load_mnist(args.data, "test", args.test_limit)
    for name in args.models.split(","):
        layers = ARCHITECTURES[name]
        model = Net(layers, INPUT)
        train(model, x, y, args.epochs, args.seed)
        acc, right = accuracy(model, tx, ty)
        metadata = {
            "format": "pt",
            "producer": "examples/pytorch/train.py",
            "layers": json.dumps(layers),
            "input": json.dumps({"shape": INPUT, "scale": SCALE, "mean": MEAN, "std": STD}),
            "classes": json.dumps([str(d) for d in range(10)]),
            "dataset": "mnist",
        }
        path = os.path.join(args.out, name + ".safetensors")
        write_safetensors(path, model.state_dict(), metadata)
        print(json.dumps({"model": name, "file": path, "test_acc": acc, "correct": right, "total": len(tx)}), flush=True)


if __name__ == "__main__":
    main()
