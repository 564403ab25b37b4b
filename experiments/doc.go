// Package experiments says what an experiment is and runs it.
//
// A Spec (parsed from YAML by ParseSpec, or a shipped preset via LoadSpec)
// names a dataset, a model, how to train it and a list of compression steps.
// Run trains the dense baseline, then applies each step to a fresh copy of
// the baseline (steps never stack), fine-tunes, scores it and adds a row to
// the result Table, reporting typed Events to a Sink as it goes. The TUI's
// sink forwards them to Bubble Tea; NewProgressSink is the headless one.
// Trained.Apply and Trained.FineTune apply a Setting of the three knobs
// (prune ratio, bit width, rank) to a copy of the trained baseline.
//
// Everything is deterministic from Spec.Seed: the same spec gives the same
// table except for the latency and wall-time columns.
//
// # Spec files
//
// Keys are snake_case; unknown keys are errors. Required keys are marked *.
//
//	name: lenet-300-100          # * the experiment column of the table
//	description: one line
//	seed: 1                      # every random choice derives from it (default 0)
//	dataset:
//	  name: mnist                # * mnist | blobs | spirals
//	  limit: 0                   # first N training examples only (0 = all)
//	  test_limit: 0              # first N test examples only (0 = all)
//	  classes: 3                 # * for blobs and spirals (mnist: 10)
//	  dim: 16                    # * for blobs: input width
//	  noise: 0.1                 # spirals: noise std (default 0)
//	  samples: 2000              # blobs, spirals: training points; test gets samples/4
//	model:
//	  layers:                    # * the input width comes from the dataset
//	    - {type: dense, units: 300, name: fc1}   # name optional: fc1, fc2, ...
//	    - {type: dense, units: 10, init: glorot} # init: he (default) | glorot
//	    - {type: relu}
//	    - {type: dropout, rate: 0.2}             # rate * for dropout, in [0, 1)
//	    - {type: dense, units: 10}               # the last layer: dense, one unit per class
//	train:
//	  optimizer: adam            # * adam | sgd
//	  lr: 0.001                  # * in (0, 1]
//	  momentum: 0.9              # sgd only, in [0, 1) (default 0)
//	  epochs: 10                 # * in [1, 1000]
//	  batch: 64                  # * in [1, 65536]
//	  lr_decay: 0.8              # epoch e runs at lr·lr_decay^(e−1); default 1 (constant)
//	compress:                    # each step starts from a copy of the trained baseline
//	  - {technique: prune, ratio: 0.9, scope: global, layers: [fc1], finetune_epochs: 2, finetune_lr: 0.0005}
//	  - {technique: quantize, bits: 4, layers: [fc1, fc2]}
//	  - {technique: lowrank, layer: fc1, rank: 20, finetune_epochs: 2}
//
// Prune: ratio * in [0, 0.99]; scope layer (each layer loses ratio, the
// default) or global (one magnitude threshold across the layers). Quantize:
// bits * in [1, 8], or 32 (float32, a no-op); after fine-tuning a quantized
// model its weights are snapped back to the grid every epoch. Lowrank: rank *
// in [1, min(in, out)] of layer (default: the first dense layer). layers
// defaults to every dense layer. Fine-tuning uses the training optimizer,
// fresh, with a rate that starts at finetune_lr (default train.lr) and falls
// linearly to 0 over the fine-tuning steps: a high start lets the model
// recover from the damage, the annealed end settles it (on LeNet-300-100
// this beat any constant rate tried, from train.lr/10 to train.lr/2).
package experiments
