// Package modelfile stores a compressed nn.Sequential in a small binary
// file, so a model's size on disk is what compression really achieved —
// Deep Compression's last stage (Han et al. 2016): relative sparse indices,
// shared-weight codebooks or uniform codes, Huffman-coded. Write chooses
// for each weight matrix the smallest encoding that gives back exactly the
// same float32 weights; Read loads it; Inspect says what a file holds.
// WriteSafetensorsInfo and ReadSafetensorsFile exchange float32 weights
// with PyTorch, with metadata that says how to run them (below);
// Safetensors.Model builds the model such a file describes and LoadInto
// loads a file's tensors into a model, checking each.
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
//
// # Safetensors and their metadata
//
// WriteSafetensorsInfo writes the safetensors format: a u64 little-endian
// header length N, N bytes of JSON (space-padded to a multiple of 8), then
// the tensors' raw little-endian float32 data, each tensor named and
// shaped as PyTorch's torch.nn.Linear and torch.nn.Conv2d hold them:
//
//	NAME.weight  [out, in] (dense) or [out, in, kh, kw] (conv); NAME.bias [out]
//	NAME.A.weight, NAME.B.weight, NAME.B.bias   a factorized layer's two factors
//	                                            (conv: A [rank, in, kh, kw], B [out, rank, 1, 1])
//
// A dense layer fed an image takes it flattened in PyTorch's order
// (channel, row, column); pruner-tui runs images channels-last, and the
// writer and LoadInto reorder the weights' columns between the two.
//
// The header's "__metadata__" maps keys to strings, as the format
// requires; those holding structure hold JSON:
//
//	format     "pt"
//	producer   "pruner-tui" (any string: not read)
//	layers     JSON array of Layer, in order: the architecture, with the keys of a
//	           spec's model.layers — {"type":"conv","name":"conv1","filters":20,"kernel":5,
//	           "stride":1}, {"type":"maxpool","name":"pool1","size":2,"stride":2},
//	           {"type":"flatten","name":"flatten1"}, {"type":"dense","name":"fc1","units":500},
//	           {"type":"relu","name":"relu1"}, {"type":"dropout","name":"dropout1","rate":0.5},
//	           {"type":"act-quant","name":"fc1.actquant","bits":8,"range":{…}} — plus
//	           what was done to a layer's weights: "rank" (factorized, the tensors
//	           NAME.A/NAME.B), "bits" (quantized to that many bits; the file holds the
//	           dequantized float32 values), "pruned" (its zeros are pruned weights).
//	           Keys left out take their defaults: stride 1 (conv) or the size
//	           (maxpool), padding 0, rate 0.
//	input      JSON Input: {"shape":[1,28,28],"scale":0.00392156862745098,"mean":0.1307,"std":0.3081}:
//	           one example's shape in PyTorch's order ([C, H, W] or [D]) and its
//	           preparation x = (raw·scale − mean)/std, computed in float64, then float32
//	classes    JSON array of the class names, in output order
//	dataset    "mnist", "fashion-mnist", "blobs", "spirals": what it was trained on
//	technique, setting   the result-table row the model is ("prune", "ratio=0.95 scope=global")
//
// Every key is optional to a reader: Safetensors.Model needs layers and
// input; LoadInto needs none (the model it loads into is the
// architecture). ReadSafetensorsFile checks the format (a header within
// the file and at most 100 MiB, valid JSON, string metadata, F32 tensors
// whose shapes match their byte ranges, ranges that tile the data);
// Safetensors.ReadMetadata checks each key's JSON; the model builder
// checks each layer (type, numbers, fit to its input) and each tensor
// (missing, wrong shape, left over), and every error names the tensor,
// layer or key.
package modelfile
