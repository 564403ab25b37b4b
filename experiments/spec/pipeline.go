package spec

import (
	"fmt"
	"strings"
)

// Pipeline chains stages on one copy of the baseline, each working on
// what the stage before left and adding its own row, so each stage's
// contribution shows as in the Deep Compression paper's tables. Stages:
// prune (one-shot, gradual or iterative), quantize, kmeans, lowrank,
// finetune and huffman; prune and lowrank stages come before the one
// quantize or kmeans stage.
type Pipeline struct {
	Name   string `yaml:"name"`     // a label prefixing the rows' settings
	Stages Steps  `yaml:"pipeline"` // the stages, in order
}

// Finetune is a pipeline stage that fine-tunes the model as it stands,
// keeping shared weights shared: codebooks train by their centroids,
// uniformly quantized layers through their quantizer.
type Finetune struct {
	Epochs     int     `yaml:"epochs"`      // epochs of fine-tuning
	FinetuneLR float64 `yaml:"finetune_lr"` // starting rate, falling linearly to 0; 0 = train.lr
}

// Huffman is a pipeline stage that entropy-codes the model file from its
// row on (before it, the pipeline's rows are stored without).
type Huffman struct{}

const maxPipelineStages = 32

func (Pipeline) Technique() string { return "pipeline" }
func (Pipeline) Label() string     { return "pipeline" }

func (p Pipeline) resolved(r *resolver) Step {
	p.Stages = p.Stages.resolved(r)
	return p
}

// Setting is the name, or the stages: "prune>finetune>kmeans>huffman".
func (p Pipeline) Setting() string {
	if p.Name != "" {
		return p.Name
	}
	var names []string
	for _, st := range p.Stages {
		names = append(names, st.Technique())
	}
	return strings.Join(names, ">")
}

// HasHuffman reports whether a stage entropy-codes the model file.
func (p Pipeline) HasHuffman() bool {
	for _, st := range p.Stages {
		if _, ok := st.(Huffman); ok {
			return true
		}
	}
	return false
}

// check checks the stages in order, each against the model as the stages
// before it left it: a factorized layer's name then means both factors.
func (p Pipeline) check(c *checker) *Error {
	if len(p.Stages) == 0 {
		return c.bad("pipeline", "must list at least one stage", "an empty list")
	}
	if len(p.Stages) > maxPipelineStages {
		return c.bad("pipeline", fmt.Sprintf("must have at most %d stages", maxPipelineStages), len(p.Stages))
	}
	if err := checkText(c.field("name"), p.Name, MaxNameLength); err != nil {
		return err
	}
	names := c.names
	quantizedBy, huffman := "", false
	for j, st := range p.Stages {
		sc := &checker{spec: c.spec, path: fmt.Sprintf("%s.pipeline[%d]", c.path, j), present: c.present,
			earlier: c.earlier, names: names, stage: true}
		tech := st.Technique()
		if t, ok := lookupTechnique(tech); !ok || !t.stage {
			// The walk of Parse says so with the key's line; a merge key
			// (<<) or a Spec built in Go can bring a step it does not see.
			return sc.wrong("technique", fmt.Sprintf("%s in a pipeline, got %q", oneOf(stageOrder), tech))
		}
		switch tech {
		case "prune", "lowrank":
			if quantizedBy != "" {
				return sc.wrong("technique", fmt.Sprintf("a %s stage must come before the %s stage: it changes which weights exist, and the weights are already shared out", tech, quantizedBy))
			}
		case "quantize", "kmeans":
			if quantizedBy != "" {
				return sc.wrong("technique", fmt.Sprintf("a pipeline quantizes its weights once: it already has a %s stage", quantizedBy))
			}
			quantizedBy = tech
		case "huffman":
			if huffman {
				return sc.wrong("technique", "a pipeline Huffman-codes once: it already has a huffman stage")
			}
			huffman = true
		}
		if err := st.check(sc); err != nil {
			return err
		}
		if l, ok := st.(Lowrank); ok {
			for _, name := range l.Factorizes(*c.spec) {
				names = names.factorize(name)
			}
		}
	}
	return nil
}

func (Finetune) Technique() string { return "finetune" }
func (Finetune) Label() string     { return "finetune" }

func (f Finetune) resolved(r *resolver) Step {
	f.FinetuneLR = Tune{FinetuneLR: f.FinetuneLR}.resolved(r).FinetuneLR
	return f
}

func (f Finetune) check(c *checker) *Error {
	if f.Epochs < 1 || f.Epochs > MaxEpochs {
		return c.bad("epochs", inRange(1, MaxEpochs), f.Epochs)
	}
	return Tune{FinetuneLR: f.FinetuneLR}.check(c)
}

// Setting: "epochs=6"; a run adds what the fine-tuning keeps ("codebook",
// "qat").
func (f Finetune) Setting() string { return fmt.Sprintf("epochs=%d", f.Epochs) }

func (Huffman) Technique() string         { return "huffman" }
func (Huffman) Label() string             { return "huffman" }
func (h Huffman) resolved(*resolver) Step { return h }
func (Huffman) check(*checker) *Error     { return nil }

// Setting: what the entropy coding codes.
func (Huffman) Setting() string { return "codes+gaps" }
