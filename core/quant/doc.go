// Package quant quantizes the weights (and, for measurement, the
// activations) of nn models:
//
//   - Quantize / QuantizeModel: post-training uniform quantization at 1–8
//     bits, symmetric or asymmetric (zero point), one scale per output
//     channel (column j of W) or per tensor, with the range from min–max or
//     a percentile that clips outliers (Options; Options{Bits: b} is the
//     plain symmetric per-channel min–max quantizer);
//   - BitSensitivity, PickBits: mixed precision, a bit width per layer
//     chosen from each layer's sensitivity curve, applied with Quantize;
//   - QAT: quantization-aware training, float shadow weights trained
//     through the quantizer with a straight-through estimator, as an
//     nn.Optimizer wrapping SGD or Adam;
//   - Cluster / Codebook / CodebookTuner: Deep Compression's k-means weight
//     sharing (Han et al. 2016) and the fine-tuning of the shared centroids
//     by the summed gradients of their weights;
//   - CalibrateActivations / WithActivationQuant: int8 (or fewer bits)
//     activation ranges from a sample and a fake-quantized model to measure
//     accuracy with them.
//
// It is "fake quant": a quantized layer keeps float32 values, each snapped
// to one of its levels, and records Bits on the layer so its Stats size the
// stored form. Uniform levels are exactly float32(c·r/m) (see Quantize) and
// a clustered layer holds at most k distinct values, so core/modelfile can
// store codes and scales, or a codebook and indices, and read back the very
// same floats. Pruned (zero) weights stay exactly zero everywhere; biases
// stay float32.
//
// Functions that take a model reach every weight matrix: Dense layers and
// the Dense factors of factorized layers (nn.Factored, such as
// lowrank.Layer), named "fc1.A", "fc1.B", or "fc1" for both (see
// nn.WeightLayers and nn.SelectWeightLayers).
package quant
