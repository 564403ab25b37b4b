package modelfile

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
)

// smallFile is a valid file with every layer kind and encoding in a few
// hundred bytes.
func smallFile(t testing.TB, huffman bool) []byte {
	m := mlp(30, 6, 5, 4, 3)
	if err := lowrank.FactorizeModel(m, "fc2", 1); err != nil {
		t.Fatal(err)
	}
	ws := nn.WeightLayers(m)
	ws[0].W.Mask = make([]float32, len(ws[0].W.Value.Data))
	for i := range ws[0].W.Mask {
		ws[0].W.Mask[i] = float32(i % 2)
	}
	ws[0].W.ApplyMask()
	if _, err := quant.Cluster(ws[0], 4, quant.InitLinear, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := quant.Quantize(ws[3], quant.Options{Bits: 3}); err != nil {
		t.Fatal(err)
	}
	m.Layers = append(m.Layers, nn.NewDropout("drop", 0.5, 1))
	m.Layers = append([]nn.Layer{quant.NewActQuant(quant.ActivationRange{Layer: "fc1", Bits: 8, Min: -1, Max: 2, Scale: 3.0 / 255, ZeroPoint: 85})}, m.Layers...)
	var buf bytes.Buffer
	if _, err := Write(&buf, m, WriteOptions{Huffman: huffman}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withCRC returns data with its last four bytes replaced by the CRC-32 of
// the rest, so a test reaches the checks behind the checksum.
func withCRC(data []byte) []byte {
	out := append([]byte(nil), data...)
	if len(out) >= 4 {
		binary.LittleEndian.PutUint32(out[len(out)-4:], crc32.ChecksumIEEE(out[:len(out)-4]))
	}
	return out
}

func readErr(data []byte) error {
	_, err := Read(bytes.NewReader(data))
	return err
}

func TestEveryBitFlipIsCaught(t *testing.T) {
	file := smallFile(t, true)
	for i := range file {
		for bit := 0; bit < 8; bit++ {
			bad := append([]byte(nil), file...)
			bad[i] ^= 1 << bit
			if err := readErr(bad); err == nil {
				t.Fatalf("flipping bit %d of byte %d went unnoticed", bit, i)
			}
		}
	}
}

func TestEveryTruncationIsCaught(t *testing.T) {
	file := smallFile(t, false)
	for n := 0; n < len(file); n++ {
		err := readErr(file[:n])
		if err == nil {
			t.Fatalf("a file cut to %d of %d bytes was accepted", n, len(file))
		}
		if n >= minFileBytes && !strings.Contains(err.Error(), "truncated") {
			t.Errorf("cut to %d bytes: %v, want it to say truncated", n, err)
		}
	}
}

func TestCorruptFileMessages(t *testing.T) {
	file := smallFile(t, false)
	flipped := append([]byte(nil), file...)
	flipped[40] ^= 0x10
	versioned := append([]byte(nil), file...)
	versioned[4] = 2
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, `not a pruner-tui model file: it starts with "", want "PRTM"`},
		{"png", []byte("\x89PNG\r\n\x1a\n rest of an image"), "not a pruner-tui model file"},
		{"bit flip", flipped, "checksum mismatch: the file is corrupt"},
		{"version", versioned, "model file version 2 is not supported: this build reads version 1"},
		{"trailing", append(append([]byte(nil), file...), 0), "1 bytes of trailing data"},
		{"truncated", file[:len(file)-1], "the file is truncated"},
		{"short", []byte("PRTM\x01\x00"), "truncated"},
	}
	for _, c := range cases {
		err := readErr(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "read model file: ") {
			t.Errorf("%s: %q does not say it was reading a model file", c.name, err)
		}
		if _, err := Inspect(bytes.NewReader(c.data)); err == nil {
			t.Errorf("%s: Inspect accepted it", c.name)
		}
	}
}

// Past the checksum (recomputed here), the structural checks still hold:
// corrupt fields get errors that name what is wrong.
func TestStructuralErrorsBehindTheChecksum(t *testing.T) {
	file := smallFile(t, false)
	headerAt := 16
	cases := []struct {
		name  string
		patch func(b []byte)
		want  string
	}{
		{"flags", func(b []byte) { b[6] = 1 }, "header flags"},
		{"layer kind", func(b []byte) { b[headerAt+1] = 42 }, "layer kind 42 is unknown"},
		{"header length", func(b []byte) { binary.LittleEndian.PutUint32(b[12:], uint32(len(b))) }, "header length"},
	}
	for _, c := range cases {
		bad := append([]byte(nil), file...)
		c.patch(bad)
		err := readErr(withCRC(bad))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	type custom struct{ nn.ReLU }
	m := &nn.Sequential{Layers: []nn.Layer{&custom{}}}
	if _, err := Write(&bytes.Buffer{}, m, WriteOptions{}); err == nil || !strings.Contains(err.Error(), "a model file holds Dense, low-rank, convolution, max-pool, flatten, ReLU, Dropout and ActQuant layers") {
		t.Errorf("unknown layer: %v", err)
	}
	long := &nn.Sequential{Layers: []nn.Layer{nn.NewReLU(strings.Repeat("x", 300))}}
	if _, err := Write(&bytes.Buffer{}, long, WriteOptions{}); err == nil || !strings.Contains(err.Error(), "1–255 bytes") {
		t.Errorf("long name: %v", err)
	}
	if _, err := Write(&bytes.Buffer{}, nil, WriteOptions{}); err == nil {
		t.Error("nil model: no error")
	}
	d := mlp(1, 2, 2).Layers[0].(*nn.Dense)
	d.Bits = 40
	if _, err := Write(&bytes.Buffer{}, &nn.Sequential{Layers: []nn.Layer{d}}, WriteOptions{}); err == nil || !strings.Contains(err.Error(), "allowed 0–32") {
		t.Errorf("bits 40: %v", err)
	}
}

// FuzzRead feeds Read arbitrary bytes: it must return a model or an error,
// never panic, and a model it returns must write and read back the same.
// Each input is tried as is and with its checksum repaired, so mutations
// reach the parser behind the CRC. The seeds are valid files (every layer
// kind and encoding, with and without Huffman) and mutations of them.
func FuzzRead(f *testing.F) {
	for _, huffman := range []bool{false, true} {
		file := smallFile(f, huffman)
		f.Add(file)
		f.Add(file[:len(file)/2])
		for _, at := range []int{5, 12, 17, 20, 30, len(file) / 2, len(file) - 9} {
			bad := append([]byte(nil), file...)
			bad[at] ^= 0x5a
			f.Add(withCRC(bad))
		}
	}
	// A small convolutional model: the image layers' records.
	rng := rand.New(rand.NewPCG(6, 6))
	conv := nn.NewConv2D("conv", nn.Shape{H: 6, W: 6, C: 2}, 3, 3, 1, 1, nn.He, rng)
	pool := nn.NewMaxPool2D("pool", conv.Out, 2, 2)
	cm := &nn.Sequential{Layers: []nn.Layer{conv, pool, nn.NewFlatten("flat", pool.Out), nn.NewDense("fc", pool.Out.Size(), 2, rng)}}
	var cbuf bytes.Buffer
	if _, err := Write(&cbuf, cm, WriteOptions{Huffman: true}); err != nil {
		f.Fatal(err)
	}
	f.Add(cbuf.Bytes())
	for _, at := range []int{18, 20, 22, 24, 26} {
		bad := append([]byte(nil), cbuf.Bytes()...)
		bad[at] ^= 0x33
		f.Add(withCRC(bad))
	}
	f.Add([]byte("PRTM"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, withCRC(data)} {
			m, err := Read(bytes.NewReader(in))
			if err != nil {
				continue
			}
			weights := 0
			for _, d := range nn.WeightLayers(m) {
				weights += d.In * d.Out
			}
			if weights > 1<<16 {
				continue // a valid but large model: re-encoding it only slows the fuzzer
			}
			var buf bytes.Buffer
			if _, err := Write(&buf, m, WriteOptions{Huffman: true}); err != nil {
				// Read accepts what Write may refuse (e.g. a layer kind
				// mix), but never a file it cannot describe.
				if _, ierr := Inspect(bytes.NewReader(in)); ierr != nil {
					t.Fatalf("Read accepted a file Inspect refuses: %v", ierr)
				}
				continue
			}
			back, err := Read(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("a model read from a file does not read back after writing: %v", err)
			}
			sameModel(t, "fuzz", m, back)
		}
	})
}
