package spec

import (
	"strings"
	"testing"
)

// lenet5 is LeNet-5 as in Caffe and Han et al.: 431,080 parameters.
const lenet5 = `name: lenet5
dataset: {name: mnist}
model:
  layers:
    - {type: conv, filters: 20, kernel: 5}
    - {type: maxpool, size: 2}
    - {type: conv, filters: 50, kernel: 5}
    - {type: maxpool, size: 2}
    - {type: flatten}
    - {type: dense, units: 500}
    - {type: relu}
    - {type: dense, units: 10}
train: {optimizer: adam, lr: 0.001, epochs: 1, batch: 64}
compress:
  - {technique: prune, ratio: 0.5, layers: [conv1, conv2, fc1]}
`

func TestParseLeNet5(t *testing.T) {
	s, err := Parse("lenet5.yaml", []byte(lenet5))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"conv1", "pool1", "conv2", "pool2", "flatten1", "fc1", "relu1", "fc2"}
	for i, l := range s.Model.Layers {
		if l.Name != names[i] {
			t.Errorf("layer %d named %q, want %q", i, l.Name, names[i])
		}
	}
	if c, p := s.Model.Layers[0], s.Model.Layers[1]; c.Stride != 1 || c.Padding != 0 || p.Stride != 2 {
		t.Errorf("defaults: conv stride %d padding %d, pool stride %d; want 1, 0, 2", c.Stride, c.Padding, p.Stride)
	}
	_, out := s.Shapes()
	// 28 → conv 5: 24 → pool 2: 12 → conv 5: 8 → pool 2: 4; 4·4·50 = 800.
	want := []string{"24×24×20 image", "12×12×20 image", "8×8×50 image", "4×4×50 image", "vector of 800", "vector of 500", "vector of 500", "vector of 10"}
	for i, w := range want {
		if out[i].String() != w {
			t.Errorf("layer %d gives a %s, want a %s", i, out[i], w)
		}
	}
	if got := s.WeightNames(); strings.Join(got, ",") != "conv1,conv2,fc1,fc2" {
		t.Errorf("weight layers %v", got)
	}
	if in, o := s.WeightShape("fc1"); in != 800 || o != 500 {
		t.Errorf("fc1 is %d→%d, want 800→500", in, o)
	}
	if in, o := s.WeightShape("conv2"); in != 500 || o != 50 {
		t.Errorf("conv2's filters are %d×%d, want 5·5·20 = 500 × 50", in, o)
	}
	if got := s.DescribeModel(); got != "28×28×1-conv20@5×5-pool2-conv50@5×5-pool2-500-10" {
		t.Errorf("DescribeModel = %q", got)
	}
}

func TestConvModelErrors(t *testing.T) {
	for _, c := range []struct{ name, old, repl, want string }{
		{"window too big", "{type: conv, filters: 50, kernel: 5}", "{type: conv, filters: 50, kernel: 13}",
			"line 7: model.layers[2]: conv2 (conv): a 13×13 window (stride 1, padding 0) does not fit its 12×12×20 image input"},
		{"conv on a vector", "{type: conv, filters: 20, kernel: 5}", "{type: dense, units: 20}\n    - {type: conv, filters: 20, kernel: 5}",
			"model.layers[1]: conv1 (conv): a conv layer takes an image, and its input here is a vector of 20"},
		{"flatten twice", "{type: dense, units: 500}", "{type: flatten}\n    - {type: dense, units: 500}",
			"model.layers[5]: flatten2 (flatten): flatten takes an image, and its input here is already a vector of 800"},
		{"no filters", "{type: conv, filters: 20, kernel: 5}", "{type: conv, kernel: 5}",
			"line 5: model.layers[0].filters: required field is missing; must be in [1, 4096]"},
		{"padding", "{type: conv, filters: 20, kernel: 5}", "{type: conv, filters: 20, kernel: 5, padding: 5}",
			"model.layers[0].padding: must be in [0, kernel−1] = [0, 4], got 5"},
		{"size on conv", "{type: conv, filters: 20, kernel: 5}", "{type: conv, filters: 20, kernel: 5, size: 2}",
			"model.layers[0].size: applies only to maxpool layers, got 2"},
		{"pool size", "{type: maxpool, size: 2}\n    - {type: conv, filters: 50", "{type: maxpool}\n    - {type: conv, filters: 50",
			"line 6: model.layers[1].size: required field is missing; must be in [1, 64]"},
		{"conv on blobs", "dataset: {name: mnist}", "dataset: {name: blobs, classes: 10, dim: 784}",
			"a conv layer takes an image, and its input here is a vector of 784 (only mnist and fashion-mnist give images"},
	} {
		t.Run(c.name, func(t *testing.T) {
			yaml := strings.Replace(lenet5, c.old, c.repl, 1)
			if yaml == lenet5 {
				t.Fatalf("no %q in the spec", c.old)
			}
			_, err := Parse("l.yaml", []byte(yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}
