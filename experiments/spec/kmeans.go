package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// KMeans shares each layer's non-zero weights among k values (Deep
// Compression's trained quantization): 1-D k-means, at most 30 Lloyd
// rounds; pruned weights stay zero. Fine-tuning trains the codebook.
type KMeans struct {
	Clusters         int            `yaml:"clusters"`           // shared values per layer, 1 to 256
	ClustersPerLayer map[string]int `yaml:"clusters_per_layer"` // cluster counts by layer; clusters applies to the others
	Init             string         `yaml:"init"`               // where the centroids start: linear (default), random or density
	Layers           []string       `yaml:"layers"`             // the layers clustered; empty = every weight layer
	Tune             `yaml:",inline"`
}

var kmeansInitNames = []string{"linear", "random", "density"}

const (
	// MaxClusters is the most shared values a layer may have.
	MaxClusters = 256
	// KMeansIters bounds the Lloyd rounds of each clustering.
	KMeansIters = 30
)

func (KMeans) Technique() string { return "kmeans" }
func (KMeans) Label() string     { return "kmeans" }

func (k KMeans) resolved(r *resolver) Step {
	if k.Init == "" {
		k.Init = "linear"
	}
	k.Tune = k.Tune.resolved(r)
	return k
}

func (k KMeans) check(c *checker) *Error {
	if !(k.Clusters >= 1 && k.Clusters <= MaxClusters || k.Clusters == 0 && len(k.ClustersPerLayer) > 0) {
		return c.bad("clusters", fmt.Sprintf("must be in [1, %d] (shared values per layer; 2^bits for bits-wide indices)", MaxClusters), k.Clusters)
	}
	if err := c.checkList("layers", k.Layers); err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(k.ClustersPerLayer))
	if err := c.checkKeys("clusters_per_layer", keys); err != nil {
		return err
	}
	for _, name := range keys {
		if n := k.ClustersPerLayer[name]; !(n >= 1 && n <= MaxClusters) {
			return c.bad("clusters_per_layer."+name, fmt.Sprintf("must be in [1, %d]", MaxClusters), n)
		}
	}
	if !slices.Contains(kmeansInitNames, k.Init) {
		return c.bad("init", oneOf(kmeansInitNames), quote(k.Init))
	}
	return k.Tune.check(c)
}

// Setting: "clusters=32 init=linear", per-layer counts, layers,
// fine-tuning (of the codebook).
func (k KMeans) Setting() string {
	var parts []string
	if k.Clusters != 0 {
		parts = append(parts, fmt.Sprintf("clusters=%d", k.Clusters))
	}
	if len(k.ClustersPerLayer) > 0 {
		parts = append(parts, "per_layer="+joinPerLayer(k.ClustersPerLayer))
	}
	parts = append(parts, "init="+k.Init)
	return strings.Join(k.finetuneSuffix(layersPart(parts, k.Layers)), " ")
}
