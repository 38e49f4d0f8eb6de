// The template engine: the chart's templates parsed into one template set with sprig and Helm's functions,
// each manifest template executed with Helm's built-in objects, and the output split, checked and ordered.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/semver"
	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

type renderOptions struct {
	chartDir    string
	overrides   []override
	release     string
	namespace   string
	kubeVersion string
	// cluster holds the objects `lookup` finds, standing in for the cluster `helm upgrade` talks to (--lookup).
	cluster []map[string]interface{}
}

// loadCluster reads a YAML stream of objects for `lookup` to find (what a cluster would already hold).
func loadCluster(file string) ([]map[string]interface{}, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--lookup %s: %v", file, err)
	}
	var objects []map[string]interface{}
	for i, doc := range documentSeparator.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		asJSON, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("--lookup %s (document %d): %v", file, i+1, err)
		}
		var object map[string]interface{}
		if err := json.Unmarshal(asJSON, &object); err != nil || object == nil {
			return nil, fmt.Errorf("--lookup %s (document %d): not an object", file, i+1)
		}
		objects = append(objects, object)
	}
	return objects, nil
}

// lookupIn is Helm's lookup against a list of objects: one object by apiVersion, kind, namespace and name
// (an empty map when there is none), or with an empty name all of that kind in the namespace as a list.
func lookupIn(cluster []map[string]interface{}, apiVersion, kind, namespace, name string) map[string]interface{} {
	var items []interface{}
	for _, o := range cluster {
		meta, _ := o["metadata"].(map[string]interface{})
		if o["apiVersion"] != apiVersion || o["kind"] != kind || meta == nil {
			continue
		}
		if namespace != "" && meta["namespace"] != namespace {
			continue
		}
		if name == "" {
			items = append(items, o)
		} else if meta["name"] == name {
			return o
		}
	}
	if name == "" {
		return map[string]interface{}{"apiVersion": apiVersion, "kind": kind + "List", "items": items}
	}
	return map[string]interface{}{}
}

// chartMetadata is Chart.yaml, exposed to templates as .Chart with Helm's capitalised field names.
type chartMetadata struct {
	APIVersion   string                   `json:"apiVersion"`
	Name         string                   `json:"name"`
	Version      string                   `json:"version"`
	AppVersion   string                   `json:"appVersion"`
	Description  string                   `json:"description"`
	Type         string                   `json:"type"`
	KubeVersion  string                   `json:"kubeVersion"`
	Keywords     []string                 `json:"keywords"`
	Home         string                   `json:"home"`
	Sources      []string                 `json:"sources"`
	Icon         string                   `json:"icon"`
	Deprecated   bool                     `json:"deprecated"`
	Annotations  map[string]string        `json:"annotations"`
	Maintainers  []map[string]interface{} `json:"maintainers"`
	Dependencies []map[string]interface{} `json:"dependencies"`
}

// IsRoot is true: subcharts are not supported, so every chart rendered here is the root.
func (c chartMetadata) IsRoot() bool { return true }

// kubeVersion is .Capabilities.KubeVersion.
type kubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (k kubeVersion) String() string     { return k.Version }
func (k kubeVersion) GitVersion() string { return k.Version }

// apiVersions is .Capabilities.APIVersions: the built-in group/versions of Kubernetes 1.27.
type apiVersions []string

// Has reports whether a group/version (or group/version/Kind of one of those versions) is served.
func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v || strings.HasPrefix(v, x+"/") && !strings.Contains(v[len(x)+1:], "/") {
			return true
		}
	}
	return false
}

var builtinAPIVersions = apiVersions{
	"v1", "admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1", "apiregistration.k8s.io/v1",
	"apps/v1", "authentication.k8s.io/v1", "authorization.k8s.io/v1", "autoscaling/v1", "autoscaling/v2",
	"batch/v1", "certificates.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "events.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1beta3", "networking.k8s.io/v1", "node.k8s.io/v1", "policy/v1",
	"rbac.authorization.k8s.io/v1", "scheduling.k8s.io/v1", "storage.k8s.io/v1",
}

type capabilities struct {
	KubeVersion kubeVersion
	APIVersions apiVersions
	HelmVersion map[string]string
}

// chartFiles is .Files: the chart's files outside templates/ (Chart.yaml excluded).
type chartFiles map[string][]byte

func (f chartFiles) Get(name string) string      { return string(f[name]) }
func (f chartFiles) GetBytes(name string) []byte { return f[name] }
func (f chartFiles) Lines(name string) []string {
	if len(f[name]) == 0 {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(string(f[name]), "\n"), "\n")
}

