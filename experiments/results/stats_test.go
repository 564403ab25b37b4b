package results

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{1, 2, 3, 4, 5})
	// Σ(x−3)² = 10, over n−1 = 4: variance 2.5.
	if s.N != 5 || s.Mean != 3 || !near(s.Std, math.Sqrt(2.5), 1e-12) {
		t.Errorf("Summarize(1…5) = %+v, want mean 3, std 1.5811", s)
	}
	if one := Summarize([]float64{7}); one.Mean != 7 || !math.IsNaN(one.Std) {
		t.Errorf("one value: %+v, want mean 7 and no std", one)
	}
}

func TestWelchEqualVariances(t *testing.T) {
	// n = 5 each, both variances 2.5: se = √(2.5/5 + 2.5/5) = 1, so t is
	// the difference, and df = (2·0.5)² / (2·0.5²/4) = 8, whose two-sided
	// 95% critical value is 2.306 (any t table).
	a := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct {
		d      float64
		beyond bool
	}{{2.30, false}, {2.32, true}, {-2.32, true}, {0, false}} {
		b := make([]float64, len(a))
		for i := range a {
			b[i] = a[i] - c.d
		}
		w, ok := WelchTest(a, b)
		if !ok || !near(w.T, c.d, 1e-12) || !near(w.DF, 8, 1e-12) || !near(w.Critical, 2.306004, 1e-6) || w.Beyond != c.beyond {
			t.Errorf("d=%v: %+v ok=%v, want t=%v df=8 critical 2.306 beyond=%v", c.d, w, ok, c.d, c.beyond)
		}
	}
}

func TestWelchUnequal(t *testing.T) {
	// ā = 2.5, s²a = 5/3; b̄ = 6, s²b = 10: se² = 5/12 + 2 = 29/12,
	// t = −3.5/√(29/12) = −2.25144, df = (29/12)² / ((5/12)²/3 + 2²/4) = 5.52078;
	// the critical value for 5.52 df lies between 2.571 (5) and 2.447 (6).
	w, ok := WelchTest([]float64{1, 2, 3, 4}, []float64{2, 4, 6, 8, 10})
	if !ok || !near(w.T, -2.25144, 1e-5) || !near(w.DF, 5.52078, 1e-5) || w.Critical < 2.447 || w.Critical > 2.571 || w.Beyond {
		t.Errorf("WelchTest = %+v, want t −2.25144, df 5.52078, not beyond", w)
	}
	if _, ok := WelchTest([]float64{1}, []float64{1, 2}); ok {
		t.Error("a sample of one value cannot be tested")
	}
	if w, ok := WelchTest([]float64{2, 2}, []float64{1, 1}); !ok || !w.Beyond || !math.IsInf(w.T, 1) {
		t.Errorf("no spread, different means: %+v, want beyond", w)
	}
	if w, _ := WelchTest([]float64{2, 2}, []float64{2, 2}); w.Beyond {
		t.Errorf("no spread, the same means: %+v, want not beyond", w)
	}
}

func sweepRows() SweepTable {
	row := func(point string, seed uint64, tech string, test, base float64) SweepRow {
		return SweepRow{Point: point, Seed: seed, BaseTestAcc: base,
			Row: Row{Experiment: "x", Technique: tech, Setting: "s", TestAcc: test, DeltaAccPP: test - base, SizeBytes: 1000 + int64(seed)}}
	}
	return SweepTable{
		row("", 1, "dense", 98.25, 98.25), row("r=0.5", 1, "prune", 98.00, 98.25),
		row("", 2, "dense", 98.33, 98.33), row("r=0.5", 2, "prune", 98.10, 98.33),
		row("r=0.9", 1, "prune", 90, 98.25),
	}
}

