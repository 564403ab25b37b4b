package data

import "github.com/prunerlab/pruner-tui/core/nn"

// Set is a labelled dataset held in memory. X is N×Dim (row-major, float32),
// Y holds class indices 0..Classes-1.
type Set struct {
	Name       string
	X          nn.Matrix
	Y          []int
	Classes    int
	ClassNames []string // what each class is, when the dataset names them
	// Augment, when not nil, changes each training image at random as a
	// batch draws it (training sets only; see Augment).
	Augment *Augment
}

// Len returns the number of examples.
func (s *Set) Len() int { return len(s.Y) }

// Subset returns the first n examples, sharing s's storage. n <= 0 or
// n >= Len returns s itself.
func (s *Set) Subset(n int) *Set {
	if n <= 0 || n >= s.Len() {
		return s
	}
	return &Set{Name: s.Name, X: s.X.Slice(0, n), Y: s.Y[:n:n], Classes: s.Classes, ClassNames: s.ClassNames, Augment: s.Augment}
}
