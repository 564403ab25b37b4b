package nn

import "fmt"

// Matrix is a dense row-major float32 matrix.
type Matrix struct {
	Rows, Cols int
	Data       []float32
}

// NewMatrix returns a zeroed rows×cols matrix.
func NewMatrix(rows, cols int) Matrix {
	return Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
}

// At returns element (i, j).
func (m Matrix) At(i, j int) float32 { return m.Data[i*m.Cols+j] }

// Set sets element (i, j).
func (m Matrix) Set(i, j int, v float32) { m.Data[i*m.Cols+j] = v }

// Row returns row i as a slice sharing m's storage.
func (m Matrix) Row(i int) []float32 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// Clone returns a deep copy.
func (m Matrix) Clone() Matrix {
	return Matrix{Rows: m.Rows, Cols: m.Cols, Data: append([]float32(nil), m.Data...)}
}

// Slice returns rows [from, to) sharing m's storage.
func (m Matrix) Slice(from, to int) Matrix {
	return Matrix{Rows: to - from, Cols: m.Cols, Data: m.Data[from*m.Cols : to*m.Cols]}
}

func (m Matrix) String() string { return fmt.Sprintf("Matrix(%d×%d)", m.Rows, m.Cols) }

// ensure returns buf resized to rows×cols, reusing its storage when it can.
// Contents are unspecified.
func ensure(buf Matrix, rows, cols int) Matrix {
	n := rows * cols
	if cap(buf.Data) < n {
		buf.Data = make([]float32, n)
	}
	return Matrix{Rows: rows, Cols: cols, Data: buf.Data[:n]}
}
