package modelfile

import (
	"bytes"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// benchModel is LeNet-300-100 pruned 95% and clustered to 32 centroids.
func benchModel(b *testing.B) []byte {
	m := mlp(60, 784, 300, 100, 10)
	for _, d := range nn.WeightLayers(m) {
		if err := prune.Prune([]*nn.Dense{d}, 0.95, prune.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := quant.ClusterModel(m, 32, quant.InitLinear, 20, nil); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := Write(&buf, m, WriteOptions{Huffman: true}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkWriteLeNetDeepCompression(b *testing.B) {
	file := benchModel(b)
	m, err := Read(bytes.NewReader(file))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Size(m, WriteOptions{Huffman: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadLeNetDeepCompression(b *testing.B) {
	file := benchModel(b)
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		if _, err := Read(bytes.NewReader(file)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSizeLeNetKnob is what a knob preview asks: the file size of a
// lightly pruned (5%) float32 LeNet-300-100.
func BenchmarkSizeLeNetKnob(b *testing.B) {
	m := mlp(60, 784, 300, 100, 10)
	for _, d := range nn.WeightLayers(m) {
		if err := prune.Prune([]*nn.Dense{d}, 0.05, prune.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := Size(m, WriteOptions{Huffman: true}); err != nil {
			b.Fatal(err)
		}
	}
}