// Glob lists the files matching a path.Match pattern, as a chartFiles of their own.
func (f chartFiles) Glob(pattern string) chartFiles {
	out := chartFiles{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

type chart struct {
	meta      chartMetadata
	templates map[string]string // "<chart name>/templates/<path>" → text
	files     chartFiles
}

func loadChart(dir string) (*chart, error) {
	chartYaml := filepath.Join(dir, "Chart.yaml")
	data, err := os.ReadFile(chartYaml)
	if err != nil {
		return nil, fmt.Errorf("%s: not a chart: %v", dir, err)
	}
	c := &chart{templates: map[string]string{}, files: chartFiles{}}
	if err := yaml.Unmarshal(data, &c.meta); err != nil {
		return nil, fmt.Errorf("%s: %v", chartYaml, err)
	}
	switch {
	case c.meta.APIVersion == "":
		return nil, fmt.Errorf("%s: apiVersion is required", chartYaml)
	case c.meta.Name == "":
		return nil, fmt.Errorf("%s: name is required", chartYaml)
	case c.meta.Version == "":
		return nil, fmt.Errorf("%s: version is required", chartYaml)
	case len(c.meta.Dependencies) > 0:
		return nil, fmt.Errorf("%s: dependencies (subcharts) are not supported by this renderer", chartYaml)
	}
	if _, err := semver.StrictNewVersion(c.meta.Version); err != nil {
		return nil, fmt.Errorf("%s: version %q is not SemVer 2: %v", chartYaml, c.meta.Version, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "charts")); err == nil {
		return nil, fmt.Errorf("%s: charts/ (subcharts) are not supported by this renderer", dir)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		text, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			c.templates[c.meta.Name+"/"+rel] = string(text)
		case rel != "Chart.yaml":
			c.files[rel] = text
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", dir, err)
	}
	return c, nil
}

func parseKubeVersion(v string) (kubeVersion, error) {
	parsed, err := semver.NewVersion(v)
	if err != nil {
		return kubeVersion{}, fmt.Errorf("--kube-version %q is not a version like v1.27.0: %v", v, err)
	}
	return kubeVersion{
		Version: "v" + parsed.String(),
		Major:   fmt.Sprint(parsed.Major()),
		Minor:   fmt.Sprint(parsed.Minor()),
	}, nil
}

// maxIncludeDepth bounds recursive include/tpl, so a helper that includes itself fails instead of hanging.
const maxIncludeDepth = 1000

// funcMap is sprig's text functions (without env and expandenv, which Helm leaves out so that a chart
// renders the same everywhere) plus Helm's own.
func funcMap(root **template.Template, cluster []map[string]interface{}) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	depth := 0
	f["include"] = func(name string, data interface{}) (string, error) {
		if depth >= maxIncludeDepth {
			return "", fmt.Errorf("include %q: more than %d nested includes (a helper including itself?)", name, maxIncludeDepth)
		}
		depth++
		defer func() { depth-- }()
		var buf strings.Builder
		if err := (*root).ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		if depth >= maxIncludeDepth {
			return "", fmt.Errorf("tpl: more than %d nested includes", maxIncludeDepth)
		}
		depth++
		defer func() { depth-- }()
		t, err := (*root).Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf strings.Builder
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["required"] = func(message string, value interface{}) (interface{}, error) {
		if value == nil {
			return nil, errors.New(message)
		}
		if s, ok := value.(string); ok && s == "" {
			return nil, errors.New(message)
		}
		return value, nil
	}
	f["toYaml"] = func(v interface{}) string {
		out, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(out), "\n")
	}
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []interface{} {
		var a []interface{}
		if err := yaml.Unmarshal([]byte(s), &a); err != nil {
			return []interface{}{err.Error()}
		}
		return a
	}
	f["toJson"] = func(v interface{}) string {
		out, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(out)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromJsonArray"] = func(s string) []interface{} {
		var a []interface{}
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			return []interface{}{err.Error()}
		}
		return a
	}
	f["toToml"] = func(interface{}) (string, error) {
		return "", errors.New("toToml is not supported by this renderer (no TOML library in its build)")
	}
	// `helm template` talks to no cluster, so lookup finds nothing, unless --lookup gave objects to find
	// (tests of what a template does on upgrade, e.g. keeping generated Secret values).
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return lookupIn(cluster, apiVersion, kind, namespace, name), nil
	}
	return f
}

