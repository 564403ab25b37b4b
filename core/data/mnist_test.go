package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Hand-computed (p/255 - 0.1307) / 0.3081.
const (
	pix0   = -0.424212917883804
	pix51  = 0.2249269717624148
	pix128 = 1.2050009227969019
	pix255 = 2.82148653034729
)

func TestLoadMNISTTiny(t *testing.T) {
	pixels := tinyPixels(3)
	// Set a few pixels to values checked by hand.
	pixels[0], pixels[1], pixels[2], pixels[784+783] = 0, 255, 51, 128
	dir := writeMNIST(t, map[string][]byte{trainImagesFile: gz(idxImages(3, 28, 28, pixels))})

	train, test, err := LoadMNIST(dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 3 || train.X.Rows != 3 || train.X.Cols != 784 || train.Classes != 10 {
		t.Fatalf("train: %d labels, X %v, %d classes; want 3, 3×784, 10", train.Len(), train.X, train.Classes)
	}
	if test.Len() != 2 || test.X.Rows != 2 || test.X.Cols != 784 {
		t.Fatalf("test: %d labels, X %v; want 2, 2×784", test.Len(), test.X)
	}
	if got := train.Y; got[0] != 7 || got[1] != 0 || got[2] != 9 {
		t.Errorf("train labels %v, want [7 0 9]", got)
	}
	if got := test.Y; got[0] != 4 || got[1] != 1 {
		t.Errorf("test labels %v, want [4 1]", got)
	}
	for _, c := range []struct {
		i, j int
		want float64
	}{{0, 0, pix0}, {0, 1, pix255}, {0, 2, pix51}, {1, 783, pix128}} {
		if got := float64(train.X.At(c.i, c.j)); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("train X[%d][%d] = %.7f, want %.7f", c.i, c.j, got, c.want)
		}
	}
	// Test image 1, pixel 10 is raw byte 7+10 = 17.
	if got, want := float64(test.X.At(1, 10)), (17.0/255-0.1307)/0.3081; math.Abs(got-want) > 1e-6 {
		t.Errorf("test X[1][10] = %.7f, want %.7f", got, want)
	}
}

