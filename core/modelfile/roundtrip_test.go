package modelfile

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/prune"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// mlp returns an in → hidden… → out model with ReLUs, random weights and
// biases drawn from seed.
func mlp(seed uint64, sizes ...int) *nn.Sequential {
	rng := rand.New(rand.NewPCG(seed, 11))
	m := &nn.Sequential{}
	for i := 0; i+1 < len(sizes); i++ {
		d := nn.NewDense("fc"+string(rune('1'+i)), sizes[i], sizes[i+1], rng)
		for j := range d.B.Value.Data {
			d.B.Value.Data[j] = float32(0.1 * rng.NormFloat64())
		}
		if i > 0 {
			m.Layers = append(m.Layers, nn.NewReLU("relu"+string(rune('0'+i))))
		}
		m.Layers = append(m.Layers, d)
	}
	return m
}

func input(rows, cols int, seed uint64) nn.Matrix {
	rng := rand.New(rand.NewPCG(seed, 12))
	x := nn.NewMatrix(rows, cols)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

// canonical maps −0 to +0: the only change a round trip may make.
func canonical(v []float32) []uint32 {
	b := make([]uint32, len(v))
	for i, x := range v {
		if x == 0 {
			x = 0
		}
		b[i] = math.Float32bits(x)
	}
	return b
}

func roundTrip(t *testing.T, m *nn.Sequential, o WriteOptions) (*nn.Sequential, []byte) {
	t.Helper()
	var buf bytes.Buffer
	n, err := Write(&buf, m, o)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("Write returned %d, wrote %d bytes", n, buf.Len())
	}
	if size, err := Size(m, o); err != nil || size != n {
		t.Errorf("Size = %d, %v; Write wrote %d", size, err, n)
	}
	back, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return back, buf.Bytes()
}

// sameModel checks layer kinds, names, shapes, Bits, bias presence, masks
// (as W ≠ 0), weights and biases bit for bit (−0 as +0), and identical
// outputs on a batch.
func sameModel(t *testing.T, what string, want, got *nn.Sequential) {
	t.Helper()
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("%s: %d layers, want %d", what, len(got.Layers), len(want.Layers))
	}
	for i, wl := range want.Layers {
		gl := got.Layers[i]
		if gl.Name() != wl.Name() || gl.Stats().Kind != wl.Stats().Kind {
			t.Fatalf("%s: layer %d is %s %q, want %s %q", what, i, gl.Stats().Kind, gl.Name(), wl.Stats().Kind, wl.Name())
		}
	}
	wd, gd := nn.WeightLayers(want), nn.WeightLayers(got)
	if len(wd) != len(gd) {
		t.Fatalf("%s: %d weight layers, want %d", what, len(gd), len(wd))
	}
	for i, w := range wd {
		g := gd[i]
		if g.LayerName != w.LayerName || g.In != w.In || g.Out != w.Out || g.Bits != w.Bits || g.HasBias() != w.HasBias() {
			t.Errorf("%s: %s %d×%d bits %d bias %v, want %s %d×%d bits %d bias %v", what,
				g.LayerName, g.In, g.Out, g.Bits, g.HasBias(), w.LayerName, w.In, w.Out, w.Bits, w.HasBias())
		}
		if !slices.Equal(canonical(g.W.Value.Data), canonical(w.W.Value.Data)) {
			t.Errorf("%s: %s weights differ", what, w.LayerName)
		}
		if w.HasBias() && !slices.Equal(canonical(g.B.Value.Data), canonical(w.B.Value.Data)) {
			t.Errorf("%s: %s biases differ", what, w.LayerName)
		}
		if (w.W.Mask == nil) != (g.W.Mask == nil) {
			t.Errorf("%s: %s mask present %v, want %v", what, w.LayerName, g.W.Mask != nil, w.W.Mask != nil)
		} else if g.W.Mask != nil {
			for k, mv := range g.W.Mask {
				if (mv == 1) != (w.W.Value.Data[k] != 0) {
					t.Errorf("%s: %s mask[%d] = %v for weight %v", what, w.LayerName, k, mv, w.W.Value.Data[k])
					break
				}
			}
		}
	}
	if len(wd) > 0 {
		x := input(16, inputWidth(want), 99)
		a := want.Forward(x, false).Clone()
		b := got.Forward(x, false)
		if !slices.Equal(canonical(a.Data), canonical(b.Data)) {
			t.Errorf("%s: outputs differ", what)
		}
	}
}

