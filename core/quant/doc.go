// Package quant quantizes the weights of nn Dense layers: symmetric uniform
// quantization with one scale per output channel (column j of W).
//
// It is "fake quant": a quantized layer keeps float32 values, each snapped to
// code·scale_j with an integer code of at most Bits bits, and records Bits on
// the layer so its Stats size the stored form honestly (codes plus one
// float32 scale per channel). Only weights are quantized; biases and
// activations stay float32. Pruned (zero) weights stay exactly zero.
package quant
