// Package nn is a small float32 neural-network library: Dense, ReLU and
// Dropout layers in a Sequential model, softmax cross-entropy, SGD with
// momentum and Adam, and one readable training loop.
//
// Shapes: activations are row-major batch×features matrices; a Dense layer's
// weight W is In×Out, so y = x·W + b. Each layer's Forward and Backward sit
// next to each other with the math in a comment. A Param may carry a pruning
// mask that the optimizer keeps applied, so fine-tuning never regrows weights.
//
// The weight matrices of a model are its Dense layers and the Dense factors
// of its Factored layers (a low-rank layer's "fc1.A" and "fc1.B"):
// WeightLayers lists them and SelectWeightLayers picks them by name, for
// the packages that prune and quantize them.
package nn
