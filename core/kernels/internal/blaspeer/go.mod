module github.com/prunerlab/pruner-tui/core/kernels/internal/blaspeer

go 1.26.8

require github.com/prunerlab/pruner-tui v0.0.0

require golang.org/x/sys v0.50.0 // indirect

replace github.com/prunerlab/pruner-tui => ../../../..
