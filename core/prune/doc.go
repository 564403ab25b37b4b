// Package prune removes weights and neurons from the Dense layers of an nn
// model, with the methods of the pruning literature:
//
//   - criteria: by magnitude (Magnitude, MagnitudeLayers, Global,
//     MagnitudePerLayer) and at random as the control (Random, RandomLayers,
//     RandomGlobal), layer by layer (each layer loses the same fraction) or
//     globally (one ranking across the chosen layers);
//   - Structured: whole neurons scored by the L1/L2 norm of their incoming
//     weights, physically removed, so the model gets smaller and faster;
//   - Schedule: Zhu & Gupta's gradual (cubic) pruning, driven step by step
//     from a training loop;
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
// are broken by position and random choices come from the caller's rng, so
// every function is deterministic.
package prune
