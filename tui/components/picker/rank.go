package picker

import (
	"sort"
	"strings"
)

// How well an item matches a filter, best first. Names come before
// descriptions: "/agp" must find agp-lenet300 before a preset whose
// description happens to hold an a, a g and a p.
const (
	matchName    = iota // the name is the query
	matchPrefix         // the name starts with it
	matchInName         // the name holds it
	matchLetters        // the name holds its letters in order (dc → deep-compression)
	matchDesc           // the description or the file's path holds it
	noMatch
)

// rank returns the indexes of the items that match query, best match
// first, in list order among equals; every item in list order for an
// empty query. Each word of the query must match: the first word ranks.
func rank(items []Item, query string) []int {
	words := strings.Fields(strings.ToLower(query))
	type scored struct{ i, score int }
	var out []scored
	for i, it := range items {
		best := noMatch
		for w, word := range words {
			s := score(it, word)
			if s == noMatch {
				best = noMatch
				break
			}
			if w == 0 {
				best = s
			}
		}
		if len(words) == 0 {
			best = 0
		}
		if best != noMatch {
			out = append(out, scored{i, best})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].score < out[b].score })
	idx := make([]int, len(out))
	for j, s := range out {
		idx[j] = s.i
	}
	return idx
}

// score is how item it matches one lower-case word.
func score(it Item, word string) int {
	name := strings.ToLower(it.Name)
	switch {
	case name == word:
		return matchName
	case strings.HasPrefix(name, word):
		return matchPrefix
	case strings.Contains(name, word):
		return matchInName
	case inOrder(name, word):
		return matchLetters
	case strings.Contains(strings.ToLower(it.Desc), word) || strings.Contains(strings.ToLower(it.Path()), word):
		return matchDesc
	}
	return noMatch
}

// inOrder reports whether the letters of word appear in s in order.
func inOrder(s, word string) bool {
	rs := []rune(s)
	j := 0
	for _, r := range word {
		for j < len(rs) && rs[j] != r {
			j++
		}
		if j == len(rs) {
			return false
		}
		j++
	}
	return true
}
