package kernels

import "testing"

// TestPackTransposed checks the panel layout of op(B) = Bᵀ, by gather and by
// the element-by-element fallback used when offsets overflow int32:
// panel[p·nr + j] = B[j][p] for the panel's columns, 0 past them.
func TestPackTransposed(t *testing.T) {
	const n, k, ldb, cols = 5, 7, 9, 5
	b := make([]float32, n*ldb)
	for j := 0; j < n; j++ {
		for p := 0; p < ldb; p++ {
			b[j*ldb+p] = float32(100*j + p) // B[j][p], with junk past k
		}
	}
	for _, impl := range supportedImpls()[1:] {
		nr := 32
		if impl == implAVX2 {
			nr = 16
		}
		for _, gather := range []bool{true, false} {
			s := panelPool.Get().(*panelScratch)
			for j := range s.idx {
				s.idx[j] = int32(j * ldb)
			}
			for i := range s.panel {
				s.panel[i] = -1
			}
			packTransposed(impl, gather, s, b, ldb, k, cols)
			for p := 0; p < k; p++ {
				for j := 0; j < nr; j++ {
					want := float32(0)
					if j < cols {
						want = float32(100*j + p)
					}
					if got := s.panel[p*nr+j]; got != want {
						t.Fatalf("%s gather=%v: panel[%d][%d] = %v, want %v", implNames[impl], gather, p, j, got, want)
					}
				}
			}
			panelPool.Put(s)
		}
	}
}
