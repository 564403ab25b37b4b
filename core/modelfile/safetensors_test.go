package modelfile

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
)

// tinyForSafetensors: fc1 2→3 with bias, ReLU, fc2 3→1 without bias.
func tinyForSafetensors() *nn.Sequential {
	fc1 := &nn.Dense{LayerName: "fc1", In: 2, Out: 3,
		W: &nn.Param{Name: "fc1.W", Value: nn.Matrix{Rows: 2, Cols: 3, Data: []float32{1, 2, 3, 4, 5, 6}}, Grad: nn.NewMatrix(2, 3)},
		B: &nn.Param{Name: "fc1.b", Value: nn.Matrix{Rows: 1, Cols: 3, Data: []float32{0.5, -0.5, 0.25}}, Grad: nn.NewMatrix(1, 3)},
	}
	fc2 := nn.NewDenseNoBias("fc2", 3, 1)
	copy(fc2.W.Value.Data, []float32{7, 8, 9})
	return &nn.Sequential{Layers: []nn.Layer{fc1, nn.NewReLU("relu"), fc2}}
}

func TestSafetensorsByHand(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, tinyForSafetensors()); err != nil {
		t.Fatal(err)
	}
	// fc1.weight is Wᵀ, [out, in] = [[1 4] [2 5] [3 6]]: 24 bytes; the bias
	// 12; fc2.weight [1, 3]: 12.
	// The metadata's values are strings; "layers" is JSON inside one.
	json := `{"__metadata__":{"format":"pt","layers":"[{\"type\":\"dense\",\"name\":\"fc1\",\"units\":3},` +
		`{\"type\":\"relu\",\"name\":\"relu\"},{\"type\":\"dense\",\"name\":\"fc2\",\"units\":1}]","producer":"pruner-tui"},` +
		`"fc1.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},` +
		`"fc1.bias":{"dtype":"F32","shape":[3],"data_offsets":[24,36]},` +
		`"fc2.weight":{"dtype":"F32","shape":[1,3],"data_offsets":[36,48]}}`
	for len(json)%8 != 0 {
		json += " "
	}
	want := binary.LittleEndian.AppendUint64(nil, uint64(len(json)))
	want = append(want, json...)
	for _, v := range []float32{1, 4, 2, 5, 3, 6, 0.5, -0.5, 0.25, 7, 8, 9} {
		want = binary.LittleEndian.AppendUint32(want, math.Float32bits(v))
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("safetensors file\n got %q\nwant %q", buf.Bytes(), want)
	}
	if (len(buf.Bytes())-8-len(json)) != 48 || len(json)%8 != 0 {
		t.Errorf("data %d bytes, header %d", len(buf.Bytes())-8-len(json), len(json))
	}

	tensors, err := ReadSafetensors(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(tensors) != 3 {
		t.Fatalf("%d tensors, want 3", len(tensors))
	}
	w := tensors["fc1.weight"]
	if w.DType != "F32" || !slices.Equal(w.Shape, []int{3, 2}) || !slices.Equal(w.Data, []float32{1, 4, 2, 5, 3, 6}) {
		t.Errorf("fc1.weight = %+v", w)
	}
	if b := tensors["fc1.bias"]; !slices.Equal(b.Shape, []int{3}) || !slices.Equal(b.Data, []float32{0.5, -0.5, 0.25}) {
		t.Errorf("fc1.bias = %+v", b)
	}
	if _, ok := tensors["fc2.bias"]; ok {
		t.Error("a layer without bias wrote one")
	}
}

func TestSafetensorsLowRankNames(t *testing.T) {
	m := mlp(50, 8, 6, 3)
	if err := lowrank.FactorizeModel(m, "fc1", 2); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, m); err != nil {
		t.Fatal(err)
	}
	tensors, err := ReadSafetensors(&buf)
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int{"fc1.A.weight": {2, 8}, "fc1.B.weight": {6, 2}, "fc1.B.bias": {6}, "fc2.weight": {3, 6}, "fc2.bias": {3}}
	if len(tensors) != len(shapes) {
		t.Errorf("tensors %v", tensors)
	}
	for name, shape := range shapes {
		if !slices.Equal(tensors[name].Shape, shape) {
			t.Errorf("%s shape %v, want %v", name, tensors[name].Shape, shape)
		}
	}
	// [out, in]: element (j, i) of fc2.weight is W[i][j].
	fc2 := m.Layers[2].(*nn.Dense)
	if got := tensors["fc2.weight"].Data[1*6+4]; got != fc2.W.Value.At(4, 1) {
		t.Errorf("fc2.weight[1,4] = %v, want W[4,1] = %v", got, fc2.W.Value.At(4, 1))
	}
}

func TestSafetensorsErrors(t *testing.T) {
	file := func(json string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(json)))
		b = append(b, json...)
		return append(b, make([]byte, data)...)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "8-byte header length"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, 1<<40), "exceeds"},
		{"truncated header", binary.LittleEndian.AppendUint64(nil, 50), "truncated"},
		{"bad json", file(`{"a":`, 0), "header JSON"},
		{"dtype", file(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, 4), `dtype "F16": only F32`},
		{"shape", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8), "needs 12 bytes"},
		{"past data", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 8), "do not lie within"},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "without gaps"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "without gaps or overlaps"},
		{"uncovered", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8), "cover 4 of the 8"},
		{"negative", file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "negative dimension"},
		// 4 × 2^62 elements is 2^64: multiplied unchecked it wraps around to
		// 0, which matches an empty byte range.
		{"wraps", file(`{"a":{"dtype":"F32","shape":[4,4611686018427387904],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), "larger than the data"},
		{"wraps late", file(`{"a":{"dtype":"F32","shape":[1,1,65536,65536,65536,65536],"data_offsets":[0,0]}}`, 0), "larger than the data"},
	}
	for _, c := range cases {
		_, err := ReadSafetensors(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	dup := &nn.Sequential{Layers: []nn.Layer{mlp(1, 2, 2).Layers[0], mlp(2, 2, 2).Layers[0]}}
	if err := WriteSafetensors(&bytes.Buffer{}, dup); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("duplicate names: %v", err)
	}
}

// FuzzReadSafetensors: any bytes give tensors or an error, never a panic;
// tensors it returns hold as many values as their shapes say.
func FuzzReadSafetensors(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, mlp(1, 3, 4, 2)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	for _, json := range []string{
		`{"a":{"dtype":"F32","shape":[4,4611686018427387904],"data_offsets":[0,0]}}`,
		`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`,
		`{"a":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]}}`,
		`{"__metadata__":{"format":"pt"},"a\u001b[2J":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
	} {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(json)))
		f.Add(append(append(b, json...), 0, 0, 0, 0))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tensors, err := ReadSafetensors(bytes.NewReader(data))
		if err != nil {
			return
		}
		for name, tn := range tensors {
			n := 1
			for _, d := range tn.Shape {
				n *= d
			}
			if n != len(tn.Data) {
				t.Fatalf("tensor %q: shape %v but %d values", name, tn.Shape, len(tn.Data))
			}
		}
	})
}
