// Package prune removes weights from the Dense layers of an nn model by
// magnitude: layer by layer (each layer loses the same fraction) or globally
// (one threshold across the chosen layers). Biases are never pruned.
//
// Pruning writes a mask into each weight Param (1 keeps a weight, 0 removes
// it) and zeroes the removed weights. The nn optimizers re-apply the mask
// after every step, so fine-tuning never regrows a pruned weight, and the
// layer's Stats count the zeros when they size the stored form.
package prune
