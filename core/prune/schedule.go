package prune

import "fmt"

// Schedule is Zhu & Gupta's gradual pruning schedule ("To prune, or not to
// prune", 2017): during training the sparsity rises from Initial to Final
// over Steps optimizer steps starting at step Start,
//
//	s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(nΔt))³   for t0 ≤ t ≤ t0 + nΔt
//
// (s_i = Initial, s_f = Final, t0 = Start, nΔt = Steps), Initial before and
// Final after. The cubic prunes fast while there are many redundant weights
// and slowly as few are left. Masks are updated every Every steps (Δt), so
// the network recovers between updates.
//
// Steps count optimizer steps over the whole run: nn.TrainEpoch's onStep
// restarts at 0 each epoch, so a training loop passes epoch·stepsPerEpoch +
// step. After each optimizer step at which the schedule is Due, the loop
// prunes to Sparsity(step) with Prune; weights removed at earlier steps
// stay removed, so the sparsity follows the cubic, and the optimizer keeps
// the new zeros from the next step on.
type Schedule struct {
	Initial, Final float64
	Start, Steps   int
	Every          int
}

// Validate checks 0 ≤ Initial ≤ Final < 1, Start ≥ 0, Steps ≥ 0 and
// Every ≥ 1.
func (s Schedule) Validate() error {
	if err := checkRatio(s.Initial); err != nil {
		return fmt.Errorf("schedule initial sparsity: %w", err)
	}
	if err := checkRatio(s.Final); err != nil {
		return fmt.Errorf("schedule final sparsity: %w", err)
	}
	if s.Initial > s.Final {
		return fmt.Errorf("schedule initial sparsity %g is above the final %g: sparsity may only rise", s.Initial, s.Final)
	}
	if s.Start < 0 {
		return fmt.Errorf("schedule start step %d is negative: allowed 0 or more", s.Start)
	}
	if s.Steps < 0 {
		return fmt.Errorf("schedule length %d steps is negative: allowed 0 or more", s.Steps)
	}
	if s.Every < 1 {
		return fmt.Errorf("schedule mask-update interval %d is out of range: allowed 1 or more steps", s.Every)
	}
	return nil
}

// Sparsity is the target fraction of pruned weights at step.
func (s Schedule) Sparsity(step int) float64 {
	switch {
	case step < s.Start:
		return s.Initial
	case step >= s.Start+s.Steps: // also step == Start when Steps is 0
		return s.Final
	case step == s.Start:
		return s.Initial // exactly, not Final + (Initial − Final)
	}
	left := 1 - float64(step-s.Start)/float64(s.Steps)
	return s.Final + (s.Initial-s.Final)*left*left*left
}

// Due reports whether the masks are updated at step: at Start, every Every
// steps after it, and at Start+Steps, so Final is reached even when Steps is
// not a multiple of Every.
func (s Schedule) Due(step int) bool {
	if s.Every < 1 || step < s.Start || step > s.Start+s.Steps {
		return false
	}
	return (step-s.Start)%s.Every == 0 || step == s.Start+s.Steps
}

// Updates is the number of steps at which Due is true.
func (s Schedule) Updates() int {
	if s.Every < 1 || s.Steps < 0 {
		return 0
	}
	n := s.Steps/s.Every + 1
	if s.Steps%s.Every != 0 {
		n++
	}
	return n
}
