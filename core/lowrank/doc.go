// Package lowrank replaces a Dense layer by a truncated SVD of its weights:
// x·W + b ≈ (x·A)·B + b with A In×Rank and B Rank×Out, which stores and runs
// Rank·(In+Out) weights instead of In·Out. By Eckart–Young the rank-r
// truncation is the best rank-r approximation of W in Frobenius norm, with
// error √(Σ_{i≥r} σ_i²); EnergyKept says what fraction of Σσ² a rank keeps.
//
// The factorized Layer is an nn.Layer: both factors train, so a model can be
// fine-tuned after factorization.
package lowrank
