//go:build !amd64

package kernels

import "unsafe"

const int8Generic = 0

var int8Names = [...]string{int8Generic: "generic"}

// int8Active: without the amd64 kernels every CPU runs the pure-Go kernel.
var int8Active = int8Generic

// Int8Impl names the implementation Int8.Forward uses: "generic" here.
func Int8Impl() string { return int8Names[int8Active] }

func supportedInt8() []int { return []int{int8Generic} }

func activationLevels(impl int) int32 { return levelsU8 }

func quantizeRow(impl int, x []float32, codes []uint8) (float32, int32) {
	return quantizeRowGo(x, codes, levelsU8)
}

func int8Product(impl int, m *Int8, codes []uint8, kp, rows int, y []float32, rowScale []float32, rowZero []int32, raw bool) {
	var rawOut []int32
	if raw {
		rawOut = unsafe.Slice((*int32)(unsafe.Pointer(&y[0])), len(y))
	}
	int8Go(m, codes, kp, rows, y, rowScale, rowZero, rawOut)
}
