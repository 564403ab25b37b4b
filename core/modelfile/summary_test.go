package modelfile

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// TestSummaryEscapesNames: a layer name that carries escape codes (any
// program may write one) is shown escaped, so inspect cannot retitle or
// clear the terminal, and a newline in it cannot add a line.
func TestSummaryEscapesNames(t *testing.T) {
	m := mlp(1, 3, 4, 2)
	m.Layers[0].(*nn.Dense).LayerName = "fc\x1b]0;owned\x07\x1b[2J"
	m.Layers[1].(*nn.ReLU).LayerName = "relu\nfake line"
	var buf bytes.Buffer
	if _, err := Write(&buf, m, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := Inspect(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	text := s.String()
	if strings.ContainsAny(text, "\x1b\x07") {
		t.Errorf("the summary holds raw escape codes:\n%q", text)
	}
	for _, want := range []string{`fc\x1b]0;owned\a\x1b[2J`, `relu\nfake line`} {
		if !strings.Contains(text, want) {
			t.Errorf("the summary lacks the escaped name %s:\n%s", want, text)
		}
	}
	// header, column names, three layers, the dense size: six lines.
	if n := strings.Count(text, "\n"); n != 6 {
		t.Errorf("%d lines, want 6:\n%s", n, text)
	}
}
