package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/lowrank"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/core/quant"
)

var mnistInput = &Input{Shape: []int{1, 28, 28}, Scale: 1.0 / 255, Mean: 0.1307, Std: 0.3081}

// writeRead writes m as safetensors with info and reads the file back.
func writeRead(t *testing.T, m *nn.Sequential, info Info) *Safetensors {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSafetensorsInfo(&buf, m, info); err != nil {
		t.Fatal(err)
	}
	f, err := ReadSafetensorsFile(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSafetensorsModelRoundTrip: LeNet-5 dense, then pruned, quantized
// and factorized (a convolution and a dense layer), is built back from
// its metadata alone with the same weights, bits, masks and outputs.
func TestSafetensorsModelRoundTrip(t *testing.T) {
	m := lenet5(3)
	info := Info{Input: mnistInput, Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, Dataset: "mnist", Technique: "dense", Setting: "fp32"}
	back, md, err := writeRead(t, m, info).Model()
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, "dense", m, back)
	if md.Dataset != "mnist" || md.Technique != "dense" || md.Setting != "fp32" || len(md.Classes) != 10 || !slices.Equal(md.Input.Shape, []int{1, 28, 28}) || md.Input.Std != 0.3081 {
		t.Errorf("metadata read back as %+v, input %+v", md.Info, md.Input)
	}

	pruneAll(t, m, 0.9)
	if _, err := quant.QuantizeModel(m, quant.Options{Bits: 4}, nil); err != nil {
		t.Fatal(err)
	}
	back, md, err = writeRead(t, m, Info{Input: mnistInput}).Model()
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, "pruned and quantized", m, back)
	if l := md.Layers[0]; l.Type != "conv" || l.Filters != 20 || l.Kernel != 5 || l.Stride != 1 || l.Bits != 4 || !l.Pruned {
		t.Errorf("conv1 in the metadata: %+v", l)
	}

	m = lenet5(4)
	if err := lowrank.FactorizeModel(m, "fc1", 20); err != nil {
		t.Fatal(err)
	}
	c, err := lowrank.FactorizeConv(m.Layers[2].(*nn.Conv2D), 8, lowrank.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Layers[2] = c
	f := writeRead(t, m, Info{Input: mnistInput})
	if s := f.Tensors["conv2.B.weight"].Shape; !slices.Equal(s, []int{50, 8, 1, 1}) {
		t.Errorf("conv2.B.weight shape %v, want [50 8 1 1]", s)
	}
	back, md, err = f.Model()
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, "factorized", m, back)
	if l := md.Layers[5]; l.Type != "dense" || l.Units != 500 || l.Rank != 20 {
		t.Errorf("fc1 in the metadata: %+v", l)
	}
}

// TestLoadIntoFlattenOrder: a Linear after a 2×1×2 image (H=2, W=1, C=2)
// takes PyTorch's flatten order (c, h, w): its weights [a b c d] are
// inputs c0h0, c0h1, c1h0, c1h1, which pruner-tui's channels-last rows
// (h, w, c) hold as h0c0 = a, h0c1 = c, h1c0 = b, h1c1 = d.
func TestLoadIntoFlattenOrder(t *testing.T) {
	d := zeroDense("fc1", 4, 1, true)
	m := &nn.Sequential{Layers: []nn.Layer{nn.NewFlatten("flatten1", nn.Shape{H: 2, W: 1, C: 2}), d}}
	f := &Safetensors{Tensors: map[string]Tensor{
		"fc1.weight": {DType: "F32", Shape: []int{1, 4}, Data: []float32{1, 2, 3, 4}},
		"fc1.bias":   {DType: "F32", Shape: []int{1}, Data: []float32{0.5}},
	}}
	if err := f.LoadInto(m); err != nil {
		t.Fatal(err)
	}
	if got, want := d.W.Value.Data, []float32{1, 3, 2, 4}; !slices.Equal(got, want) {
		t.Errorf("W column = %v, want %v", got, want)
	}
	if d.B.Value.Data[0] != 0.5 {
		t.Errorf("bias %v, want 0.5", d.B.Value.Data[0])
	}
	// A conv's [out, in, kh, kw] = [1, 2, 1, 2]: values v(c, kj) = 10c + kj
	// go to row kj·C + c.
	conv := zeroConv("conv1", nn.Shape{H: 2, W: 3, C: 2}, nn.Shape{H: 1, W: 2, C: 1}, 2, 1, 0, false)
	cm := &nn.Sequential{Layers: []nn.Layer{conv}}
	f = &Safetensors{Tensors: map[string]Tensor{"conv1.weight": {DType: "F32", Shape: []int{1, 2, 2, 2}, Data: []float32{0, 1, 2, 3, 10, 11, 12, 13}}}}
	if err := f.LoadInto(cm); err != nil {
		t.Fatal(err)
	}
	// (c, ki, kj) → row (ki·2 + kj)·2 + c.
	if got, want := conv.Kernel.W.Value.Data, []float32{0, 10, 1, 11, 2, 12, 3, 13}; !slices.Equal(got, want) {
		t.Errorf("conv rows = %v, want %v", got, want)
	}
}

