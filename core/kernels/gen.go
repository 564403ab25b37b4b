package kernels

// The amd64 micro-kernels are generated with avo by a nested module, so the
// main module does not depend on avo. The generated files are committed.
//go:generate go run -C internal/asmgen . -out ../../gemm_kern_amd64.s -stubs ../../gemm_kern_stubs_amd64.go -dispatch ../../gemm_tiles_amd64.go -pkg kernels
