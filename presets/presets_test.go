package presets

import (
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	names := Names()
	want := []string{"agp-lenet300", "compare-techniques", "deep-compression-lenet300", "deep-compression-lenet5",
		"fashion-lenet300", "fashion-lenet5", "filters-lenet5", "han2015-lenet300", "han2015-lenet5", "lenet-300-100", "lenet5",
		"lottery-lenet300", "lowrank-sweep", "noise-lenet300", "overfitting", "ptq-sweep", "qat-2bit", "quickstart",
		"seed-mlp", "sensitivity-lenet300", "structured-lenet300", "sweep-lenet300"}
	if !slices.Equal(names, want) {
		t.Errorf("Names() = %v, want %v", names, want)
	}
}

func TestRead(t *testing.T) {
	data, err := Read("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "name: quickstart\n") {
		t.Errorf("quickstart.yaml starts %q", string(data[:min(len(data), 30)]))
	}
	for _, bad := range []string{"", "nope", "../presets/quickstart", ".hidden", "quickstart.yaml"} {
		if _, err := Read(bad); err == nil || !strings.Contains(err.Error(), "quickstart") {
			t.Errorf("Read(%q): error %v should list the presets", bad, err)
		}
	}
}
