// Package prune removes weights and neurons from the Dense layers of an nn
// model, with the methods of the pruning literature:
//
//   - Prune: unstructured pruning of a list of Dense layers (choose them
//     with nn.SelectWeightLayers or Sequential.DenseLayers) by a Criterion,
//     Magnitude or Random (the control), with a Scope, ScopeLayer (each
//     layer loses the same fraction) or ScopeGlobal (one ranking across the
//     layers); per-layer ratios are one Prune call per layer;
//   - Structured: whole neurons scored by the L1/L2 norm of their incoming
//     weights, physically removed, so the model gets smaller and faster;
//   - Schedule: Zhu & Gupta's gradual (cubic) pruning, the sparsity for
//     each step of a training loop, which prunes with Prune when it is Due;
//   - ToBudget: the least magnitude pruning that meets a non-zero or byte
//     budget;
//   - Snapshot, Rewind, Reinit: lottery-ticket rewinding and its control;
//   - Sensitivity: each layer pruned alone, to choose per-layer ratios.
//
// Unstructured pruning writes a mask into each weight Param (1 keeps a
// weight, 0 removes it) and zeroes the removed weights; biases are never
// pruned. The nn optimizers re-apply the mask after every step, so
// fine-tuning never regrows a pruned weight, and the layer's Stats count the
// zeros when they size the stored form. Weights already masked count as
// removed, so pruning again to a higher ratio only adds to the mask. Ties
// are broken by position and random choices come from a source the caller
// passes (Options.Rand, Reinit's rng), so every function is deterministic.
package prune
