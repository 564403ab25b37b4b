// Package modelfile stores a compressed nn.Sequential in a small binary
// file, so a model's size on disk is what compression really achieved —
// Deep Compression's last stage (Han et al. 2016): relative sparse indices,
// shared-weight codebooks or uniform codes, Huffman-coded. Write chooses
// for each weight matrix the smallest encoding that gives back exactly the
// same float32 weights; Read loads it; Inspect says what a file holds.
// WriteSafetensors and ReadSafetensors exchange dense float32 weights with
// PyTorch.
//
// # Format, version 1
//
// Little-endian throughout. "uvarint" is unsigned LEB128 (encoding/binary),
// "f32" an IEEE-754 float32, "i16" a two's-complement int16, "name" a
// uvarint length (1–255) and that many bytes of UTF-8.
//
//	offset  size  field
//	0       4     magic "PRTM"
//	4       2     version = 1
//	6       2     flags = 0 (reserved; readers reject others)
//	8       4     file length in bytes, checksum included
//	12      4     header length H
//	16      H     header: the layer table
//	16+H    …     payload: each tensor's weight payload then its biases, in header order
//	end−4   4     CRC-32 (IEEE) of every byte before it
//
// The header is a uvarint layer count, then per layer a kind byte and:
//
//	1 dense      tensor record
//	2 low-rank   name, rank uvarint, tensor record of A (In×Rank, no bias), of B (Rank×Out)
//	3 ReLU       name
//	4 dropout    name, rate f32
//	5 act-quant  name, bits u8, symmetric u8, zero point u8, layer name, min f32, max f32, scale f32
//	6 conv       name, H, W, C, kernel, stride, padding (uvarints: the input image, channels last),
//	             tensor record of the filters (kernel²·C × filters, named as the layer; see nn.Conv2D)
//	7 max-pool   name, H, W, C, size, stride (uvarints)
//	8 flatten    name, H, W, C (uvarints)
//	9 low-rank conv  name, rank uvarint, the conv record (as kind 6) of the K×K convolution to
//	             rank channels (filters "name.A", no bias), then of the 1×1 one ("name.B")
//
// A tensor record describes one weight matrix W (In×Out, y = x·W + b):
//
//	name, In uvarint, Out uvarint, bits u8 (nn.Dense.Bits; 0 = float32),
//	flags u8 (1: Out f32 biases follow the weights; 2: the layer had a pruning mask),
//	layout u8, values u8, stored uvarint (number of values stored), weight payload bytes uvarint
//
// Layouts: 0 dense — all In·Out weights, output channel by output channel
// ([out][in], PyTorch's order); 1 sparse-out — only the non-zeros, in that
// order; 2 sparse-in — only the non-zeros, in W's row-major [in][out]
// order. A sparse weight payload starts with the positions:
//
//	gap bits g u8 (1–12), symbol count uvarint, stream (alphabet 2^g)
//
// as relative indices: each symbol is the number of zeros skipped since the
// previous non-zero (or the start), and the symbol E = 2^g − 1 is an escape
// that skips E zeros and stores nothing. Han et al. pad long gaps with a
// stored filler zero instead; the escape costs no value slot. The writer
// tries every g and keeps the smallest (with Huffman, 6–8 bits are typical
// at 5–10% density; the entropy of a gap at density p is H(p)/p bits).
//
// The values follow, in the layout's order, as one of:
//
//	0 f32        stored × f32
//	1 uniform    groups u8, code bits w u8 (1–8), shared u8,
//	             [shared = 1: M u8, Z i16], per group: R f32 [, M u8, Z i16 when not shared],
//	             stream of stored codes q (alphabet 2^w);
//	             value = float32(float64(q − Z) · (float64(R) / float64(M)))
//	2 codebook   groups u8, index bits w u8 (1–8), per group: K uvarint (≤ 2^w), K × f32,
//	             stream of stored indices (alphabet 2^w), each < K of its group
//
// groups is 0 for one group (per tensor) or 1 for one per output channel
// (column j of W). The uniform form is exactly what core/quant's quantizers
// produce (R is the range end on code ±M), so quantized layers are stored
// as codes plus one scale per channel; k-means clustered layers are stored
// as a codebook plus indices. The writer only uses an encoding after
// checking it reproduces every value bit for bit.
//
// A stream is
//
//	coding u8, [coding = 1: n uvarint, ⌈n/2⌉ bytes of 4-bit code lengths, low nibble first], data length uvarint, data
//
// with coding 0 = each symbol in fixed width, 1 = canonical Huffman codes
// (RFC 1951 §3.2.2: lengths ≤ 15 for symbols 0…n−1, the rest unused; codes
// of equal length are consecutive in symbol order). Data bits are packed
// least-significant bit first; a fixed-width symbol is written low bit
// first, a Huffman code high bit first. The writer uses Huffman only when
// asked (WriteOptions.Huffman) and only when it is smaller.
//
// Biases are Out × f32 after the weight payload. Zeros read back as +0
// everywhere but in the dense f32 encoding, which keeps every bit.
//
// A reader checks the magic, the version, the length (truncation), the
// checksum, then every field against the format and the limits
// (MaxTensorWeights per matrix, MaxFileBytes per file), so a corrupt file
// is an error that says what is wrong, never a panic or a huge allocation.
package modelfile
