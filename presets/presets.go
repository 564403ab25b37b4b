package presets

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// FS holds every preset as NAME.yaml.
//
//go:embed *.yaml
var FS embed.FS

// Names lists the presets, sorted, without the .yaml extension.
func Names() []string {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Read returns the YAML of the named preset.
func Read(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return nil, fmt.Errorf("preset %q: not a preset name (presets: %s)", name, strings.Join(Names(), ", "))
	}
	data, err := FS.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no preset named %q (presets: %s)", name, strings.Join(Names(), ", "))
	}
	return data, nil
}
