// Package picker is the preset picker: a filterable list of the shipped
// presets and of the spec files given on the command line.
package picker