// inputWidth is the width of m's input rows.
func inputWidth(m *nn.Sequential) int {
	if c, ok := m.Layers[0].(*nn.Conv2D); ok {
		return c.In.Size()
	}
	return nn.WeightLayers(m)[0].In
}

func pruneAll(t *testing.T, m *nn.Sequential, ratio float64) {
	t.Helper()
	for _, d := range nn.WeightLayers(m) {
		if err := prune.Prune([]*nn.Dense{d}, ratio, prune.Options{}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRoundTripIsExact(t *testing.T) {
	type model struct {
		name  string
		build func(t *testing.T) *nn.Sequential
	}
	models := []model{
		{"dense", func(t *testing.T) *nn.Sequential { return mlp(1, 12, 9, 4) }},
		{"pruned 80%", func(t *testing.T) *nn.Sequential {
			m := mlp(2, 12, 9, 4)
			pruneAll(t, m, 0.8)
			return m
		}},
		{"pruned 99%", func(t *testing.T) *nn.Sequential {
			m := mlp(3, 40, 30, 4)
			pruneAll(t, m, 0.99)
			return m
		}},
		{"clustered k=16", func(t *testing.T) *nn.Sequential {
			m := mlp(4, 12, 9, 4)
			if _, err := quant.ClusterModel(m, 16, quant.InitLinear, 10, nil); err != nil {
				t.Fatal(err)
			}
			return m
		}},
		{"pruned + clustered + tuned", func(t *testing.T) *nn.Sequential {
			m := mlp(5, 12, 9, 4)
			pruneAll(t, m, 0.7)
			books, err := quant.ClusterModel(m, 8, quant.InitDensity, 10, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range books {
				for i := range b.Dense.W.Grad.Data {
					b.Dense.W.Grad.Data[i] = float32(i%7) - 3
				}
				b.Step(0.01)
			}
			return m
		}},
		{"low-rank, factors pruned and quantized", func(t *testing.T) *nn.Sequential {
			m := mlp(6, 12, 9, 4)
			if err := lowrank.FactorizeModel(m, "fc1", 3); err != nil {
				t.Fatal(err)
			}
			l := m.Layers[0].(*lowrank.Layer)
			if err := prune.Prune([]*nn.Dense{l.First}, 0.5, prune.Options{}); err != nil {
				t.Fatal(err)
			}
			if _, err := quant.Quantize(l.Second, quant.Options{Bits: 4, Asymmetric: true}); err != nil {
				t.Fatal(err)
			}
			return m
		}},
		{"everything", func(t *testing.T) *nn.Sequential {
			m := mlp(7, 12, 10, 8, 4)
			if err := lowrank.FactorizeModel(m, "fc2", 2); err != nil {
				t.Fatal(err)
			}
			pruneAll(t, m, 0.6)
			ws := nn.WeightLayers(m)
			if _, err := quant.Cluster(ws[0], 8, quant.InitLinear, 10); err != nil {
				t.Fatal(err)
			}
			if _, err := quant.QuantizeModel(m, quant.Options{Bits: 3}, []string{"fc2"}); err != nil {
				t.Fatal(err)
			}
			if _, err := quant.QuantizeModel(m, quant.Options{Bits: 1}, []string{"fc3"}); err != nil {
				t.Fatal(err)
			}
			ranges, err := quant.CalibrateActivations(m, input(20, 12, 8), quant.ActivationOptions{})
			if err != nil {
				t.Fatal(err)
			}
			q, err := quant.WithActivationQuant(m, ranges)
			if err != nil {
				t.Fatal(err)
			}
			q.Layers = append(q.Layers[:2], append([]nn.Layer{nn.NewDropout("drop", 0.25, 1)}, q.Layers[2:]...)...)
			return q
		}},
	}
	for _, mm := range models {
		m := mm.build(t)
		var sizes []int
		for _, o := range []WriteOptions{{}, {Huffman: true}, {Uncompressed: true}} {
			back, file := roundTrip(t, m, o)
			sameModel(t, mm.name, m, back)
			sizes = append(sizes, len(file))
		}
		// Huffman only ever makes a stream smaller; compressed never exceeds
		// the dense float32 file.
		if sizes[1] > sizes[0] || sizes[0] > sizes[2] {
			t.Errorf("%s: sizes plain %d, Huffman %d, uncompressed %d", mm.name, sizes[0], sizes[1], sizes[2])
		}
	}
}

// Each quantizer's output is stored as uniform codes (not floats) and reads
// back exactly, in every mode and bit width.
func TestQuantizedLayersStoreAsCodes(t *testing.T) {
	for bits := 1; bits <= 8; bits++ {
		for _, o := range []quant.Options{
			{Bits: bits}, {Bits: bits, Asymmetric: true}, {Bits: bits, PerTensor: true},
			{Bits: bits, Asymmetric: true, PerTensor: true}, {Bits: bits, Percentile: 95},
		} {
			m := mlp(uint64(10+bits), 64, 48, 4)
			pruneAll(t, m, 0.5)
			if _, err := quant.QuantizeModel(m, o, nil); err != nil {
				t.Fatal(err)
			}
			back, file := roundTrip(t, m, WriteOptions{Huffman: true})
			sameModel(t, o.String(), m, back)
			s, err := Inspect(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			fc1 := s.Layers[0].Tensors[0]
			if fc1.Encoding == "f32" {
				t.Errorf("%v: fc1 stored as float32, want codes", o)
			}
			// Codes plus scales beat float32 by far: at most (bits + 16)
			// per non-zero weight, positions included, at 50% density.
			if bpnz := fc1.BitsPerNonZero(); bpnz > float64(bits)+16 {
				t.Errorf("%v: %.1f bits per non-zero weight", o, bpnz)
			}
		}
	}
}

// A hand-assembled file: one Dense layer "fc", 4×1, weights [0 0 7 0],
// bias 0.5. The smallest form is sparse-out with g = 1 (E = 1: the gap of
// 2 is two escapes then 0) and the one value as float32:
//
//	payload: g=1, count=3, stream(fixed, 1 byte: bits 1,1,0 = 0x03), f32(7), then f32(0.5)
func TestFileBytesByHand(t *testing.T) {
	d := &nn.Dense{LayerName: "fc", In: 4, Out: 1,
		W: &nn.Param{Name: "fc.W", Value: nn.Matrix{Rows: 4, Cols: 1, Data: []float32{0, 0, 7, 0}}, Grad: nn.NewMatrix(4, 1)},
		B: &nn.Param{Name: "fc.b", Value: nn.Matrix{Rows: 1, Cols: 1, Data: []float32{0.5}}, Grad: nn.NewMatrix(1, 1)},
	}
	m := &nn.Sequential{Layers: []nn.Layer{d}}
	header := []byte{
		0x01,           // one layer
		0x01,           // dense
		0x02, 'f', 'c', // name
		0x04, 0x01, // In, Out
		0x00, // Bits
		0x01, // flags: bias
		0x01, // layout sparse-out
		0x00, // values f32
		0x01, // stored
		0x09, // weight payload bytes
	}
	payload := []byte{
		0x01, 0x03, // g = 1, 3 symbols
		0x00, 0x01, 0x03, // fixed width, 1 byte, 0b011
		0x00, 0x00, 0xe0, 0x40, // 7
		0x00, 0x00, 0x00, 0x3f, // bias 0.5
	}
	want := []byte("PRTM")
	want = binary.LittleEndian.AppendUint16(want, 1)
	want = binary.LittleEndian.AppendUint16(want, 0)
	want = binary.LittleEndian.AppendUint32(want, uint32(16+len(header)+len(payload)+4))
	want = binary.LittleEndian.AppendUint32(want, uint32(len(header)))
	want = append(want, header...)
	want = append(want, payload...)
	want = binary.LittleEndian.AppendUint32(want, crc32.ChecksumIEEE(want))
	for _, o := range []WriteOptions{{}, {Huffman: true}} {
		var buf bytes.Buffer
		if _, err := Write(&buf, m, o); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%+v:\n got % x\nwant % x", o, buf.Bytes(), want)
		}
	}
	back, err := Read(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, "by hand", m, back)

	// Uncompressed: dense layout, 4 float32 weights: 16 + 13 + 16 + 4 + 4 bytes.
	n, err := Size(m, WriteOptions{Uncompressed: true})
	if err != nil || n != 53 {
		t.Errorf("uncompressed size %d, %v; want 53", n, err)
	}
}

// A hand-checked uniform record: 2-bit symmetric per channel, codes
// −1, 0, 1 with scale r/1 per channel, stored as q = c + 1 in 2 bits with a
// shared M = 1, Z = 1.
func TestUniformRecordByHand(t *testing.T) {
	d := &nn.Dense{LayerName: "u", In: 4, Out: 2, Bits: 2,
		W: &nn.Param{Name: "u.W", Value: nn.Matrix{Rows: 4, Cols: 2, Data: []float32{
			0.5, -2, // row 0
			-0.5, 2,
			0.5, 0,
			0.5, 2,
		}}, Grad: nn.NewMatrix(4, 2)},
		B: &nn.Param{Name: "u.b", Value: nn.NewMatrix(1, 2), Grad: nn.NewMatrix(1, 2)},
	}
	data, ok := encodeUniformForTest(d)
	if !ok {
		t.Fatal("no uniform encoding found")
	}
	want := []byte{
		groupChannel, 2, 1, // per channel, 2-bit codes, shared
		1, 1, 0, // M = 1, Z = 1 (i16)
		0x00, 0x00, 0x00, 0x3f, // R of channel 0: 0.5
		0x00, 0x00, 0x00, 0x40, // R of channel 1: 2
		codingFixed, 2, // 8 codes × 2 bits = 2 bytes
		// channel 0 (in order i = 0…3): c = 1, −1, 1, 1 → q = 2, 0, 2, 2;
		// channel 1: c = −1, 1, 0, 1 → q = 0, 2, 1, 2.
		// LSB first: 2 | 0<<2 | 2<<4 | 2<<6 = 0xa2; 0 | 2<<2 | 1<<4 | 2<<6 = 0x98.
		0xa2, 0x98,
	}
	if !bytes.Equal(data, want) {
		t.Errorf("uniform record\n got % x\nwant % x", data, want)
	}
}

// encodeUniformForTest runs the writer's uniform encoder on d in the dense
// layout ([out][in] order) and returns the shared, per-channel candidate.
func encodeUniformForTest(d *nn.Dense) ([]byte, bool) {
	var vals []float32
	var groups []int32
	for j := 0; j < d.Out; j++ {
		for i := 0; i < d.In; i++ {
			vals = append(vals, d.W.Value.At(i, j))
			groups = append(groups, int32(j))
		}
	}
	for _, c := range encodeUniform(vals, groups, d.Out, groupChannel, d.Bits, false) {
		if c.data[2] == 1 {
			return c.data, true
		}
	}
	return nil, false
}

func TestInspectSummary(t *testing.T) {
	m := mlp(20, 30, 20, 5)
	pruneAll(t, m, 0.9)
	if _, err := quant.ClusterModel(m, 4, quant.InitLinear, 10, []string{"fc1"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := Write(&buf, m, WriteOptions{Huffman: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Inspect(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if s.FileBytes != n || s.Version != 1 || len(s.Layers) != 3 {
		t.Fatalf("summary %+v", s)
	}
	fc1, relu, fc2 := s.Layers[0], s.Layers[1], s.Layers[2]
	if fc1.Kind != "dense" || fc1.In != 30 || fc1.Out != 20 || relu.Kind != "relu" || fc2.Name != "fc2" {
		t.Errorf("layers %+v", s.Layers)
	}
	t1 := fc1.Tensors[0]
	// 90% of 600 weights pruned: 60 non-zeros in 4 clusters (2-bit indices).
	if t1.NonZero != 60 || t1.Stored != 60 || t1.Encoding != "codebook" || t1.Centroids > 4 || t1.CodeBits != 2 || t1.Layout == "dense" || t1.Bits != 2 {
		t.Errorf("fc1 tensor %+v", t1)
	}
	if t1.BiasBytes != 80 || fc1.Bytes != t1.WeightBytes+80 {
		t.Errorf("fc1 bytes %d, tensor %+v", fc1.Bytes, t1)
	}
	var payload int64
	for _, l := range s.Layers {
		payload += l.Bytes
	}
	if 16+s.HeaderBytes+payload+4 != s.FileBytes {
		t.Errorf("header %d + payload %d + 20 ≠ file %d", s.HeaderBytes, payload, s.FileBytes)
	}
	if s.DenseBytes() != (600+20+100+5)*4 {
		t.Errorf("DenseBytes %d", s.DenseBytes())
	}
	if str := s.String(); !bytes.Contains([]byte(str), []byte("codebook")) || !bytes.Contains([]byte(str), []byte("fc2")) {
		t.Errorf("String():\n%s", str)
	}
}
