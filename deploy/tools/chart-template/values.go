// Values as Helm builds them: the chart's values.yaml, then each -f file, then each --set, merged map by map
// (lists and scalars replace, null deletes), then checked against the chart's values.schema.json.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/xeipuuv/gojsonschema"
	"sigs.k8s.io/yaml"
)

// override is one -f file or one --set/--set-string expression, in command-line order.
type override struct {
	kind string // "file", "set" or "set-string"
	text string
}

// layer is one source of values and what it set, kept so that a schema error can say where a value came from.
type layer struct {
	origin string
	values map[string]interface{}
}

// readValuesFile parses a YAML values file the way Helm reads one: YAML turned into JSON, so numbers become
// float64 (which is why Helm prints a large integer value as 1e+06 unless it is piped through `int`).
// Duplicate keys are an error (YAML forbids them; a silent "last one wins" hides typos).
func readValuesFile(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("values file %s: no such file", path)
		}
		return nil, fmt.Errorf("values file %s: %v", path, err)
	}
	asJSON, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("values file %s: invalid YAML: %v", path, err)
	}
	var parsed interface{}
	if err := json.Unmarshal(asJSON, &parsed); err != nil {
		return nil, fmt.Errorf("values file %s: invalid YAML: %v", path, err)
	}
	switch v := parsed.(type) {
	case nil:
		return map[string]interface{}{}, nil
	case map[string]interface{}:
		return v, nil
	default:
		return nil, fmt.Errorf("values file %s: the top level must be a mapping of keys to values, not %s", path, describe(v))
	}
}

func describe(v interface{}) string {
	switch v.(type) {
	case []interface{}:
		return "a list"
	case string:
		return "a string"
	case float64, int64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// mergeValues merges src into dst: maps merge key by key, anything else replaces, and null removes the key
// (Helm's documented way to drop a default).
func mergeValues(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = deepCopy(v)
	}
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		out := make(map[string]interface{}, len(t))
		for k, x := range t {
			if x != nil {
				out[k] = deepCopy(x)
			}
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// loadValues returns the merged values and the layers they came from (the chart's values.yaml first).
func loadValues(chartDir string, overrides []override) (map[string]interface{}, []layer, error) {
	defaultsPath := filepath.Join(chartDir, "values.yaml")
	defaults := map[string]interface{}{}
	if _, err := os.Stat(defaultsPath); err == nil {
		if defaults, err = readValuesFile(defaultsPath); err != nil {
			return nil, nil, err
		}
	}
	layers := []layer{{origin: defaultsPath, values: defaults}}
	merged := deepCopy(defaults).(map[string]interface{})
	for _, o := range overrides {
		var values map[string]interface{}
		var err error
		origin := o.text
		switch o.kind {
		case "file":
			values, err = readValuesFile(o.text)
		default:
			values = map[string]interface{}{}
			err = parseSet(o.text, values, o.kind == "set")
			origin = fmt.Sprintf("--%s %s", o.kind, o.text)
		}
		if err != nil {
			return nil, nil, err
		}
		layers = append(layers, layer{origin: origin, values: values})
		mergeValues(merged, values)
	}
	return merged, layers, nil
}

// validateValues checks the merged values against values.schema.json when the chart has one, listing every
// violation with its path and the file or --set that supplied the offending value.
func validateValues(chartDir string, values map[string]interface{}, layers []layer) error {
	schemaPath := filepath.Join(chartDir, "values.schema.json")
	schema, err := os.ReadFile(schemaPath)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("%s: %v", schemaPath, err)
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewGoLoader(values))
	if err != nil {
		return fmt.Errorf("%s: cannot validate with this schema: %v", schemaPath, err)
	}
	if result.Valid() {
		return nil
	}
	var problems []string
	seen := map[string]bool{}
	for _, e := range result.Errors() {
		// if/then and oneOf report a summary besides the real violation; the real one says more.
		if e.Type() == "condition_then" || e.Type() == "condition_else" || e.Type() == "number_any_of" || e.Type() == "number_one_of" {
			continue
		}
		path := e.Field()
		if prop, ok := e.Details()["property"].(string); ok && e.Type() == "additional_property_not_allowed" {
			path = joinPath(path, prop)
		}
		line := fmt.Sprintf("- %s: %s", path, e.Description())
		if origin := originOf(path, layers); origin != "" {
			line += fmt.Sprintf(" (from %s)", origin)
		}
		if !seen[line] {
			seen[line] = true
			problems = append(problems, line)
		}
	}
	sort.Strings(problems)
	return fmt.Errorf("values don't meet the schema %s:\n%s", schemaPath, strings.Join(problems, "\n"))
}

func joinPath(parent, child string) string {
	if parent == "" || parent == "(root)" {
		return child
	}
	return parent + "." + child
}

// originOf names the last layer that set the deepest existing prefix of a dotted path.
func originOf(path string, layers []layer) string {
	if path == "" || path == "(root)" {
		return ""
	}
	parts := strings.Split(path, ".")
	best, bestDepth := "", 0
	for _, l := range layers {
		if depth := depthIn(l.values, parts); depth > 0 && depth >= bestDepth {
			best, bestDepth = l.origin, depth
		}
	}
	return best
}

// depthIn is how many leading parts of a path exist in values (list items by their index).
func depthIn(values map[string]interface{}, parts []string) int {
	var at interface{} = values
	for depth, p := range parts {
		switch node := at.(type) {
		case map[string]interface{}:
			v, ok := node[p]
			if !ok {
				return depth
			}
			at = v
		case []interface{}:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(node) {
				return depth
			}
			at = node[i]
		default:
			return depth
		}
	}
	return len(parts)
}

// parseSet applies one --set expression: `a.b=c,d[0].e=f,list={x,y}`. A backslash escapes `.`, `,`, `=`,
// `[` and `{`. With typed set, `true`/`false` become booleans, integers (no leading zero) int64, and `null`
// removes the key, as Helm documents for --set; --set-string keeps every value a string.
func parseSet(expr string, into map[string]interface{}, typed bool) error {
	for _, assignment := range splitUnescaped(expr, ',', true) {
		if assignment == "" {
			continue
		}
		eq := indexUnescaped(assignment, '=')
		if eq < 0 {
			return fmt.Errorf("--set %s: %q has no value (expected key=value)", expr, assignment)
		}
		path, err := parseKeyPath(assignment[:eq])
		if err != nil {
			return fmt.Errorf("--set %s: %v", expr, err)
		}
		raw := assignment[eq+1:]
		var value interface{}
		if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") && len(raw) >= 2 {
			list := []interface{}{}
			if inner := raw[1 : len(raw)-1]; inner != "" {
				for _, item := range splitUnescaped(inner, ',', false) {
					list = append(list, typedValue(unescape(item), typed))
				}
			}
			value = list
		} else {
			value = typedValue(unescape(raw), typed)
		}
		if err := setPath(into, path, value); err != nil {
			return fmt.Errorf("--set %s: %v", expr, err)
		}
	}
	return nil
}

func typedValue(s string, typed bool) interface{} {
	if !typed {
		return s
	}
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if s == "0" || (s != "" && s[0] != '0' && !strings.HasPrefix(s, "-0") && !strings.HasPrefix(s, "+")) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}

// splitUnescaped splits on sep where it is not escaped (and, with braces, not inside `{...}`).
func splitUnescaped(s string, sep byte, braces bool) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case braces && s[i] == '{':
			depth++
		case braces && s[i] == '}' && depth > 0:
			depth--
		case s[i] == sep && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func indexUnescaped(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
		} else if s[i] == c {
			return i
		}
	}
	return -1
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// pathStep is one key of a --set path, with the list indexes that follow it (`a[0][1]`).
type pathStep struct {
	key     string
	indexes []int
}