// safetensorsBytes is a file of json and data bytes of zeros.
func safetensorsBytes(json string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(json)))
	b = append(b, json...)
	return append(b, make([]byte, data)...)
}

// withMetadata replaces the metadata of the file of m with md.
func withMetadata(t *testing.T, m *nn.Sequential, edit func(map[string]string)) []byte {
	t.Helper()
	f := writeRead(t, m, Info{Input: &Input{Shape: []int{4}, Scale: 1, Std: 1}})
	edit(f.Metadata)
	return rewrite(t, f)
}

// rewrite writes f again, tensors in name order.
func rewrite(t *testing.T, f *Safetensors) []byte {
	t.Helper()
	header := map[string]any{"__metadata__": f.Metadata}
	var data []byte
	for _, n := range slices.Sorted(maps.Keys(f.Tensors)) {
		tn := f.Tensors[n]
		begin := len(data)
		for _, v := range tn.Data {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
		}
		header[n] = map[string]any{"dtype": tn.DType, "shape": tn.Shape, "data_offsets": []int{begin, len(data)}}
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	return append(safetensorsBytes(string(h), 0), data...)
}

// TestSafetensorsModelErrors: each bad file is an error naming the tensor
// or the field, never a panic.
func TestSafetensorsModelErrors(t *testing.T) {
	m := mlp(1, 4, 3, 2)
	good := writeRead(t, m, Info{Input: &Input{Shape: []int{4}, Scale: 1, Std: 1}})
	drop := func(name string) []byte {
		f := &Safetensors{Tensors: maps.Clone(good.Tensors), Metadata: good.Metadata}
		delete(f.Tensors, name)
		return rewrite(t, f)
	}
	reshape := func(name string, shape []int) []byte {
		f := &Safetensors{Tensors: maps.Clone(good.Tensors), Metadata: good.Metadata}
		tn := f.Tensors[name]
		tn.Shape = shape
		f.Tensors[name] = tn
		return rewrite(t, f)
	}
	extra := &Safetensors{Tensors: maps.Clone(good.Tensors), Metadata: good.Metadata}
	extra.Tensors["fc9.weight"] = Tensor{DType: "F32", Shape: []int{1}, Data: []float32{1}}
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"missing", drop("fc2.weight"), `tensor "fc2.weight" is missing: layer fc2 needs it, of shape [2 3]`},
		{"missing bias", drop("fc1.bias"), `tensor "fc1.bias" is missing`},
		{"shape", reshape("fc1.weight", []int{4, 3}), `tensor "fc1.weight" has shape [4 3]: layer fc1 needs [3 4]`},
		{"extra", rewrite(t, extra), `tensor "fc9.weight" belongs to no layer`},
		{"F16", safetensorsBytes(`{"fc1.weight":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, 4), `tensor "fc1.weight" has dtype "F16": only F32`},
		{"I64", safetensorsBytes(`{"fc1.bias":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, 8), `tensor "fc1.bias" has dtype "I64": only F32`},
		{"header past the file", safetensorsBytes(`{}`, 0)[:9], "truncated: its header length says 2 bytes, the file has 1"},
		{"metadata not strings", safetensorsBytes(`{"__metadata__":{"layers":[1]}}`, 0), "__metadata__ must map names to strings"},
		{"layers not JSON", withMetadata(t, m, func(md map[string]string) { md["layers"] = `[{"type":"dense",` }), `metadata "layers" is not valid JSON`},
		{"input not JSON", withMetadata(t, m, func(md map[string]string) { md["input"] = `{shape}` }), `metadata "input" is not valid JSON`},
		{"std", withMetadata(t, m, func(md map[string]string) { md["input"] = `{"shape":[4],"scale":1,"std":0}` }), `metadata "input": std 0`},
		{"no layers", withMetadata(t, m, func(md map[string]string) { delete(md, "layers") }), `metadata has no "layers"`},
		{"no input", withMetadata(t, m, func(md map[string]string) { delete(md, "input") }), `metadata has no "input"`},
		{"unknown type", withMetadata(t, m, func(md map[string]string) { md["layers"] = `[{"type":"lstm","name":"x"}]` }), `layer 1 (lstm x): type "lstm" is unknown`},
		{"conv on a vector", withMetadata(t, m, func(md map[string]string) {
			md["layers"] = `[{"type":"conv","name":"conv1","filters":2,"kernel":3}]`
		}), "layer 1 (conv conv1): a convolution takes an image"},
		{"window", withMetadata(t, m, func(md map[string]string) {
			md["input"] = `{"shape":[1,4,4],"scale":1,"std":1}`
			md["layers"] = `[{"type":"conv","name":"conv1","filters":2,"kernel":5}]`
		}), "a 5×5 window (stride 1, padding 0) does not fit its 4×4×1 input"},
		{"units", withMetadata(t, m, func(md map[string]string) {
			md["layers"] = `[{"type":"dense","name":"fc1","units":0}]`
		}), "layer 1 (dense fc1): units 0"},
		{"wrong units", withMetadata(t, m, func(md map[string]string) {
			md["layers"] = `[{"type":"dense","name":"fc1","units":5},{"type":"dense","name":"fc2","units":2}]`
		}), `tensor "fc1.weight" has shape [3 4]: layer fc1 needs [5 4]`},
	}
	for _, c := range cases {
		f, err := ReadSafetensorsFile(bytes.NewReader(c.file))
		if err == nil {
			_, _, err = f.Model()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

// FuzzSafetensorsModel: any bytes give a model or an error, never a
// panic; a model built has the tensors' values as its weights.
func FuzzSafetensorsModel(f *testing.F) {
	for _, m := range []*nn.Sequential{mlp(1, 4, 3, 2), lenet5(2)} {
		var buf bytes.Buffer
		in := &Input{Shape: []int{4}, Scale: 1, Std: 1}
		if _, ok := m.Layers[0].(*nn.Conv2D); ok {
			in = mnistInput
		}
		if err := WriteSafetensorsInfo(&buf, m, Info{Input: in}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add(safetensorsBytes(`{"__metadata__":{"input":"{\"shape\":[1,3,3],\"scale\":1,\"std\":1}","layers":"[{\"type\":\"maxpool\",\"name\":\"p\",\"size\":9}]"}}`, 0))
	f.Add(safetensorsBytes(`{"__metadata__":{"input":"{\"shape\":[2],\"scale\":1,\"std\":1}","layers":"[{\"type\":\"dense\",\"name\":\"a\",\"units\":1,\"rank\":1}]"},`+
		`"a.A.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"a.B.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]},"a.B.bias":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}`, 16))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadSafetensorsFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		m, _, err := file.Model()
		if err != nil {
			return
		}
		back := writeRead(t, m, Info{})
		for name, tn := range file.Tensors {
			if !slices.Equal(canonical(back.Tensors[name].Data), canonical(tn.Data)) {
				t.Fatalf("tensor %q: the model holds other values", name)
			}
		}
	})
}
