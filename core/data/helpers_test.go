package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// idxImages builds a raw (uncompressed) IDX images file.
func idxImages(count, rows, cols uint32, pixels []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, imagesMagic)
	b = binary.BigEndian.AppendUint32(b, count)
	b = binary.BigEndian.AppendUint32(b, rows)
	b = binary.BigEndian.AppendUint32(b, cols)
	return append(b, pixels...)
}

// idxLabels builds a raw (uncompressed) IDX labels file.
func idxLabels(count uint32, labels []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, labelsMagic)
	b = binary.BigEndian.AppendUint32(b, count)
	return append(b, labels...)
}

func gz(raw []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(raw)
	w.Close()
	return buf.Bytes()
}

// tinyPixels returns n images of 784 bytes where image i has pixel j = (i*7 + j) mod 256.
func tinyPixels(n int) []byte {
	p := make([]byte, n*784)
	for i := range n {
		for j := range 784 {
			p[i*784+j] = byte(i*7 + j)
		}
	}
	return p
}

// writeMNIST writes the four MNIST files into a fresh folder: 3 training
// images labelled 7, 0, 9 and 2 test images labelled 4, 1. Each of the
// four raw files can be replaced through overrides (keyed by file name,
// value already gzip-compressed).
func writeMNIST(t *testing.T, overrides map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		trainImagesFile: gz(idxImages(3, 28, 28, tinyPixels(3))),
		trainLabelsFile: gz(idxLabels(3, []byte{7, 0, 9})),
		testImagesFile:  gz(idxImages(2, 28, 28, tinyPixels(2))),
		testLabelsFile:  gz(idxLabels(2, []byte{4, 1})),
	}
	for name, b := range overrides {
		files[name] = b
	}
	for name, b := range files {
		if b == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