func TestAggregate(t *testing.T) {
	st := Aggregate(sweepRows())
	if len(st) != 3 || st[0].Technique != "dense" || st[1].Point != "r=0.5" || st[2].Point != "r=0.9" {
		t.Fatalf("groups %+v", st)
	}
	acc, _ := st[0].Column("test_acc")
	// 98.25 and 98.33: mean 98.29, std 0.08/√2 = 0.0566.
	if acc.N != 2 || !near(acc.Mean, 98.29, 1e-9) || !near(acc.Std, 0.08/math.Sqrt2, 1e-9) {
		t.Errorf("dense test_acc %+v", acc)
	}
	if st[0].Delta != nil {
		t.Error("the dense row is not tested against itself")
	}
	// prune: 98.00, 98.10 against 98.25, 98.33: Δ̄ = −0.24, se² = 0.005/2 + 0.0032/2.
	d := st[1].Delta
	if d == nil || !near(d.T, -0.24/math.Sqrt(0.0041), 1e-9) || d.Beyond {
		t.Errorf("prune Δ test %+v, want t = −3.748, not beyond with 1.9 df", d)
	}
	if st[2].N != 1 || st[2].Delta != nil {
		t.Errorf("one seed: %+v, want n 1 and no test", st[2])
	}
	var text bytes.Buffer
	if err := st.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "98.29 ± 0.06") || !strings.Contains(text.String(), "-0.24 ± 0.01") {
		t.Errorf("text table:\n%s", text.String())
	}
}

func TestStatsExports(t *testing.T) {
	st := Aggregate(sweepRows())
	var b bytes.Buffer
	if err := writeJSON(&b, st); err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(b.Bytes(), &objs); err != nil {
		t.Fatal(err)
	}
	if objs[0]["n"] != 2.0 || !near(objs[0]["test_acc_mean"].(float64), 98.29, 1e-9) || objs[2]["test_acc_std"] != nil || objs[1]["delta_beyond_noise"] != false {
		t.Errorf("JSON %v", objs)
	}
	if len(objs[0]) != len(StatsColumns) {
		t.Errorf("JSON keys %d, columns %d", len(objs[0]), len(StatsColumns))
	}
	b.Reset()
	if err := writeCSV(&b, st); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[0], "experiment,point,technique,setting,n,params_total_mean,params_total_std,") ||
		!strings.Contains(lines[0], ",test_acc_mean,test_acc_std,") || !strings.HasPrefix(lines[3], "x,r=0.9,prune,s,1,") {
		t.Errorf("CSV:\n%s", b.String())
	}
}

func TestSweepTableColumns(t *testing.T) {
	var b bytes.Buffer
	if err := writeCSV(&b, sweepRows()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if lines[0] != "experiment,point,seed,technique,setting,params_total,params_nonzero,size_bytes,compression_ratio,train_acc,test_acc,delta_acc_pp,gap_pp,flops,latency_us_b1,latency_us_b256,wall_s" ||
		!strings.HasPrefix(lines[2], "x,r=0.5,1,prune,s,") {
		t.Errorf("CSV:\n%s", b.String())
	}
	if got := RunsPath("out/sweep.csv"); got != "out/sweep-runs.csv" {
		t.Errorf("RunsPath = %q", got)
	}
}

func TestPareto(t *testing.T) {
	// (size, acc): b is smaller and more accurate than a; c ties b's
	// size, less accurate; d is bigger and the most accurate; e is bigger
	// than d but worse; f has no figure.
	pts := Pareto([]ParetoPoint{
		{Label: "a", SizeBytes: 300, TestAcc: 90}, {Label: "b", SizeBytes: 100, TestAcc: 95},
		{Label: "c", SizeBytes: 100, TestAcc: 80}, {Label: "d", SizeBytes: 1000, TestAcc: 98},
		{Label: "e", SizeBytes: 2000, TestAcc: 97}, {Label: "f", SizeBytes: math.NaN(), TestAcc: 99},
		{Label: "g", SizeBytes: 50, TestAcc: 60},
	})
	var on []string
	for _, p := range pts {
		if p.Frontier {
			on = append(on, p.Label)
		}
	}
	if strings.Join(on, ",") != "b,d,g" || pts[0].Label != "a" {
		t.Errorf("frontier %v, want b,d,g (in the points' order)", on)
	}
}

func TestSweepTableJSON(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, sweepRows()[:2]); err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(b.Bytes(), &objs); err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[1]["point"] != "r=0.5" || objs[1]["seed"] != 1.0 || objs[1]["technique"] != "prune" ||
		objs[1]["latency_us_b1"] != nil || len(objs[1]) != len(SweepColumns) {
		t.Errorf("JSON %v", objs)
	}
}
