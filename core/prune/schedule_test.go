package prune

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

func TestScheduleSparsityByHand(t *testing.T) {
	s := Schedule{Initial: 0, Final: 0.8, Start: 100, Steps: 400, Every: 100}
	cases := []struct {
		step int
		want float64
	}{
		{0, 0},        // before
		{99, 0},       // before
		{100, 0},      // start
		{200, 0.4625}, // 0.8 − 0.8·0.75³
		{300, 0.7},    // middle: 0.8 − 0.8·0.5³
		{400, 0.7875}, // 0.8 − 0.8·0.25³
		{500, 0.8},    // end
		{10000, 0.8},  // after
	}
	for _, c := range cases {
		if got := s.Sparsity(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Sparsity(%d) = %v, want %v", c.step, got, c.want)
		}
	}

	// A non-zero start: 0.9 + (0.2 − 0.9)·0.5³ = 0.8125 halfway.
	s = Schedule{Initial: 0.2, Final: 0.9, Start: 0, Steps: 10, Every: 1}
	for _, c := range []struct {
		step int
		want float64
	}{{0, 0.2}, {5, 0.8125}, {10, 0.9}} {
		if got := s.Sparsity(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Sparsity(%d) = %v, want %v", c.step, got, c.want)
		}
	}
	if got := s.Sparsity(0); got != 0.2 {
		t.Errorf("Sparsity(start) = %v, want exactly 0.2", got)
	}

	// Steps 0 jumps to Final at Start.
	s = Schedule{Initial: 0.1, Final: 0.5, Start: 7, Steps: 0, Every: 1}
	if s.Sparsity(6) != 0.1 || s.Sparsity(7) != 0.5 || !s.Due(7) || s.Due(8) {
		t.Errorf("Steps 0: Sparsity(6) %v Sparsity(7) %v Due(7) %v Due(8) %v",
			s.Sparsity(6), s.Sparsity(7), s.Due(7), s.Due(8))
	}
}

func TestScheduleIsMonotoneAndSlowsDown(t *testing.T) {
	s := Schedule{Initial: 0.1, Final: 0.95, Start: 50, Steps: 1000, Every: 10}
	prev, prevGain := s.Sparsity(0), math.Inf(1)
	for step := 1; step <= 1200; step++ {
		got := s.Sparsity(step)
		if got < prev {
			t.Fatalf("Sparsity(%d) = %v < Sparsity(%d) = %v", step, got, step-1, prev)
		}
		if step > 51 && step <= 1050 {
			// The cubic prunes less at every step than at the one before.
			if gain := got - prev; gain > prevGain+1e-15 {
				t.Fatalf("gain at step %d is %v, above %v at the step before", step, gain, prevGain)
			}
		}
		prevGain = got - prev
		prev = got
	}
}

func TestScheduleDue(t *testing.T) {
	s := Schedule{Initial: 0, Final: 0.8, Start: 100, Steps: 400, Every: 100}
	var due []int
	for step := range 1000 {
		if s.Due(step) {
			due = append(due, step)
		}
	}
	if want := []int{100, 200, 300, 400, 500}; !slices.Equal(due, want) {
		t.Errorf("due at %v, want %v", due, want)
	}
	if s.Updates() != 5 {
		t.Errorf("Updates = %d, want 5", s.Updates())
	}

	// Steps not a multiple of Every: the end is still an update.
	s = Schedule{Initial: 0, Final: 0.5, Start: 0, Steps: 10, Every: 4}
	due = due[:0]
	for step := range 20 {
		if s.Due(step) {
			due = append(due, step)
		}
	}
	if want := []int{0, 4, 8, 10}; !slices.Equal(due, want) {
		t.Errorf("due at %v, want %v", due, want)
	}
	if s.Updates() != 4 {
		t.Errorf("Updates = %d, want 4", s.Updates())
	}
}

func TestScheduleValidate(t *testing.T) {
	good := Schedule{Initial: 0, Final: 0.9, Start: 0, Steps: 100, Every: 10}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid schedule: %v", err)
	}
	cases := []struct {
		edit func(*Schedule)
		want string
	}{
		{func(s *Schedule) { s.Initial = -0.1 }, "initial sparsity"},
		{func(s *Schedule) { s.Final = 1 }, "final sparsity"},
		{func(s *Schedule) { s.Initial = 0.95 }, "may only rise"},
		{func(s *Schedule) { s.Start = -1 }, "start step -1"},
		{func(s *Schedule) { s.Steps = -5 }, "length -5"},
		{func(s *Schedule) { s.Every = 0 }, "allowed 1 or more steps"},
	}
	for _, c := range cases {
		s := good
		c.edit(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want it to mention %q", s, err, c.want)
		}
	}
}

// A training loop prunes after every step at which the schedule is Due, to
// its Sparsity; the layer follows the cubic at the update steps and is left
// alone between them.
func TestScheduleFromATrainingLoop(t *testing.T) {
	afterStep := func(s Schedule, ds []*nn.Dense, step int, scope Scope) error {
		if !s.Due(step) {
			return nil
		}
		return Prune(ds, s.Sparsity(step), Options{Scope: scope})
	}
	d := dense("fc", 1, 10, seq(10)) // weights 1…10
	s := Schedule{Initial: 0, Final: 0.8, Start: 0, Steps: 4, Every: 2}
	// Step 0: 0 → none; step 2: 0.8 − 0.8·0.5³ = 0.7 → 7; step 4: 0.8 → 8.
	wantRemoved := []int{0, 0, 7, 7, 8, 8, 8}
	wantDue := []bool{true, false, true, false, true, false, false}
	for step, want := range wantRemoved {
		if s.Due(step) != wantDue[step] {
			t.Errorf("step %d: Due %v, want %v", step, s.Due(step), wantDue[step])
		}
		if err := afterStep(s, one(d), step, ScopeLayer); err != nil {
			t.Fatal(err)
		}
		if got := removedCount(d.W); got != want {
			t.Errorf("step %d: %d weights removed, want %d", step, got, want)
		}
	}
	if want := []float32{0, 0, 0, 0, 0, 0, 0, 0, 9, 10}; !slices.Equal(d.W.Value.Data, want) {
		t.Errorf("W = %v, want %v", d.W.Value.Data, want)
	}

	// Global scope ranks both layers together: fc1's weights are all below
	// fc2's, so at 0.5 fc1 goes entirely.
	m := twoLayerModel()
	fc1, fc2 := fc12(m)
	s = Schedule{Initial: 0, Final: 0.5, Start: 0, Steps: 0, Every: 1}
	if err := afterStep(s, []*nn.Dense{fc1, fc2}, 0, ScopeGlobal); err != nil {
		t.Fatal(err)
	}
	if Sparsity(fc1) != 1 || Sparsity(fc2) != 0 {
		t.Errorf("global: sparsity fc1 %v fc2 %v, want 1 and 0", Sparsity(fc1), Sparsity(fc2))
	}
}