func TestLoadMNISTLimits(t *testing.T) {
	dir := writeMNIST(t, nil)
	train, test, err := LoadMNIST(dir, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 2 || train.X.Rows != 2 || test.Len() != 1 || test.X.Rows != 1 {
		t.Fatalf("limits 2/1 gave train %d (X %v), test %d (X %v)", train.Len(), train.X, test.Len(), test.X)
	}
	if train.Y[1] != 0 || test.Y[0] != 4 {
		t.Errorf("labels train %v test %v, want [7 0] and [4]", train.Y, test.Y)
	}
	// Image 1, pixel 0 is raw byte 7.
	if got, want := float64(train.X.At(1, 0)), (7.0/255-0.1307)/0.3081; math.Abs(got-want) > 1e-6 {
		t.Errorf("X[1][0] = %v, want %v", got, want)
	}
	// A limit above the count keeps everything.
	train, _, err = LoadMNIST(dir, 100, 0)
	if err != nil || train.Len() != 3 {
		t.Fatalf("limit 100: len %v, err %v; want 3, nil", train.Len(), err)
	}
}

func TestLoadMNISTErrors(t *testing.T) {
	good := tinyPixels(3)
	badCRC := gz(idxImages(3, 28, 28, good))
	badCRC[len(badCRC)-8] ^= 0xff // gzip trailer: CRC-32, then length
	fullGz := gz(idxImages(3, 28, 28, good))

	cases := []struct {
		name  string
		file  string
		data  []byte
		limit int
		want  []string
	}{
		{"not gzip", trainImagesFile, []byte("hello, not gzip"), 0,
			[]string{trainImagesFile, "not a readable gzip file", "want the .gz IDX images file"}},
		{"labels magic in images file", trainImagesFile, gz(idxLabels(3, []byte{1, 2, 3})), 0,
			[]string{trainImagesFile, "magic number 0x00000801 (this is a labels file), want 0x00000803 for IDX images"}},
		{"images magic in labels file", trainLabelsFile, gz(idxImages(3, 28, 28, good)), 0,
			[]string{trainLabelsFile, "magic number 0x00000803 (this is an images file), want 0x00000801 for IDX labels"}},
		{"wrong image size", trainImagesFile, gz(idxImages(3, 27, 28, good[:3*27*28])), 0,
			[]string{trainImagesFile, "image size 27×28, want 28×28"}},
		{"zero count", trainImagesFile, gz(idxImages(0, 28, 28, nil)), 0,
			[]string{trainImagesFile, "header claims 0 images, want 1..1000000"}},
		{"huge count", trainImagesFile, gz(idxImages(0xffffffff, 28, 28, good)), 0,
			[]string{trainImagesFile, "header claims 4294967295 images, want 1..1000000"}},
		{"huge label count", trainLabelsFile, gz(idxLabels(1_000_001, []byte{1, 2, 3})), 0,
			[]string{trainLabelsFile, "header claims 1000001 labels, want 1..1000000"}},
		{"truncated header", trainImagesFile, gz(idxImages(3, 28, 28, nil)[:10]), 0,
			[]string{trainImagesFile, "truncated header: 10 bytes after decompression, want at least 16"}},
		{"truncated body", trainImagesFile, gz(idxImages(3, 28, 28, good[:2*784+5])), 0,
			[]string{trainImagesFile, "truncated: 1589 bytes after decompression, want 2368 = 16-byte header + 3 images × 784 bytes"}},
		{"truncated body past the limit", trainImagesFile, gz(idxImages(3, 28, 28, good[:2*784])), 1,
			[]string{trainImagesFile, "truncated: 1584 bytes after decompression, want 2368"}},
		{"padded body", trainImagesFile, gz(append(idxImages(3, 28, 28, good), 0)), 0,
			[]string{trainImagesFile, "more than 2368 bytes after decompression, want exactly 2368"}},
		{"padded labels", trainLabelsFile, gz(idxLabels(3, []byte{7, 0, 9, 9})), 0,
			[]string{trainLabelsFile, "more than 11 bytes after decompression, want exactly 11 = 8-byte header + 3 labels × 1 bytes"}},
		{"truncated gzip stream", trainImagesFile, fullGz[:len(fullGz)/2], 0,
			[]string{trainImagesFile, "gzip stream is truncated"}},
		{"gzip checksum", trainImagesFile, badCRC, 0,
			[]string{trainImagesFile, "gzip checksum mismatch"}},
		{"label out of range", trainLabelsFile, gz(idxLabels(3, []byte{7, 10, 9})), 0,
			[]string{trainLabelsFile, "label 1 is 10, want a digit 0..9"}},
		{"more labels than images", trainLabelsFile, gz(idxLabels(4, []byte{7, 0, 9, 1})), 0,
			[]string{trainImagesFile + " holds 3 images but", trainLabelsFile + " holds 4 labels"}},
		{"fewer test labels", testLabelsFile, gz(idxLabels(1, []byte{4})), 0,
			[]string{testImagesFile + " holds 2 images but", testLabelsFile + " holds 1 labels"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeMNIST(t, map[string][]byte{c.file: c.data})
			_, _, err := LoadMNIST(dir, c.limit, 0)
			if err == nil {
				t.Fatalf("no error, want one containing %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMNISTMissingFile(t *testing.T) {
	empty := t.TempDir()
	_, _, err := LoadMNIST(empty, 0, 0)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(empty, trainImagesFile)) {
		t.Errorf("empty folder: error %v, want not-exist naming %s", err, trainImagesFile)
	}
}

// A header that claims a million images over a few bytes of data must fail
// as truncated without allocating the 784 MB it claims.
func TestHugeCountAllocatesLittle(t *testing.T) {
	data := gz(idxImages(maxIDXCount, 28, 28, tinyPixels(3)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := readImages(bytes.NewReader(data), "huge.gz", 0)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated: 2368 bytes after decompression, want 784000016") {
		t.Fatalf("error %v, want truncated 2368 of 784000016 bytes", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d MB for a 2 KB file, want under 64 MB", alloc>>20)
	}
}

// TestIDXDecompressionBomb: a gzip of zeros whose header claims a million
// images (784 MB) — which it really holds — is refused once it has
// expanded past the bound, long before its end and without allocating
// for the claim.
func TestIDXDecompressionBomb(t *testing.T) {
	var bomb bytes.Buffer
	w, _ := gzip.NewWriterLevel(&bomb, gzip.BestSpeed)
	w.Write(idxImages(1_000_000, 28, 28, nil))
	zeros := make([]byte, 1<<20)
	for range 64 { // 64 MiB of the 784 MB claimed: enough to trip the bound
		w.Write(zeros)
	}
	w.Close()
	src := &countingReader{r: bytes.NewReader(bomb.Bytes())}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := readImages(src, "t10k-images-idx3-ubyte.gz", 0)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "expands more than 64 times its compressed size") {
		t.Fatalf("error %v, want the expansion bound", err)
	}
	if src.n >= int64(bomb.Len()) {
		t.Errorf("read all %d compressed bytes, want the reader to stop early", bomb.Len())
	}
	// At most the 16 MiB allowed before the bound applies, in a buffer
	// grown by doubling: 8 + 16 + 32 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d MiB, want under 64 MiB", alloc>>20)
	}
}

// FuzzIDX runs the validating parser on arbitrary bytes: as a raw stream
// (mostly gzip errors) or gzip-compressed first (reaching the IDX checks).
// A successful parse must describe exactly the bytes given.
func FuzzIDX(f *testing.F) {
	img := idxImages(3, 28, 28, tinyPixels(3))
	lab := idxLabels(3, []byte{7, 0, 9})
	seeds := [][]byte{
		img, lab,
		img[:10], img[:100], lab[:5], lab[:9],
		append(append([]byte(nil), img...), 1, 2),
		idxImages(1_000_000, 28, 28, tinyPixels(1)),
		idxImages(0xffffffff, 28, 28, nil),
		idxImages(1, 0xffff, 0xffff, nil),
		idxImages(0, 28, 28, nil),
		idxLabels(0x7fffffff, []byte{1}),
		idxLabels(3, []byte{7, 200, 9}),
		{0, 0, 8, 3}, {},
	}
	for _, s := range seeds {
		for _, compress := range []bool{true, false} {
			for _, labels := range []bool{true, false} {
				f.Add(s, compress, labels, uint8(0))
				f.Add(s, compress, labels, uint8(2))
			}
		}
	}
	f.Add(gz(img), false, false, uint8(1))
	f.Add(gz(lab), false, true, uint8(0))

	f.Fuzz(func(t *testing.T, data []byte, compress, labels bool, keep uint8) {
		in := data
		if compress {
			in = gz(data)
		}
		if labels {
			got, err := readLabels(bytes.NewReader(in), "fuzz.gz")
			if err != nil {
				return
			}
			for i, l := range got {
				if l > 9 {
					t.Fatalf("label %d is %d, accepted", i, l)
				}
			}
			if compress && len(data) != 8+len(got) {
				t.Fatalf("accepted %d labels from %d bytes", len(got), len(data))
			}
			return
		}
		imgs, count, err := readImages(bytes.NewReader(in), "fuzz.gz", int(keep))
		if err != nil {
			return
		}
		if count < 1 || count > maxIDXCount {
			t.Fatalf("accepted count %d", count)
		}
		wantKept := count
		if keep > 0 && int(keep) < count {
			wantKept = int(keep)
		}
		if len(imgs) != wantKept {
			t.Fatalf("keep %d of %d images gave %d", keep, count, len(imgs))
		}
		for i, im := range imgs {
			if len(im) != 784 {
				t.Fatalf("image %d has %d bytes", i, len(im))
			}
		}
		if compress {
			if len(data) != 16+count*784 {
				t.Fatalf("accepted %d images from %d bytes", count, len(data))
			}
			if !bytes.Equal(imgs[0], data[16:16+784]) {
				t.Fatalf("image 0 differs from the input")
			}
		}
	})
}
