// Package lowrank replaces a Dense layer by a truncated SVD of its weights:
// x·W + b ≈ (x·A)·B + b with A In×Rank and B Rank×Out, which stores and runs
// Rank·(In+Out) weights instead of In·Out. By Eckart–Young the rank-r
// truncation is the best rank-r approximation of W in Frobenius norm, with
// error √(Σ_{i≥r} σ_i²); EnergyKept says what fraction of Σσ² a rank keeps
// and RankForEnergy picks the smallest rank that keeps a given fraction.
//
// A factorization only compresses when Rank·(In+Out) < In·Out (SavesParams):
// Factorize refuses larger ranks and says which ranks save; FactorizeWith
// with AnyRank factorizes at any rank, and with Randomized uses the
// randomized SVD of Halko et al. (2011) instead of the exact one.
//
// The factorized Layer is an nn.Layer: both factors train, so a model can be
// fine-tuned after factorization. Its Factors are ordinary Dense layers, so
// pruning and quantization apply to them as to any other layer.
package lowrank