// manifest is one YAML document of the output, with the template it came from.
type manifest struct {
	source  string
	kind    string
	content string
	order   int
}

// installOrder is the order in which Helm documents that it installs kinds; `helm template` prints them so.
var installOrder = []string{
	"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
	"ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
	"PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
	"ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
	"Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
}

var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// render produces the whole stream, or an error and nothing.
func render(o renderOptions) (string, error) {
	c, err := loadChart(o.chartDir)
	if err != nil {
		return "", err
	}
	kube, err := parseKubeVersion(o.kubeVersion)
	if err != nil {
		return "", err
	}
	if c.meta.KubeVersion != "" {
		constraint, err := semver.NewConstraint(c.meta.KubeVersion)
		if err != nil {
			return "", fmt.Errorf("Chart.yaml: kubeVersion %q is not a version range: %v", c.meta.KubeVersion, err)
		}
		if v, _ := semver.NewVersion(kube.Version); !constraint.Check(v) {
			return "", fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", c.meta.KubeVersion, kube.Version)
		}
	}
	values, layers, err := loadValues(o.chartDir, o.overrides)
	if err != nil {
		return "", err
	}
	if err := validateValues(o.chartDir, values, layers); err != nil {
		return "", err
	}

	var root *template.Template
	root = template.New("chart").Option("missingkey=zero").Funcs(funcMap(&root, o.cluster))
	names := make([]string, 0, len(c.templates))
	for name := range c.templates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := root.New(name).Parse(c.templates[name]); err != nil {
			return "", err
		}
	}

	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": o.release, "Namespace": o.namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": c.meta,
		"Capabilities": capabilities{
			KubeVersion: kube,
			APIVersions: builtinAPIVersions,
			HelmVersion: map[string]string{"Version": "v3"},
		},
		"Files": c.files,
	}
	templatesDir := c.meta.Name + "/templates"
	var manifests []manifest
	for _, name := range names {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		scope := make(map[string]interface{}, len(top)+1)
		for k, v := range top {
			scope[k] = v
		}
		scope["Template"] = map[string]interface{}{"Name": name, "BasePath": templatesDir}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, scope); err != nil {
			return "", err
		}
		// NOTES.txt is rendered (its errors fail the render, as in `helm install`) but is not a manifest;
		// neither is any file that is not YAML or JSON.
		if base == "NOTES.txt" || !hasAnySuffix(base, ".yaml", ".yml", ".json") {
			continue
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		for i, doc := range documentSeparator.Split(text, -1) {
			doc = strings.TrimSpace(doc)
			if doc == "" {
				continue
			}
			kind, err := documentKind(doc)
			if err != nil {
				return "", fmt.Errorf("YAML parse error on %s (document %d): %v%s", name, i+1, err, quoteLine(doc, err))
			}
			manifests = append(manifests, manifest{source: name, kind: kind, content: doc, order: len(manifests)})
		}
	}
	rank := func(kind string) int {
		for i, k := range installOrder {
			if k == kind {
				return i
			}
		}
		return len(installOrder)
	}
	sort.SliceStable(manifests, func(i, j int) bool { return rank(manifests[i].kind) < rank(manifests[j].kind) })
	var out strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", m.source, m.content)
	}
	return out.String(), nil
}

var yamlErrorLine = regexp.MustCompile(`line (\d+):`)

// quoteLine shows the rendered line a YAML error points at (its number counts lines of the rendered
// document, not of the template), so the slip can be found in the template.
func quoteLine(doc string, err error) string {
	m := yamlErrorLine.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	var n int
	fmt.Sscan(m[1], &n)
	lines := strings.Split(doc, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return fmt.Sprintf("\n  rendered line %d: %s", n, lines[n-1])
}

func hasAnySuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// documentKind parses one rendered document (so that a wrong indent is caught here, naming the template)
// and returns its kind. A document of comments only has no kind and is kept, as helm keeps it.
func documentKind(doc string) (string, error) {
	asJSON, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return "", err
	}
	var parsed interface{}
	if err := json.Unmarshal(asJSON, &parsed); err != nil {
		return "", err
	}
	switch v := parsed.(type) {
	case nil:
		return "", nil
	case map[string]interface{}:
		kind, _ := v["kind"].(string)
		if kind == "" {
			return "", errors.New("the document has no kind")
		}
		return kind, nil
	default:
		return "", fmt.Errorf("the document is %s, not a Kubernetes object", describe(v))
	}
}
