package spec

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// hostileCases are specs built to exhaust the parser, the decoder or the
// terminal; each must be refused with a message naming what is wrong.
var hostileCases = []struct {
	name string
	yaml string
	want []string // substrings of the error, in order
}{
	{"too large", validSpec + "# " + strings.Repeat("x", MaxSpecBytes) + "\n",
		[]string{"bad.yaml: ", "larger than 1 MiB"}},
	{"100,000 nested brackets in a string field", "name: " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\n",
		[]string{"bad.yaml: line 1: ", "more than 50000 YAML punctuation marks"}},
	{"100,000 entries", "name: x\nseed: [" + strings.Repeat("1,", 100_000) + "]\n",
		[]string{"line 2: ", "more than 50000 YAML punctuation marks"}},
	{"33 nested flow lists", "name: x\ndescription: " + strings.Repeat("[", 33) + strings.Repeat("]", 33) + "\n",
		[]string{"line 2: ", "nest more than 32 deep"}},
	{"33 nested block lists on a line", "name: x\ncompress: " + strings.Repeat("- ", 33) + "x\n",
		[]string{"line 2: ", "nest more than 32 deep"}},
	{"33 nested block mappings", nestedBlock(33),
		[]string{"line 33: ", "nest more than 32 deep"}},
	{"billion laughs of nested pipelines", laughs(10, 9),
		[]string{"with its aliases expanded the spec has more than 100000 values"}},
	{"an anchor defined twice", replaceLine("- {technique: prune", "- &a {technique: prune, ratio: 0.5}") +
		"  - &a {technique: quantize, bits: 4}\n", []string{"line 24: ", "anchor &a is defined twice (first on line 21)"}},
	{"an alias inside its own anchor", "name: x\ncompress: &a [*a]\n",
		[]string{"line 2: ", "alias *a is used inside its own anchor &a"}},
	{"an alias brings a pipeline into a pipeline", replaceLine("- {technique: prune", "- &p {pipeline: [{technique: prune, ratio: 0.5}]}") +
		"  - pipeline: [*p]\n", []string{"compress[3].pipeline[0].technique: ", `in a pipeline, got "pipeline"`}},
	{"an alias brings a stage into compress", replaceLine("- {technique: prune", "- pipeline: [&f {technique: finetune, epochs: 1}]") +
		"  - *f\n", []string{"compress[3].technique: must be one of prune, quantize, ", `got "finetune"`}},
	{"an alias is checked where it is used", "name: x\ndataset: &d {name: spirals, classes: 3}\nmodel: {layers: [{type: dense, units: 3}]}\ntrain: *d\n",
		[]string{"line 2: ", `unknown field "name" in train (allowed: optimizer,`}},
	{"7,000 steps", replaceLine("- {technique: prune", strings.Repeat("- {technique: prune, ratio: 0.5}\n  ", 7000)),
		[]string{"line 21: compress: must have at most 1000 entries, got 7002"}},
	{"1,001 aliased steps", replaceLine("- {technique: prune", "- &p {technique: prune, ratio: 0.5}\n"+strings.Repeat("  - *p\n", 1001)),
		[]string{"line 21: compress: must have at most 1000 entries, got 1004"}},
	{"not UTF-8", replaceLine("description:", "description: caf\xe9"),
		[]string{"bad.yaml: line 2: the file is not UTF-8 text: byte 0xe9 at column 17"}},
	{"a raw escape character", replaceLine("description:", "description: \x1b[2J"),
		[]string{"bad.yaml: line 2: character U+001B at column 14 is not allowed in YAML"}},
	{"escape codes in the name", replaceLine("name: tiny", `name: "x\e]0;owned\a"`),
		[]string{"line 1: name: must be one line of printable characters", `got characters that are not printable in "x\x1b]0;owned\a"`}},
	{"a newline in the name", replaceLine("name: tiny", `name: "two\nlines"`),
		[]string{"line 1: name: must be one line of printable characters", "got several lines"}},
	{"a 300-character name", replaceLine("name: tiny", "name: "+strings.Repeat("n", 300)),
		[]string{"line 1: name: must be at most 64 characters, got 300"}},
	{"escape codes in the description", replaceLine("description:", `description: "\e[31mred"`),
		[]string{"line 2: description: must be one line of printable"}},
	{"a 65-character layer name", replaceLine("- {type: dense, units: 3, name: out}", "- {type: dense, units: 3, name: "+strings.Repeat("o", 65)+"}"),
		[]string{"model.layers[3].name: must be at most 64 characters, got 65"}},
	{"escape codes in a pipeline name", replaceLine("- {technique: prune", `- {name: "p\e[2J", pipeline: [{technique: prune, ratio: 0.5}]}`),
		[]string{"compress[0].name: must be one line of printable characters"}},
}

