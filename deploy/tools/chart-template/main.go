// Command chart-template renders a Helm chart's templates the way `helm template` does, without helm.
//
// It is written from Helm's documented behaviour (https://helm.sh/docs/chart_template_guide/), not from
// Helm's source: Go's text/template with the sprig function library plus Helm's own functions (include,
// tpl, required, toYaml, fromYaml, fromYamlArray, toJson, fromJson, fromJsonArray, lookup), the chart's
// values.yaml merged with each -f file and then each --set, the merged values checked against
// values.schema.json, and the output a `---` / `# Source: <chart>/templates/<file>` stream in Helm's
// install order. Templates whose names start with `_` only define helpers; NOTES.txt is rendered (so its
// errors count) but not printed.
//
// Usage: chart-template [-f values.yaml]... [--set a.b=c]... [--set-string a.b=c]...
//
//	[--release NAME] [--namespace NS] [--kube-version v1.27.0] [--lookup objects.yaml] CHART_DIR
//
// --lookup is not Helm's: a YAML stream of objects that `lookup` finds, standing in for the cluster that
// `helm upgrade` reads (without it lookup finds nothing, as in `helm template`).
//
// Everything is rendered before anything is printed: on any error (a missing or invalid values file, a
// schema violation, a template error with its file and line, a document that is not YAML) it prints
// nothing on stdout, the reason on stderr, and exits 1.
//
// Build (offline, from Debian's golang-* packages):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off go build -o chart-template .
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// repeated collects a flag that may be given more than once, in order.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, " ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("chart-template", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var valueFiles, sets, setStrings repeated
	flags.Var(&valueFiles, "f", "a values file merged over the chart's values.yaml (repeatable; later files win)")
	flags.Var(&valueFiles, "values", "same as -f")
	flags.Var(&sets, "set", "key.path=value merged after the files; ints, true/false and null are typed (repeatable)")
	flags.Var(&setStrings, "set-string", "key.path=value merged after --set, always as a string (repeatable)")
	release := flags.String("release", "release-name", ".Release.Name")
	namespace := flags.String("namespace", "default", ".Release.Namespace")
	kubeVersion := flags.String("kube-version", "v1.27.0", ".Capabilities.KubeVersion")
	lookupFile := flags.String("lookup", "", "a YAML stream of objects that lookup finds (as if in the cluster)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: chart-template [-f values.yaml]... [--set a.b=c]... [--release NAME] [--namespace NS] [--kube-version v1.27.0] CHART_DIR")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 1
	}
	if flags.NArg() != 1 {
		fmt.Fprintf(stderr, "chart-template: expected one chart directory after the flags, got %q\n", flags.Args())
		flags.Usage()
		return 1
	}
	var overrides []override
	for _, f := range valueFiles {
		overrides = append(overrides, override{kind: "file", text: f})
	}
	for _, s := range sets {
		overrides = append(overrides, override{kind: "set", text: s})
	}
	for _, s := range setStrings {
		overrides = append(overrides, override{kind: "set-string", text: s})
	}
	cluster, err := loadCluster(*lookupFile)
	if err != nil {
		fmt.Fprintf(stderr, "chart-template: %v\n", err)
		return 1
	}
	out, err := render(renderOptions{
		cluster:     cluster,
		chartDir:    flags.Arg(0),
		overrides:   overrides,
		release:     *release,
		namespace:   *namespace,
		kubeVersion: *kubeVersion,
	})
	if err != nil {
		fmt.Fprintf(stderr, "chart-template: %v\n", err)
		return 1
	}
	if _, err := io.WriteString(stdout, out); err != nil {
		fmt.Fprintf(stderr, "chart-template: writing the output: %v\n", err)
		return 1
	}
	return 0
}