func parseKeyPath(key string) ([]pathStep, error) {
	if key == "" {
		return nil, fmt.Errorf("empty key")
	}
	var steps []pathStep
	for _, segment := range splitUnescaped(key, '.', false) {
		step := pathStep{}
		name := segment
		if open := indexUnescaped(segment, '['); open >= 0 {
			name = segment[:open]
			rest := segment[open:]
			for rest != "" {
				end := strings.IndexByte(rest, ']')
				if rest[0] != '[' || end < 0 {
					return nil, fmt.Errorf("key %q: malformed list index in %q", key, segment)
				}
				i, err := strconv.Atoi(rest[1:end])
				if err != nil || i < 0 {
					return nil, fmt.Errorf("key %q: list index %q is not a non-negative integer", key, rest[1:end])
				}
				step.indexes = append(step.indexes, i)
				rest = rest[end+1:]
			}
		}
		step.key = unescape(name)
		if step.key == "" {
			return nil, fmt.Errorf("key %q has an empty segment", key)
		}
		steps = append(steps, step)
	}
	return steps, nil
}

// setPath stores value at path, creating maps and growing lists on the way.
func setPath(root map[string]interface{}, path []pathStep, value interface{}) error {
	m := root
	for i, step := range path {
		last := i == len(path)-1
		if len(step.indexes) == 0 {
			if last {
				m[step.key] = value
				return nil
			}
			next, ok := m[step.key].(map[string]interface{})
			if !ok {
				next = map[string]interface{}{}
				m[step.key] = next
			}
			m = next
			continue
		}
		// key[i][j]...: walk (and grow) nested lists.
		list, _ := m[step.key].([]interface{})
		container := func(l []interface{}) { m[step.key] = l }
		for j, idx := range step.indexes {
			for len(list) <= idx {
				list = append(list, nil)
			}
			container(list)
			innermost := j == len(step.indexes)-1
			switch {
			case innermost && last:
				list[idx] = value
				return nil
			case innermost:
				next, ok := list[idx].(map[string]interface{})
				if !ok {
					next = map[string]interface{}{}
					list[idx] = next
				}
				m = next
			default:
				inner, _ := list[idx].([]interface{})
				outer, at := list, idx
				container = func(l []interface{}) { outer[at] = l }
				list = inner
			}
		}
	}
	return nil
}