// nestedBlock is a spec whose name is depth mappings deep, one a line.
func nestedBlock(depth int) string {
	var b strings.Builder
	b.WriteString("name:\n")
	for i := 1; i < depth; i++ {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	b.WriteString(strings.Repeat(" ", depth) + "k: v\n")
	return b.String()
}

// laughs is a spec whose compress list is a pipeline of fan aliases of a
// pipeline of fan aliases ..., levels deep: fan^levels prune stages.
func laughs(levels, fan int) string {
	var b strings.Builder
	b.WriteString("name: laughs\ndataset: {name: spirals, classes: 3}\nmodel: {layers: [{type: dense, units: 3}]}\n" +
		"train: {optimizer: adam, lr: 0.01, epochs: 1, batch: 8}\ncompress:\n  - &p0 {technique: prune, ratio: 0.5}\n")
	for i := 1; i <= levels; i++ {
		b.WriteString("  - &p" + strconv.Itoa(i) + " {pipeline: [" + strings.TrimSuffix(strings.Repeat("*p"+strconv.Itoa(i-1)+", ", fan), ", ") + "]}\n")
	}
	return b.String()
}

func TestHostileSpecsRefused(t *testing.T) {
	for _, c := range hostileCases {
		_, err := Parse("bad.yaml", []byte(c.yaml))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		msg, at := err.Error(), 0
		for _, w := range c.want {
			i := strings.Index(msg[at:], w)
			if i < 0 {
				t.Errorf("%s: error %q lacks %q", c.name, msg, w)
				break
			}
			at += i + len(w)
		}
	}
}

// TestBillionLaughsStaysSmall: refusing the laughs allocates little —
// the aliases are counted, never expanded.
func TestBillionLaughsStaysSmall(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Parse("laughs.yaml", []byte(laughs(12, 9))); err == nil {
		t.Fatal("accepted")
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("refusing 9^12 stages allocated %d MiB, want under 16", alloc>>20)
	}
}

func TestParseAcceptsByteOrderMark(t *testing.T) {
	s, err := Parse("bom.yaml", []byte("\xef\xbb\xbf"+validSpec))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "tiny" || len(s.Compress) != 3 {
		t.Errorf("name %q, %d steps: want tiny, 3", s.Name, len(s.Compress))
	}
}

// TestAliasesWithinBounds: aliases that repeat a step are fine, and each
// copy is checked as if written out.
func TestAliasesWithinBounds(t *testing.T) {
	yaml := replaceLine("- {technique: prune", "- &p {technique: prune, ratio: 0.5}") + "  - *p\n  - pipeline: [*p, {technique: quantize, bits: 4}]\n"
	s, err := Parse("alias.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Compress) != 5 {
		t.Fatalf("%d steps, want 5", len(s.Compress))
	}
	if got := s.Compress[3].Setting(); got != s.Compress[0].Setting() {
		t.Errorf("the alias's step %q differs from its anchor's %q", got, s.Compress[0].Setting())
	}
	if p := s.Compress[4].(Pipeline); len(p.Stages) != 2 || p.Stages[0].Technique() != "prune" {
		t.Errorf("pipeline stages %v", p.Stages)
	}
	// Just within the depth bound: refused for what it is, not its depth.
	_, err = Parse("x.yaml", []byte("name: x\ndescription: "+strings.Repeat("[", 30)+strings.Repeat("]", 30)+"\n"))
	if err == nil || strings.Contains(err.Error(), "deep") || !strings.Contains(err.Error(), "description: must be a text value") {
		t.Errorf("30 nested lists: error %v, want description must be text", err)
	}
}

// TestLoadReadsAtMostTheLimit: /dev/zero never ends; Load reads one byte
// past the limit and stops.
func TestLoadReadsAtMostTheLimit(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here")
	}
	_, err := Load("/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "/dev/zero: the file is larger than 1 MiB") {
		t.Errorf("Load(/dev/zero) = %v", err)
	}
}

// TestValidateBoundsLists: a Spec built in Go meets the same bounds.
func TestValidateBoundsLists(t *testing.T) {
	s, err := Parse("tiny.yaml", []byte(validSpec))
	if err != nil {
		t.Fatal(err)
	}
	many := s
	many.Compress = make(Steps, MaxListLength+1)
	for i := range many.Compress {
		many.Compress[i] = s.Compress[1]
	}
	if err := many.Validate(); err == nil || !strings.Contains(err.Error(), "compress: must have at most 1000 steps, got 1001") {
		t.Errorf("1001 steps: %v", err)
	}
	deep := s
	deep.Model.Layers = make([]Layer, MaxListLength+1)
	for i := range deep.Model.Layers {
		deep.Model.Layers[i] = Layer{Type: "relu"}
	}
	if err := deep.Validate(); err == nil || !strings.Contains(err.Error(), "model.layers: must have at most 1000 layers, got 1001") {
		t.Errorf("1001 layers: %v", err)
	}
	named := s
	named.Name = strings.Repeat("é", 65)
	if err := named.Validate(); err == nil || !strings.Contains(err.Error(), "name: must be at most 64 characters, got 65") {
		t.Errorf("65 characters: %v", err)
	}
	named.Name = strings.Repeat("é", 64) // 128 bytes, 64 characters
	if err := named.Validate(); err != nil {
		t.Errorf("64 characters: %v", err)
	}
}
