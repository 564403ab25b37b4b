package data

import (
	"fmt"
	"os"
	"strings"
)

// ImageDataset is a dataset of 28×28 grey images in MNIST's four-file IDX
// format: what it is called, its classes, and the mean and standard
// deviation of its training pixels (scaled to [0,1]), which Load
// standardizes with.
type ImageDataset struct {
	Name      string
	Classes   []string
	Mean, Std float64
}

// MNIST is the handwritten digits (LeCun et al. 1998).
var MNIST = ImageDataset{
	Name:    "mnist",
	Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	Mean:    0.1307, Std: 0.3081,
}

// FashionMNIST is Zalando's Fashion-MNIST (Xiao et al. 2017): MNIST's
// format and sizes, ten kinds of clothing, and a task on which the
// techniques differ far more than on digits. Its training pixels have mean
// 0.2860 and std 0.3530.
var FashionMNIST = ImageDataset{
	Name: "fashion-mnist",
	Classes: []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
		"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
	Mean: 0.2860, Std: 0.3530,
}

// FashionMNISTEnv is the environment variable naming a folder with the
// four Fashion-MNIST .gz IDX files.
const FashionMNISTEnv = "PRUNER_TUI_FASHION_MNIST"

// FashionMNISTDebianDir is where Debian's package dataset-fashion-mnist
// installs the files.
const FashionMNISTDebianDir = "/usr/share/datasets/fashion-mnist"

// FindFashionMNIST returns a folder holding the four Fashion-MNIST .gz
// files: dir (from --data) if non-empty, else $PRUNER_TUI_FASHION_MNIST,
// else Debian's /usr/share/datasets/fashion-mnist. When none holds them
// the error says how to get them.
func FindFashionMNIST(dir string) (string, error) {
	const howTo = "Fashion-MNIST comes with Debian's package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"
	if dir != "" {
		if err := checkMNISTDir(dir); err != nil {
			return "", fmt.Errorf("--data %s: %w; %s", dir, err, howTo)
		}
		return dir, nil
	}
	if env := os.Getenv(FashionMNISTEnv); env != "" {
		if err := checkMNISTDir(env); err != nil {
			return "", fmt.Errorf("%s=%s: %w; %s", FashionMNISTEnv, env, err, howTo)
		}
		return env, nil
	}
	err := checkMNISTDir(FashionMNISTDebianDir)
	if err == nil {
		return FashionMNISTDebianDir, nil
	}
	return "", fmt.Errorf("Fashion-MNIST not found in %s (%v): install it with 'apt-get install dataset-fashion-mnist' (Debian, Ubuntu), "+
		"or download the four files %s from github.com/zalandoresearch/fashion-mnist into a folder and pass --data DIR or set %s=DIR",
		FashionMNISTDebianDir, err, strings.Join(mnistFiles, ", "), FashionMNISTEnv)
}

// Find returns the folder holding d's files, as FindMNIST or
// FindFashionMNIST does.
func (d ImageDataset) Find(dir string) (string, error) {
	if d.Name == FashionMNIST.Name {
		return FindFashionMNIST(dir)
	}
	return FindMNIST(dir)
}
