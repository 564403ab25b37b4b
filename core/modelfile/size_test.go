package modelfile

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// entropyBits is the empirical entropy of the symbols, in bits per symbol.
func entropyBits(symbols []int) float64 {
	count := map[int]int{}
	for _, s := range symbols {
		count[s]++
	}
	var h float64
	for _, c := range count {
		p := float64(c) / float64(len(symbols))
		h -= p * math.Log2(p)
	}
	return h
}

// Deep Compression on a LeNet-300-100-shaped model (784-300-100-10):
// prune 95% of every layer, share each layer's weights among 32 centroids
// (5-bit indices), write with Huffman coding.
//
// Dense float32: (784·300 + 300·100 + 100·10)·4 + (300+100+10)·4 = 1,066,440 bytes.
//
// The writer keeps the smallest exact encoding, so the file is no larger
// than one particular choice per layer: non-zeros in [out][in] order with
// 8-bit relative indices (a gap of ≥ 255 zeros costs an extra escape
// symbol) and 5-bit indices into a 32-entry float32 codebook. That gives
// the fixed-width bound below, about 8 + 5 = 13 bits per non-zero weight
// (≈ 40×). With Huffman coding each stream takes at most n·(H + 1) bits for
// its n symbols of empirical entropy H (Huffman's bound) plus its table,
// which gives the entropy bound, measured here rather than assumed: on
// random weights the gaps at 5% density carry about H(0.05)/0.05 ≈ 5.7
// bits and the shared-weight indices, crowded at the two tails of the
// pruned distribution, about 4.
func TestDeepCompressionLeNetSize(t *testing.T) {
	m := mlp(60, 784, 300, 100, 10)
	pruneAll(t, m, 0.95)
	if _, err := quant.ClusterModel(m, 32, quant.InitLinear, 20, nil); err != nil {
		t.Fatal(err)
	}
	const denseBytes = 1066440
	var fixedBound, entropyBound float64
	fixedBound = 16 + 4 + 128 // fixed header, checksum, a generous layer table
	entropyBound = fixedBound
	for _, d := range nn.WeightLayers(m) {
		var gaps, idx []int
		var centroids []float32
		next := 0
		for j := 0; j < d.Out; j++ {
			for i := 0; i < d.In; i++ {
				v := d.W.Value.At(i, j)
				if v == 0 {
					continue
				}
				p := j*d.In + i
				gap := p - next
				for gap >= 255 {
					gaps = append(gaps, 255)
					gap -= 255
				}
				gaps = append(gaps, gap)
				next = p + 1
				if !slices.Contains(centroids, v) {
					centroids = append(centroids, v)
				}
			}
		}
		slices.Sort(centroids)
		for j := 0; j < d.Out; j++ {
			for i := 0; i < d.In; i++ {
				if v := d.W.Value.At(i, j); v != 0 {
					k, _ := slices.BinarySearch(centroids, v)
					idx = append(idx, k)
				}
			}
		}
		if len(centroids) > 32 {
			t.Fatalf("%s: %d distinct values after clustering to 32", d.LayerName, len(centroids))
		}
		const streamOverhead = 1 + 3 + 3 // coding byte, symbol count and data length varints
		tables := 4*float64(len(centroids)) + 2 + 2*streamOverhead + float64(4*d.Out)
		fixedBound += tables + math.Ceil(float64(len(gaps))*8/8) + math.Ceil(float64(len(idx))*5/8)
		entropyBound += tables +
			math.Ceil(float64(len(gaps))*(entropyBits(gaps)+1)/8) + 1 + 128 + // gap table: ≤ 256 nibbles
			math.Ceil(float64(len(idx))*(entropyBits(idx)+1)/8) + 1 + 16 // index table: ≤ 32 nibbles
		t.Logf("%s: %d non-zeros, gap entropy %.2f bits, index entropy %.2f bits", d.LayerName, len(idx), entropyBits(gaps), entropyBits(idx))
	}
	plain, err := Size(m, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	huff, err := Write(&buf, m, WriteOptions{Huffman: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dense %d B; fixed-width file %d B (%.1f×, bound %.0f B); Huffman file %d B (%.1f×, bound %.0f B = %.1f×)",
		denseBytes, plain, denseBytes/float64(plain), fixedBound, huff, denseBytes/float64(huff), entropyBound, denseBytes/entropyBound)
	if float64(plain) > fixedBound {
		t.Errorf("fixed-width file %d B exceeds the bound %.0f B", plain, fixedBound)
	}
	if float64(huff) > entropyBound {
		t.Errorf("Huffman file %d B exceeds the entropy bound %.0f B", huff, entropyBound)
	}
	if ratio := denseBytes / float64(huff); ratio < 40 {
		t.Errorf("compression %.1f×, want ≥ 40× (Han et al.'s LeNet-300-100 result)", ratio)
	}
	if huff >= plain {
		t.Errorf("Huffman coding did not help: %d B vs %d B", huff, plain)
	}
	back, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, "LeNet-300-100", m, back)
}
