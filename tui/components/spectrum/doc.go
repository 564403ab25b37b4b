// Package spectrum is the rank knob's chart: the singular values of the
// layer the knob factorizes as an ntcharts line chart, with the rank's cut
// marked and the share of the energy (Σσ²) it keeps.
package spectrum
