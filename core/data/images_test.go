package data

import (
	"math"
	"os"
	"strings"
	"testing"
)

// TestFashionMNISTStatistics: standardized with FashionMNIST's constants,
// the training pixels have mean 0 and std 1, to the constants' four
// digits; labels cover the ten classes. Skips where Debian's package is
// not installed.
func TestFashionMNISTStatistics(t *testing.T) {
	dir, err := FindFashionMNIST("")
	if err != nil {
		t.Skip("Fashion-MNIST not installed:", err)
	}
	train, test, err := FashionMNIST.Load(dir, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 100 || train.X.Cols != 784 || len(train.ClassNames) != 10 || train.ClassNames[9] != "Ankle boot" {
		t.Fatalf("train %d×%d, test %d, classes %v", train.Len(), train.X.Cols, test.Len(), train.ClassNames)
	}
	var sum, sq float64
	for _, v := range train.X.Data {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(train.X.Data))
	mean := sum / n
	std := math.Sqrt(sq/n - mean*mean)
	// The constants are rounded to 1e-4: mean off by up to 5e-5/0.353.
	if math.Abs(mean) > 2e-4 || math.Abs(std-1) > 2e-4 {
		t.Errorf("standardized pixels: mean %.5f std %.5f, want 0 and 1", mean, std)
	}
	seen := map[int]bool{}
	for _, y := range train.Y {
		seen[y] = true
	}
	if len(seen) != 10 {
		t.Errorf("%d classes among the labels, want 10", len(seen))
	}
}

// TestFindFashionMNISTSaysHowToGetIt: a folder without the files is an
// error naming the folder; with nothing found the error says how to
// install the data.
func TestFindFashionMNISTSaysHowToGetIt(t *testing.T) {
	empty := t.TempDir()
	if _, err := FindFashionMNIST(empty); err == nil || !strings.Contains(err.Error(), "--data "+empty) {
		t.Errorf("--data of an empty folder: %v", err)
	}
	t.Setenv(FashionMNISTEnv, empty)
	if _, err := FindFashionMNIST(""); err == nil || !strings.Contains(err.Error(), FashionMNISTEnv) {
		t.Errorf("%s of an empty folder: %v", FashionMNISTEnv, err)
	}
	os.Unsetenv(FashionMNISTEnv)
	if _, err := os.Stat(FashionMNISTDebianDir); err == nil {
		t.Skip("Debian's package is installed: the not-found message cannot be seen here")
	}
	if _, err := FindFashionMNIST(""); err == nil || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") {
		t.Errorf("not found: %v", err)
	}
}
