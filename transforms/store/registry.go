package store

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Description is what a store package registers from its init (one
// package per store, imported by transforms/store/all): its name, its
// options, whether remote workers can reach it, and its constructor. The
// pipeline's configuration, --help, the README's configuration table and
// the Dataflow guard are made from the registered descriptions; no store
// is named anywhere else.
type Description struct {
	Name    string // the value of DATASTORE, e.g. "files"
	Help    string // what DATASTORE=Name writes, a phrase for DATASTORE's help: "newline-delimited JSON under FILES_DIR"
	Section string // the heading of its options in --help and the README, e.g. "BigQuery"
	Options []Option
	// SelectedBy makes this store DATASTORE's default when the option
	// with that environment variable is set (e.g. BIGQUERY_PROJECT);
	// Fallback makes it the default when no store's SelectedBy is set.
	// One store is the Fallback.
	SelectedBy string
	Fallback   bool
	// Remote: workers in other processes on other machines (Dataflow's)
	// can write to it. LocalOnly says why not when it is false, as a
	// phrase: "writes to this machine's disk".
	Remote    bool
	LocalOnly string
	// Check reports what is wrong across its options (get returns every
	// option's value by environment variable, secrets included), without
	// connecting anywhere; nil: nothing beyond each Option's Check.
	Check func(get func(env string) string) []string
	// Open is the constructor: it opens the store of spec, the settings
	// NewSpec serialised, in whichever process needs it.
	Open func(ctx context.Context, spec Spec) (Store, error)
	// Describe says where the store of spec writes, for people.
	Describe func(spec Spec) string
}

// Option is one setting of a store, declared once: the pipeline reads it
// from its environment variable (and from a flag, unless it is a secret),
// checks it when the store is selected, and renders it into --help and the
// README's configuration table.
type Option struct {
	Env     string // environment variable, e.g. FILES_DIR
	Default string // "" = none
	Help    string // one sentence, the accepted forms included
	// Secret: never a flag, never in a Spec, never logged; the store
	// reads it from the environment of the process that opens it.
	Secret bool
	// Param is the Spec parameter that carries the value to the store
	// ("" = none). An empty value is left out of the spec.
	Param string
	// LauncherOnly: the value means something on the launching machine
	// only (a path to a file there); ForRemoteWorkers leaves it out.
	LauncherOnly bool
	// Check returns what is wrong with the value (the default applied),
	// as the user reads it: naming Env and what to do; "" when nothing.
	Check func(v string) string
	// Resolve turns the value into the parameter's (an absolute path,
	// say), where the spec is made; nil: as it is.
	Resolve func(v string) (string, error)
}

// Spec names a store and its settings, made by NewSpec. It is serialised
// into the DoFns, so it holds no secret.
type Spec struct {
	Kind   string
	Params map[string]string
	// Columns and Tables describe the tables the pipeline may write:
	// Columns are the typed columns of every table, Tables each table's
	// key and the typed columns of its own (see Table).
	Columns []Column
	Tables  []Table
	// Run is the run whose stages open the store ("" for the launcher's
	// own use): each process keeps one store per spec and run, and
	// Release closes a run's when it is over.
	Run string
}

// Table returns the description of a table, its Columns those of every
// table then its own (false when the spec has none).
func (s Spec) Table(name string) (Table, bool) {
	for _, t := range s.Tables {
		if t.Name == name {
			t.Columns = append(append([]Column(nil), s.Columns...), t.Columns...)
			return t, true
		}
	}
	return Table{}, false
}

// Opener opens a store from its spec.
type Opener func(ctx context.Context, spec Spec) (Store, error)

// The options every store reads.
const (
	EnvDatastore = "DATASTORE"
	// EnvDataset names the dataset: BigQuery's, the files store's top
	// directory; DatasetSuffix (the GitLab API version) is appended.
	EnvDataset    = "BIGQUERY_DATASET"
	DatasetSuffix = "_v4"
	// CommonSection is the heading of the options every store reads.
	CommonSection = "Store"
)

var datasetPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,1000}$`)

var (
	mu     sync.Mutex
	stores = map[string]Description{}
	opened = map[string]openStore{} // by specKey
)

// Register makes a store available by its name; each store package calls
// it from init. A description without a name or constructor, or a name
// registered twice, is a programming error.
func Register(d Description) {
	mu.Lock()
	defer mu.Unlock()
	if d.Name == "" || d.Open == nil {
		panic("store.Register: a store needs a name and an Open")
	}
	if _, dup := stores[d.Name]; dup {
		panic("store.Register: " + d.Name + " registered twice")
	}
	stores[d.Name] = d
}

// Lookup returns the description of the store named name.
func Lookup(name string) (Description, bool) {
	mu.Lock()
	defer mu.Unlock()
	d, ok := stores[name]
	return d, ok
}

// Stores returns every registered store: the Fallback first, then by name.
func Stores() []Description {
	mu.Lock()
	defer mu.Unlock()
	return storesLocked()
}

func storesLocked() []Description {
	out := make([]Description, 0, len(stores))
	for _, d := range stores {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Fallback != out[j].Fallback {
			return out[i].Fallback
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Kinds lists the registered stores' names, in the order of Stores.
func Kinds() []string {
	var k []string
	for _, d := range Stores() {
		k = append(k, d.Name)
	}
	return k
}

// orList renders names as "a, b or c".
func orList(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// CommonOptions are the options every store reads: DATASTORE (its help
// made from the registry) and BIGQUERY_DATASET.
func CommonOptions() []Option {
	var what, rule, fallback []string
	for _, d := range Stores() {
		w := "'" + d.Name + "'"
		if d.Help != "" {
			w += " (" + d.Help + ")"
		}
		what = append(what, w)
		if d.SelectedBy != "" {
			rule = append(rule, d.Name+" when "+d.SelectedBy+" is set")
		}
		if d.Fallback {
			fallback = append(fallback, d.Name)
		}
	}
	def := strings.Join(append(rule, strings.Join(fallback, "")+" otherwise"), ", ")
	if len(rule) == 0 {
		def = strings.Join(fallback, "")
	}
	return []Option{
		{Env: EnvDatastore, Help: "Where to write: " + orList(what) + ". Default: " + def + "."},
		{Env: EnvDataset, Default: "gitlab_data_export",
			Help: "Dataset name (also the files store's top directory); '" + DatasetSuffix + "' (the GitLab API version) is always appended.",
			Check: func(v string) string {
				if !datasetPattern.MatchString(v) {
					return fmt.Sprintf("%s %q is not a dataset name: use letters, digits and underscores, starting with a letter or underscore", EnvDataset, v)
				}
				return ""
			}},
	}
}

// Choose returns the name of the store the settings select (get returns
// an option's value by environment variable): DATASTORE, else the first
// store whose SelectedBy option is set, else the Fallback.
func Choose(get func(env string) string) (string, error) {
	all := Stores()
	if v := strings.ToLower(strings.TrimSpace(get(EnvDatastore))); v != "" {
		if _, ok := Lookup(v); ok {
			return v, nil
		}
		return "", fmt.Errorf("%s %q is not a store: use %s", EnvDatastore, get(EnvDatastore), orList(Kinds()))
	}
	for _, d := range all {
		if d.SelectedBy != "" && get(d.SelectedBy) != "" {
			return d.Name, nil
		}
	}
	for _, d := range all {
		if d.Fallback {
			return d.Name, nil
		}
	}
	return "", fmt.Errorf("%s is not set and no store is the default: set it to %s", EnvDatastore, orList(Kinds()))
}

// Check reports every problem of the settings of the store named name and
// of the common options (those alone when name is ""), without connecting
// anywhere.
func Check(name string, get func(env string) string) []string {
	var problems []string
	for _, o := range CommonOptions() {
		if o.Check != nil {
			if p := o.Check(get(o.Env)); p != "" {
				problems = append(problems, p)
			}
		}
	}
	if name == "" {
		return problems
	}
	d, ok := Lookup(name)
	if !ok {
		return append(problems, fmt.Sprintf("%s %q is not a store: use %s", EnvDatastore, name, orList(Kinds())))
	}
	for _, o := range d.Options {
		if o.Check != nil {
			if p := o.Check(get(o.Env)); p != "" {
				problems = append(problems, p)
			}
		}
	}
	if d.Check != nil {
		problems = append(problems, d.Check(get)...)
	}
	return problems
}

// Values returns the values of the options of the store named name that
// reach its spec (those with a Param; never a secret), by environment
// variable.
func Values(name string, get func(env string) string) map[string]string {
	d, _ := Lookup(name)
	v := map[string]string{}
	for _, o := range d.Options {
		if o.Param != "" && !o.Secret {
			v[o.Env] = get(o.Env)
		}
	}
	return v
}

// NewSpec makes the spec of the store named name: the dataset (its
// DatasetSuffix included), the values of its options (as Values returns
// them, resolved) and the tables the pipeline may write (columns: the
// typed columns of every table; tables: each one's key and own columns).
func NewSpec(name, dataset string, values map[string]string, columns []Column, tables []Table) (Spec, error) {
	d, ok := Lookup(name)
	if !ok {
		return Spec{}, fmt.Errorf("%s %q: unknown store; use %s", EnvDatastore, name, orList(Kinds()))
	}
	spec := Spec{Kind: name, Params: map[string]string{"dataset": dataset}, Columns: columns, Tables: tables}
	for _, o := range d.Options {
		v := values[o.Env]
		if o.Param == "" || o.Secret || v == "" {
			continue
		}
		if o.Resolve != nil {
			r, err := o.Resolve(v)
			if err != nil {
				return Spec{}, fmt.Errorf("%s %q: %w", o.Env, v, err)
			}
			v = r
		}
		spec.Params[o.Param] = v
	}
	return spec, nil
}

// ForRemoteWorkers returns spec without the parameters of LauncherOnly
// options: what workers on other machines open.
func ForRemoteWorkers(spec Spec) Spec {
	d, _ := Lookup(spec.Kind)
	drop := map[string]bool{}
	for _, o := range d.Options {
		if o.LauncherOnly && o.Param != "" {
			drop[o.Param] = true
		}
	}
	params := map[string]string{}
	for k, v := range spec.Params {
		if !drop[k] {
			params[k] = v
		}
	}
	spec.Params = params
	return spec
}

// Describe says where the store of spec writes, for people.
func Describe(spec Spec) string {
	if d, ok := Lookup(spec.Kind); ok && d.Describe != nil {
		return d.Describe(spec)
	}
	return spec.Kind + ":" + spec.Params["dataset"]
}

// RemoteProblem says why the store named name cannot be used with workers
// on other machines, and which stores can; "" when it can. workers names
// them ("Dataflow's workers"), runner the flag that asks for them
// ("--runner=dataflow").
func RemoteProblem(name, workers, runner string) string {
	d, ok := Lookup(name)
	if !ok || d.Remote {
		return ""
	}
	var remote []string
	for _, o := range Stores() {
		if o.Remote {
			remote = append(remote, EnvDatastore+"="+o.Name)
		}
	}
	return fmt.Sprintf("%s=%s %s, which %s cannot reach: use %s with %s", EnvDatastore, name, d.LocalOnly, workers, orList(remote), runner)
}

// Open returns this process's store of spec, opening it on first use:
// every stage of a run in the process shares it (its clients, its caches),
// and two runs never do (Spec.Run).
func Open(ctx context.Context, spec Spec) (Store, error) {
	key := specKey(spec)
	mu.Lock()
	defer mu.Unlock()
	if s, ok := opened[key]; ok {
		return s.store, nil
	}
	d, ok := stores[spec.Kind]
	if !ok {
		var names []string
		for _, d := range storesLocked() {
			names = append(names, d.Name)
		}
		return nil, fmt.Errorf("no store named %q (known: %s)", spec.Kind, strings.Join(names, ", "))
	}
	s, err := d.Open(ctx, spec)
	if err != nil {
		return nil, err
	}
	opened[key] = openStore{store: s, run: spec.Run}
	return s, nil
}

// Release closes (when it is an io.Closer) and forgets every store this
// process opened for run, once nothing of the run uses them any more; the
// next Open of such a spec opens the store anew.
func Release(run string) error {
	if run == "" {
		return nil
	}
	mu.Lock()
	var closing []Store
	for k, s := range opened {
		if s.run == run {
			closing = append(closing, s.store)
			delete(opened, k)
		}
	}
	mu.Unlock()
	var first error
	for _, s := range closing {
		if c, ok := s.(io.Closer); ok {
			if err := c.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// openStore is a store Open opened, and the run it is for.
type openStore struct {
	store Store
	run   string
}

func specKey(s Spec) string {
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(s.Kind + "\x00" + s.Run)
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + s.Params[k])
	}
	return b.String()
}
