package experiments

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/prunerlab/pruner-tui/core/data"
	"github.com/prunerlab/pruner-tui/core/nn"
	"github.com/prunerlab/pruner-tui/experiments/spec"
)

// Independent random streams derived from Spec.Seed. A step's streams add
// its index in compress, and the stream of a fine-tuning or of a random
// criterion its position within the step, shifted up 32 bits.
const (
	streamInit     = 0x1417
	streamShuffle  = 0x5a0f
	streamDropout  = 0xd20b << 16
	streamFineTune = 0xf17e
	streamPrune    = 0x9e11
)

// BuildModel validates s and builds its model with freshly initialized
// weights. The same Seed always gives the same weights and dropout masks.
func BuildModel(s spec.Spec) (*nn.Sequential, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return buildModel(s), nil
}

// buildModel builds a validated, resolved spec's model.
func buildModel(s spec.Spec) *nn.Sequential {
	rng := rand.New(rand.NewPCG(s.Seed, streamInit))
	m := &nn.Sequential{}
	ins, _ := s.Shapes()
	for i, l := range s.Model.Layers {
		in := ins[i]
		image := nn.Shape{H: in.H, W: in.W, C: in.C}
		init := nn.He
		if l.Init == "glorot" {
			init = nn.Glorot
		}
		switch l.Type {
		case "dense":
			m.Layers = append(m.Layers, nn.NewDenseInit(l.Name, in.Size(), l.Units, init, rng))
		case "conv":
			m.Layers = append(m.Layers, nn.NewConv2D(l.Name, image, l.Filters, l.Kernel, l.Stride, l.Padding, init, rng))
		case "maxpool":
			m.Layers = append(m.Layers, nn.NewMaxPool2D(l.Name, image, l.Size, l.Stride))
		case "flatten":
			m.Layers = append(m.Layers, nn.NewFlatten(l.Name, image))
		case "relu":
			m.Layers = append(m.Layers, nn.NewReLU(l.Name))
		case "dropout":
			m.Layers = append(m.Layers, nn.NewDropout(l.Name, float32(l.Rate), s.Seed^(streamDropout+uint64(i))))
		}
	}
	return m
}

// loadData loads the spec's dataset and applies its limits.
func loadData(s spec.Spec, opts Options) (train, test *data.Set, err error) {
	d := s.Dataset
	switch d.Name {
	case "mnist", "fashion-mnist":
		images := imagesOf(d.Name)
		// An imported model's inputs are prepared as its file says.
		images.Mean, images.Std = s.Model.PixelNorm(images.Mean, images.Std)
		dir, err := images.Find(opts.DataDir)
		if err != nil {
			return nil, nil, err
		}
		if train, test, err = images.Load(dir, d.Limit, d.TestLimit); err != nil {
			return nil, nil, err
		}
		if a := s.Train.Augment; a.On() {
			in := d.Input()
			// A black pixel, standardized as the images are.
			fill := float32(-images.Mean / images.Std)
			train.Augment = &data.Augment{H: in.H, W: in.W, C: in.C, Shift: a.Shift, Flip: a.Flip, Fill: fill}
		}
	case "blobs":
		train, test = data.Blobs(d.Samples, d.Classes, d.Dim, s.Seed)
	case "spirals":
		train, test = data.Spirals(d.Samples, d.Classes, d.Noise, s.Seed)
	default:
		return nil, nil, fmt.Errorf("dataset %q: unknown (allowed: mnist, fashion-mnist, blobs, spirals)", d.Name)
	}
	if d.Limit > 0 && d.Limit < train.Len() {
		train = train.Subset(d.Limit)
	}
	if d.TestLimit > 0 && d.TestLimit < test.Len() {
		test = test.Subset(d.TestLimit)
	}
	switch {
	case train.Len() == 0:
		return nil, nil, errors.New("dataset " + d.Name + ": no training examples")
	case test.Len() == 0:
		return nil, nil, errors.New("dataset " + d.Name + ": no test examples")
	case train.X.Cols != d.InputDim():
		return nil, nil, fmt.Errorf("dataset %s: examples have %d features, the model expects %d", d.Name, train.X.Cols, d.InputDim())
	}
	return train, test, nil
}

// imagesOf is the image dataset named name: Fashion-MNIST, or MNIST.
func imagesOf(name string) data.ImageDataset {
	if name == data.FashionMNIST.Name {
		return data.FashionMNIST
	}
	return data.MNIST
}
