package modelfile

import "testing"

func TestFormatSizeAndShape(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{FormatSize(0), "0 B"},
		{FormatSize(1023), "1023 B"},
		{FormatSize(1024), "1.00 KiB"},
		{FormatSize(5160), "5.04 KiB"},  // 5160/1024 = 5.039
		{FormatSize(61440), "60.0 KiB"}, // 60 exactly
		{FormatSize(407080), "398 KiB"}, // 397.5 rounds up
		{FormatSize(212534), "208 KiB"}, // not "212.5 kB": one unit everywhere
		{FormatSize(3 << 20), "3.00 MiB"},
		{FormatShape(784, 300), "784→300"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
