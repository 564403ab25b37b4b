// Package spec is what an experiment is: the YAML schema of pruner-tui's
// experiments, parsed and validated without running anything, so the
// preset picker (and the expansion of a sweep) need only this package.
//
// A Spec names a dataset, a model, how to train it and a list of
// compression steps. Each technique is a type of its own (Prune,
// Quantize, KMeans, Lowrank, Sensitivity, BitSensitivity, Pipeline and the
// stages Finetune and Huffman) that holds, in one file, its keys (the
// struct's fields), its defaults, its checks and its row label; the
// techniques table of step.go lists them. Parse reads a spec and reports
// any problem with the file, the line, the field and what is allowed, with
// a suggestion for a misspelled key; Load reads a shipped preset or a file.
//
// # Spec files
//
// Keys are snake_case; unknown keys are errors. Required keys are marked *.
//
//	name: lenet-300-100          # * the experiment column of the table: one line, printable, ≤ 64 characters
//	description: one line        # printable, ≤ 500 characters
//	seed: 1                      # every random choice derives from it (default 0)
//	dataset:
//	  name: mnist                # * mnist | fashion-mnist | blobs | spirals
//	  limit: 0                   # first N training examples only (0 = all)
//	  test_limit: 0              # first N test examples only (0 = all)
//	  classes: 3                 # * for blobs and spirals (mnist, fashion-mnist: 10)
//	  dim: 16                    # * for blobs: input width
//	  noise: 0.1                 # spirals: noise std (default 0)
//	  samples: 2000              # blobs, spirals: training points; test gets samples/4
//	model:
//	  layers:                    # * the input comes from the dataset
//	    - {type: dense, units: 300, name: fc1}   # name optional: fc1, fc2, ...; letters, digits, _ . -, ≤ 64
//	    - {type: dense, units: 10, init: glorot} # init: he (default) | glorot
//	    - {type: relu}
//	    - {type: dropout, rate: 0.2}             # rate * for dropout, in [0, 1)
//	    - {type: dense, units: 10}               # the last layer: dense, one unit per class
//
// MNIST and Fashion-MNIST give 28×28×1 images, which convolutions and
// pooling take (conv1, conv2, ... and pool1, ... by default):
//
//   - {type: conv, filters: 20, kernel: 5}   # * filters, kernel; stride 1, padding 0 by default; init as dense
//   - {type: maxpool, size: 2}               # * size; stride: the size by default
//   - {type: flatten}                        # the image as a vector (a dense layer also takes an image as is)
//
// A trained model instead of a trained baseline: model.from names a
// .safetensors file (relative to the spec's folder), whose weights are
// the dense baseline's row — nothing is trained; train's optimizer, lr
// and batch serve the fine-tunings — and every compress step runs on it:
//
//	model:
//	  from: lenet5.safetensors   # PyTorch's weights (examples/pytorch) or a pruner-tui export
//	  layers: [...]              # optional: the file's metadata gives them when it has "layers"
//
// The layers are the file's (its metadata's "layers", see core/modelfile)
// unless the spec lists them, and the file's "input" says how the images
// are standardized (its mean and std replace the dataset's). The file is
// read when the spec is: a file that is missing, not valid, records no
// layers when the spec lists none, holds a factorized layer, or takes
// inputs of another shape than the dataset gives is an error on
// model.from's line. Its tensors are checked against the layers one by
// one before the run starts: a tensor missing, of another shape or dtype
// (only F32), or left over is an error naming it. A lottery step, which
// rewinds to the baseline's training, is refused.
//
// Images are channels-last (NHWC: a pixel's channels side by side); a
// convolution's filters are a (kernel²·channels)×filters matrix, what the
// compression steps prune, quantize, share and factorize like a dense
// layer's weights. Shapes are checked when the file is read: a window that
// does not fit its input, a convolution after the images became vectors,
// or a flatten of a vector is an error naming the layer and the shape.
//
//	train:
//	  optimizer: adam            # * adam | sgd
//	  lr: 0.001                  # * in (0, 1]
//	  momentum: 0.9              # sgd only, in [0, 1) (default 0)
//	  epochs: 10                 # * in [1, 1000]
//	  batch: 64                  # * in [1, 65536]
//	  lr_decay: 0.8              # epoch e runs at lr·lr_decay^(e−1); default 1 (constant)
//	  augment: {flip: true, shift: 2}  # mnist, fashion-mnist: each training image, each time a batch
//	                             # draws it, mirrored left–right with probability ½ and moved by up
//	                             # to shift pixels (0…4) each way, the background moving in; the
//	                             # baseline and every fine-tuning train so, the test set is as it is
//	  weight_decay: 0.05         # [0, 1): adam → AdamW, each weight matrix shrinks by lr·λ·w every step;
//	                             # sgd → an L2 term (g += λ·w); biases are not decayed; fine-tuning too
//	compress:                    # each step starts from a copy of the trained baseline
//	  - {technique: prune, ratio: 0.9, scope: global, layers: [fc1], finetune_epochs: 2, finetune_lr: 0.0005}
//	  - {technique: prune, schedule: gradual, targets: [0.95, 0.99], scope: global, end_epoch: 8, finetune_epochs: 6}
//	  - {technique: sensitivity}
//	  - {technique: quantize, bits: 4, layers: [fc1, fc2]}
//	  - {technique: lowrank, layer: fc1, rank: 20, finetune_epochs: 2}
//
// Prune: ratio * in [0, 0.99] (see below for what else may say how much);
// scope layer (each layer loses ratio, the
// default) or global (one magnitude threshold across the layers). Quantize:
// bits * in [1, 8], or 32 (float32, a no-op); after fine-tuning a quantized
// model its weights are snapped back to the grid every epoch. Lowrank: rank *
// in [1, min(in, out)] of layer (default: the first dense layer). layers
// defaults to every dense layer. Fine-tuning uses the training optimizer,
// fresh, with a rate that starts at finetune_lr (default train.lr) and falls
// linearly to 0 over the fine-tuning steps: a high start lets the model
// recover from the damage, the annealed end settles it (on LeNet-300-100
// this beat any constant rate tried, from train.lr/10 to train.lr/2).
//
// # Pruning as the literature does it
//
// A prune step has more keys than ratio and scope; the row's technique
// column names the schedule (prune, prune-gradual, prune-iterative,
// prune-structured, prune-structured-iterative, lottery, lottery-reinit).
//
//	compress:
//	  - technique: prune
//	    criterion: magnitude     # magnitude (default) | random, the control every paper reports
//	    scope: global            # layer (default) | global
//	    ratio: 0.9               # the final fraction of weights removed ...
//	    targets: [0.9, 0.95]     # ... or several: a row each (one-shot, gradual), a round each (iterative)
//	    per_layer: {fc3: 0.5}    # own ratios; ratio (and scope) apply to the other layers
//	    layers: [fc1, fc2, fc3]  # the layers pruned at ratio (default: every dense layer)
//	    schedule: one-shot       # one-shot (default) | gradual | iterative | lottery
//	    finetune_epochs: 2       # after pruning; iterative: per round; lottery: training per round
//	    finetune_lr: 0.001       # default train.lr (not for lottery)
//
// Schedules:
//
//   - one-shot: prune, then fine-tune with the rate annealed from
//     finetune_lr to 0. A budget replaces the ratio: budget: {max_nonzero:
//     N} or {max_bytes: S} prunes globally by magnitude just far enough that
//     at most N weights stay non-zero, or the stored model takes at most S
//     bytes (size_bytes); one-shot, magnitude and global only.
//   - gradual (Zhu & Gupta 2017): start_epoch (default 0), end_epoch *,
//     every (Δt, default 100 steps), initial (s_i, default 0). A copy of the
//     baseline trains for end_epoch + finetune_epochs epochs; from step
//     t0 = start_epoch·S to t0 + nΔt = end_epoch·S (S steps an epoch) the
//     masks are updated every Δt steps to s_t = s_f + (s_i − s_f)(1 − (t −
//     t0)/(nΔt))³ of each group's final ratio s_f. The rate stays at
//     finetune_lr while pruning, then falls linearly to 0 over the
//     fine-tuning epochs. One row per target.
//   - iterative (Han et al. 2015): rounds * and ratio (the final ratio) or
//     round_ratio (the fraction of the remaining weights each round prunes;
//     the final ratio is 1 − (1 − round_ratio)^rounds). Round k prunes each
//     group to 1 − (1 − s_f)^(k/rounds), then fine-tunes for
//     finetune_epochs. Or targets: [0.5, 0.8, 0.9, 0.92], rising, one per
//     round (rounds may be left out): round k prunes the common layers to
//     the k-th target and each per_layer layer to its ratio times the k-th
//     target over the last. Steps that shrink as the network thins out
//     recover better than equal shares (on LeNet-300-100 at 92%: 98.39%
//     against 98.1%). One row per round; its wall_s counts every round so
//     far.
//   - lottery (Frankle & Carbin 2019): rounds *, ratio or round_ratio as
//     for iterative, rewind_epoch (default 0: the initial weights). Round k
//     prunes the last round's trained ticket (the baseline for round 1) by
//     magnitude, rewinds the survivors to their values after rewind_epoch
//     epochs of the baseline's training, and trains finetune_epochs
//     (default train.epochs − rewind_epoch) with the training optimizer and
//     rate schedule, resumed at epoch rewind_epoch+1. The same mask is also
//     trained from a fresh random initialization (He normal, zero biases):
//     two rows per round, lottery and lottery-reinit.
//
// Structured pruning: structured: true removes whole neurons of the hidden
// layers (never the output layer) — for a convolution whole filters —
// scored by the criterion l1 (default) or l2 norm of their incoming
// weights; the next layer loses the matching inputs (the next
// convolution's input channel, or the dense layer's inputs at every pixel
// of the flattened channel), so the row's params_total, flops and latency
// drop. ratio is the
// fraction of each layer's neurons; schedules one-shot and iterative;
// scope layer.
//
// Sensitivity (Han et al. 2015): {technique: sensitivity, ratios: [0, 0.5,
// 0.9], layers: [...]} prunes each layer of the baseline alone at each
// ratio (default 0 to 0.95 in steps of 0.05) and records the test accuracy
// without fine-tuning. It adds no result rows: its table (columns layer,
// ratio, test_acc; see results.Sensitivity) goes out in SensitivityEvents and
// DoneEvent. A later prune step takes its per-layer ratios from it with
// ratios_from: sensitivity and max_loss_pp: 1 (the default): each layer
// gets the largest ratio at which, and below which, its test accuracy
// stays within max_loss_pp of the dense baseline's (see experiments.RatiosWithin);
// per_layer entries still override, and ratio applies to layers the table
// does not cover.
//
// # Quantization
//
// A quantize step snaps weights to a uniform grid of 2^bits levels (codes
// and a scale per output channel are what the model file stores):
//
//	compress:
//	  - technique: quantize
//	    bits: 4                  # * 1 to 8, or 32 (float32); bits_per_layer or bits_from may stand in
//	    layers: [fc1, fc2]       # the layers bits applies to (default: every weight layer)
//	    bits_per_layer: {fc3: 8} # mixed precision: own widths (32 keeps a layer float32)
//	    mode: symmetric          # symmetric (default) | asymmetric: a zero point, codes 0…2^bits−1
//	    granularity: channel     # channel (default: a scale per output channel) | tensor (one per layer)
//	    calibration: minmax      # minmax (default) | percentile: the range is a percentile of |w|
//	    percentile: 99.9         # with calibration percentile, in [50, 100] (default 99.9); outliers clip
//	    activation_bits: 8       # also quantize each weight layer's input (2–8 bits), ranges
//	    calibration_samples: 1000 #   calibrated on the first N training examples (default 1000)
//	    qat: true                # quantization-aware training for finetune_epochs (* ≥ 1 with qat)
//	    finetune_epochs: 4
//
// Symmetric b-bit codes are −q…q with q = 2^(b−1) − 1 (2 bits: −1, 0, +1;
// ternary), one bit is sign(w)·mean|w|; zero (a pruned weight) stays exact
// in every mode. Without qat, finetune_epochs trains the weights as floats
// and snaps them back to the grid after every epoch; with qat: true they
// train through the quantizer (fake quantization with a straight-through
// estimator on float shadow weights, core/quant.QAT), which is what makes
// 1 and 2 bits work. With activation_bits the model gets activation
// fake-quantizers before its weight layers (stored in the model file too).
//
// Bit-width sensitivity: {technique: bit-sensitivity, bit_widths: [8, 4, 2],
// layers: [...]} quantizes each layer alone at each width (default 8 down
// to 1) with the step's mode, granularity and calibration, and records the
// test accuracy without fine-tuning. Like a pruning sensitivity step it adds
// no result rows: its table (columns layer, bits, test_acc) goes out in
// SensitivityEvents and the run's report. A later quantize step with
// bits_from: sensitivity and max_loss_pp: 1 (the default) gives each layer
// the fewest bits whose accuracy stays within max_loss_pp of the dense
// baseline's (32 when none does; see experiments.PickBits); bits_per_layer still
// overrides, and bits applies to the layers the table does not cover.
//
// # Weight sharing (Deep Compression)
//
//	compress:
//	  - technique: kmeans
//	    clusters: 16             # * shared values per layer, 1 to 256 (indices of ⌈log₂ k⌉ bits)
//	    clusters_per_layer: {fc3: 32}
//	    init: linear             # linear (default, Han et al.'s best) | random | density
//	    layers: [fc1, fc2]
//	    finetune_epochs: 2       # fine-tune the codebook: each centroid moves by its weights' summed gradient
//
// Each layer's non-zero weights are clustered by 1-D k-means (30 Lloyd
// rounds at most) and replaced by their centroid; pruned weights stay zero.
//
// # Low-rank factorization
//
//	compress:
//	  - technique: lowrank
//	    layer: fc1               # default: the first dense layer; a conv layer factorizes its
//	                             #   filter matrix: a kernel×kernel conv to rank channels, then a 1×1
//	    rank: 20                 # * the rank, which must save parameters: r·(in+out) < in·out ...
//	    ranks: {fc1: 20, fc2: 16} # ... or ranks by layer, several layers at once ...
//	    energy: 0.9              # ... or the smallest rank keeping 90% of Σσ², for layer (or layers: [...])
//	    randomized: true         # randomized SVD (Halko et al. 2011) instead of the exact one
//	    finetune_epochs: 3       # fine-tune the two factors
//
// A rank that saves no parameters is an error naming the largest that does
// (for 784×300: 216); so is an energy that needs such a rank, when the run
// gets to it. The setting of an energy row says the ranks it chose.
//
// # Pipelines
//
// A compress entry may chain stages on one model, each working on what the
// stage before left and adding its own row, so each stage's contribution
// shows as in the Deep Compression paper's tables:
//
//	compress:
//	  - name: deep compression   # optional: prefixes the rows' settings
//	    pipeline:
//	      - {technique: prune, schedule: gradual, ratio: 0.97, scope: global, end_epoch: 6}
//	      - {technique: finetune, epochs: 4}
//	      - {technique: kmeans, clusters: 16}
//	      - {technique: finetune, epochs: 2}   # after kmeans: the codebook
//	      - {technique: huffman}
//
// Stages: prune (schedules one-shot, gradual, iterative; ratio, scope,
// criterion, per_layer, layers, and the schedule's keys), quantize, kmeans,
// lowrank (as steps), finetune (epochs *, finetune_lr: fine-tune the model
// as it stands, keeping shared weights shared: codebooks train by their
// centroids, uniformly quantized layers through their quantizer) and
// huffman (entropy-code the model file from this row on). Prune and lowrank
// stages come before the pipeline's one quantize or kmeans stage; after a
// lowrank stage, layers may name the factorized layer (both factors) or a
// factor ("fc1.A", "fc1.B"), so the factors can be pruned or quantized.
// Rows: the first stage's technique, then "+technique" for each later one
// (prune-gradual, +finetune, +kmeans, ...); wall_s counts every stage up to
// the row. A pipeline's name is one line of printable characters, at most
// 64.
//
// # Sweeps
//
// A sweep block turns a spec into many runs: points, each the spec with
// some of its fields set to other values, each run with one seed or more.
// A field is named by its path: keys joined by dots, list entries
// numbered from 0 (compress[0].ratio, compress[1].bits,
// compress[0].pipeline[1].bits, train.lr, model.layers[0].units, seed).
//
//	sweep:
//	  grid:                      # every combination, the first axis slowest
//	    compress[0].ratio: [0.5, 0.8, 0.9]
//	    compress[1].bits: [2, 4]
//	  repeats: 3                 # 1 to 100 seeds a point: seed, seed+1, seed+2 (default 1)
//
//	sweep:
//	  random:                    # n points drawn at random, instead of a grid
//	    n: 20                    # * 1 to 10,000
//	    seed: 7                  # the draws' own seed (default 0), not the runs'
//	    axes:
//	      train.lr: {log_uniform: [1e-4, 1e-2]}   # 0 < lo < hi
//	      compress[0].ratio: {uniform: [0.5, 0.95]}
//	      train.batch: {int_uniform: [32, 128]}   # whole numbers, both ends included
//	      compress[0].scope: {choice: [layer, global]}
//
//	sweep: {repeats: 5}          # the spec alone, with 5 seeds
//
// A path with [ ] is written in block style (as above) or quoted
// ("compress[0].ratio": [...]): YAML does not allow brackets in a plain
// key inside { }. An axis may set a field the spec leaves out (the mappings
// on its way are made) or one it must give (compress[1].bits when every
// point sets it), but not a list entry the spec does not have, the
// experiment's name, or a field another axis sets or lies within.
// Uniform and log-uniform draws are rounded to 3 significant digits, so a
// point's label says exactly what ran; a random search with the same seed
// draws the same points.
//
// Every point is built and checked when the file is parsed, as a spec of
// its own: a value that does not fit is an error naming the axis, the
// value, what is allowed and the value's line, e.g. `x.yaml: line 31:
// sweep axis compress[0].ratio: the value 1.5: must be in [0, 0.99], got
// 1.5`; one that fits alone but not with another axis names the whole
// point. A sweep has at most MaxSweepRuns (10,000) runs, points × repeats:
// reading one takes about a millisecond a point. Spec.Sweep.Points lists
// the runs, a point's repeats side by side; the Spec Parse returns is the
// one written (the first point when it needs an axis to be complete).
//
// # Limits
//
// A spec is refused, with its line, before the YAML library builds or
// decodes anything costly, when the file is larger than MaxSpecBytes (1
// MiB; Load reads no more), is not UTF-8 or holds a character YAML does not
// allow (a control character other than tab and line breaks; a leading
// byte-order mark is skipped), holds more than MaxMarks (50,000) YAML
// punctuation marks and line breaks, nests lists and mappings deeper than
// MaxDepth (32), has a list of more than MaxListLength (1,000) entries, or
// more than MaxValues (100,000) values once every alias is replaced by
// what it names (a "billion laughs"); an anchor may be defined once, and
// an alias may not stand inside its own anchor. What an alias names is
// checked where it is used, as if written there.
//
// Memory estimates the memory a run of a spec holds (dataset, model,
// activations: the formula is on the type), and CheckMemory refuses a spec
// that needs more than a limit; experiments.Run checks it against
// Options.MaxMemory (pruner-tui --max-memory) before it loads anything.
package spec
