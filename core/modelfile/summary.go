package modelfile

import (
	"fmt"
	"strings"

	"github.com/prunerlab/pruner-tui/internal/printable"
)

var (
	layoutNames = []string{"dense", "sparse-out", "sparse-in"}
	valueNames  = []string{"f32", "uniform", "codebook"}
)

// Summary is what a model file holds, as Inspect reads it.
type Summary struct {
	Version     int
	FileBytes   int64  // the whole file
	HeaderBytes int64  // the layer table
	Checksum    uint32 // CRC-32 (IEEE) of everything before it
	Layers      []LayerSummary
}

// LayerSummary describes one layer of the file.
type LayerSummary struct {
	Name    string
	Kind    string // "dense", "lowrank", "relu", "dropout", "actquant"
	In, Out int
	Rank    int             // low-rank layers
	Tensors []TensorSummary // one for dense, two (A, B) for low-rank
	Bytes   int64           // payload bytes: weights and biases
}

// TensorSummary describes how one weight matrix is stored.
type TensorSummary struct {
	Name     string
	In, Out  int
	Bits     int    // the layer's recorded bit width (nn.Dense.Bits; 0 = float32)
	Layout   string // "dense", "sparse-out" (by output channel), "sparse-in"
	Encoding string // "f32", "uniform", "codebook"
	Groups   string // "tensor" or "channel" for uniform and codebook
	CodeBits int    // bits per code or index before entropy coding; 32 for f32
	Huffman  bool   // the code or index stream is Huffman coded
	// GapBits is the relative-index field width of a sparse layout and
	// GapHuffman whether that stream is Huffman coded.
	GapBits    int
	GapHuffman bool
	Centroids  int // codebook entries, all groups
	Stored     int // values stored (In·Out for the dense layout)
	NonZero    int // non-zero weights
	// WeightBytes is the weight payload (positions, codebooks or scales,
	// codes); BiasBytes the float32 biases.
	WeightBytes, BiasBytes int64
}

// BitsPerNonZero is the weight payload in bits per non-zero weight:
// positions, codes and tables included.
func (t TensorSummary) BitsPerNonZero() float64 {
	if t.NonZero == 0 {
		return 0
	}
	return 8 * float64(t.WeightBytes) / float64(t.NonZero)
}

// DenseBytes is what the model would take as dense float32 weights and
// biases: the numerator of a compression ratio.
func (s Summary) DenseBytes() int64 {
	var n int64
	for _, l := range s.Layers {
		for _, t := range l.Tensors {
			n += int64(t.In)*int64(t.Out)*4 + t.BiasBytes
		}
	}
	return n
}

// String renders the summary as a table for a terminal, one line per
// tensor; names are escaped (printable.Escape), since a file may carry
// any bytes in them.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "model file v%d: %s (%d bytes, header %d), CRC-32 %08x\n", s.Version, FormatSize(s.FileBytes), s.FileBytes, s.HeaderBytes, s.Checksum)
	fmt.Fprintf(&b, "%-12s %-9s %-11s %-10s %-8s %6s %9s %9s %8s %9s\n", "layer", "kind", "shape", "layout", "encoding", "bits", "nonzero", "bytes", "bits/nz", "huffman")
	for _, l := range s.Layers {
		if len(l.Tensors) == 0 {
			fmt.Fprintf(&b, "%-12s %-9s\n", printable.Escape(l.Name), l.Kind)
			continue
		}
		for _, t := range l.Tensors {
			huff := "-"
			switch {
			case t.Huffman && t.GapHuffman:
				huff = "codes+gaps"
			case t.Huffman:
				huff = "codes"
			case t.GapHuffman:
				huff = "gaps"
			}
			fmt.Fprintf(&b, "%-12s %-9s %-11s %-10s %-8s %6d %9d %9d %8.2f %9s\n", printable.Escape(t.Name), l.Kind, FormatShape(t.In, t.Out),
				t.Layout, t.Encoding, t.CodeBits, t.NonZero, t.WeightBytes+t.BiasBytes, t.BitsPerNonZero(), huff)
		}
	}
	if dense := s.DenseBytes(); dense > 0 && s.FileBytes > 0 {
		fmt.Fprintf(&b, "dense float32: %s (%d bytes); compression %.1f×\n", FormatSize(dense), dense, float64(dense)/float64(s.FileBytes))
	}
	return b.String()
}
