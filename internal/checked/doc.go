// Package checked multiplies the sizes a file's header claims without
// overflowing: every reader of a model or data file computes element
// counts with Product, so a shape whose product wraps around 64 bits (or
// 32, where int is 32 bits) is refused instead of allocating too little
// or too much.
package checked
