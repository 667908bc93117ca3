package gitlabsim

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The golden test pins the simulator's behaviour: for a few option sets,
// the sha256 of each table of Expected (objects in order) and of all of
// them (tables sorted, objects sorted), of Counts, of
// each Mutation of three Mutate(6) calls (with sim-clock advances between)
// and of Expected after each (objects sorted), and of the answers to every
// request of testdata/golden_urls.txt (status, paging headers, body)
// before and after the mutations. A refactoring must leave every hash as
// it is; a change of behaviour regenerates them with
//
//	go test ./gitlabsim -run TestGolden -update-golden
//
// GITLABSIM_GOLDEN_DUMP=dir writes every hashed text to dir, to find what
// differs.
//
// The hashes were first made from the simulator before it became one
// engine; that refactoring changed only the order of two tables of
// Expected, group_iterations and packages, which Expected then read as the
// exporter's catalog does (one stream of the root group's tree, instead of
// group by group): their seven hashes were regenerated, every other hash
// stayed the old code's. Each later change of behaviour (GitLab's change
// signals) regenerated them.

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden.json")

const goldenFile = "testdata/golden.json"

// goldenBase is the base time of the golden instances; their clock is fixed
// at an hour after it (and moves only by Advance).
var goldenBase = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func goldenSim(o Options) *Sim {
	o.BaseTime = goldenBase
	s := New(o)
	fixed := goldenBase.Add(time.Hour)
	s.clock = func() time.Time { return fixed }
	return s
}

type goldenHasher struct {
	t    *testing.T
	dump string
	out  map[string]string
}

func (g *goldenHasher) put(name string, text []byte) {
	sum := sha256.Sum256(text)
	g.out[name] = hex.EncodeToString(sum[:])
	if g.dump != "" {
		if err := os.WriteFile(filepath.Join(g.dump, strings.ReplaceAll(name, "/", "_")), text, 0o644); err != nil {
			g.t.Fatal(err)
		}
	}
}

func expectedText(exp map[string][]json.RawMessage, sorted bool) []byte {
	var names []string
	for n := range exp {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		b.WriteString("## " + n + "\n")
		objs := make([]string, len(exp[n]))
		for i, o := range exp[n] {
			objs[i] = string(o)
		}
		if sorted {
			sort.Strings(objs)
		}
		for _, o := range objs {
			b.WriteString(o + "\n")
		}
	}
	return b.Bytes()
}

func goldenURLs(t *testing.T) []string {
	f, err := os.Open("testdata/golden_urls.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

var goldenHeaders = []string{"Content-Type", "X-Page", "X-Per-Page", "X-Next-Page", "X-Prev-Page", "X-Total", "X-Total-Pages", "Link", "Links"}

// crawl answers every URL in-process and renders status, headers and body.
func crawl(s *Sim, urls []string) []byte {
	var b bytes.Buffer
	h := s.Handler()
	for _, u := range urls {
		req := httptest.NewRequest(http.MethodGet, "http://gitlab.test"+u, nil)
		req.Header.Set("PRIVATE-TOKEN", s.Token())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Fprintf(&b, "### %s %d\n", u, rec.Code)
		for _, k := range goldenHeaders {
			if v := rec.Header().Get(k); v != "" {
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		b.Write(rec.Body.Bytes())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("golden hashes in -short mode")
	}
	g := &goldenHasher{t: t, dump: os.Getenv("GITLABSIM_GOLDEN_DUMP"), out: map[string]string{}}
	if g.dump != "" {
		os.MkdirAll(g.dump, 0o755)
	}
	urls := goldenURLs(t)
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"seed1", Options{Seed: 1}},
		{"seed7", Options{Seed: 7}},
		{"unlicensed", Options{Seed: 1, Unlicensed: true}},
		{"admin", Options{Seed: 1, Admin: true}},
	} {
		s := goldenSim(c.o)
		exp := s.Expected()
		for table, objs := range exp {
			g.put(c.name+"/expected/"+table, expectedText(map[string][]json.RawMessage{table: objs}, false))
		}
		g.put(c.name+"/expected", expectedText(exp, true))
		counts, _ := json.Marshal(s.Counts())
		g.put(c.name+"/counts", counts)
		g.put(c.name+"/crawl0", crawl(s, urls))
		for i, d := range []time.Duration{time.Minute, 90 * time.Minute, 2 * 24 * time.Hour} {
			s.Advance(d)
			m, _ := json.Marshal(s.Mutate(6))
			g.put(fmt.Sprintf("%s/mutation%d", c.name, i+1), m)
			g.put(fmt.Sprintf("%s/expected%d", c.name, i+1), expectedText(s.Expected(), true))
		}
		if c.name == "seed1" || c.name == "unlicensed" {
			g.put(c.name+"/crawl3", crawl(s, urls))
		}
	}
	large := goldenSim(Options{Size: "large"})
	counts, _ := json.Marshal(large.Counts())
	g.put("large/counts", counts)

	got, _ := json.MarshalIndent(g.out, "", "  ")
	if *updateGolden {
		if err := os.WriteFile(goldenFile, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (run with -update-golden to write it)", err)
	}
	var want map[string]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if g.out[n] != want[n] {
			t.Errorf("%s: hash %s, golden %s", n, g.out[n], want[n])
		}
	}
	if len(g.out) != len(want) {
		t.Errorf("%d hashes, golden has %d", len(g.out), len(want))
	}
}
