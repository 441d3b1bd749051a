package interceptor

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// decodeConfig decodes an interceptor's JSON config into dst (a pointer to
// a struct) strictly: every key must be a field, every value of the
// field's type. Errors name the field by its path in the config.
func decodeConfig(raw json.RawMessage, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	raw, err := expandEnv(raw)
	if err != nil {
		return err
	}
	return decodeValue("", raw, reflect.ValueOf(dst).Elem())
}

// envRef is a ${VAR} reference inside a JSON string.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} references in config strings by the values of
// environment variables, JSON-escaped. A reference to an unset variable is
// an error: an interceptor must not run with a half-resolved config.
func expandEnv(raw json.RawMessage) (json.RawMessage, error) {
	var missing string
	out := envRef.ReplaceAllFunc(raw, func(ref []byte) []byte {
		name := string(envRef.FindSubmatch(ref)[1])
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = name
			return ref
		}
		quoted, _ := json.Marshal(v)
		return quoted[1 : len(quoted)-1]
	})
	if missing != "" {
		return nil, &ConfigError{Msg: fmt.Sprintf("environment variable %s is not set", missing)}
	}
	return out, nil
}

func decodeValue(path string, raw json.RawMessage, v reflect.Value) error {
	if u, ok := v.Addr().Interface().(json.Unmarshaler); ok {
		err := u.UnmarshalJSON(raw)
		if ce, ok := err.(*ConfigError); ok {
			return &ConfigError{Field: join(path, ce.Field), Msg: ce.Msg}
		}
		if err != nil {
			return &ConfigError{Field: path, Msg: err.Error()}
		}
		return nil
	}
	null := string(raw) == "null"
	switch v.Kind() {
	case reflect.Pointer:
		if null {
			v.SetZero()
			return nil
		}
		v.Set(reflect.New(v.Type().Elem()))
		return decodeValue(path, raw, v.Elem())
	case reflect.Struct:
		if null {
			return nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return &ConfigError{Field: path, Msg: "expect an object"}
		}
		fields := fieldsOf(v.Type())
		for _, k := range slices.Sorted(mapKeys(m)) {
			idx, ok := fields[k]
			if !ok {
				return &ConfigError{Field: join(path, k), Msg: "unknown field; expect one of " + strings.Join(slices.Sorted(mapKeys(fields)), ", ")}
			}
			if err := decodeValue(join(path, k), m[k], v.FieldByIndex(idx)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if null {
			v.SetZero()
			return nil
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return &ConfigError{Field: path, Msg: "expect an array"}
		}
		v.Set(reflect.MakeSlice(v.Type(), len(items), len(items)))
		for i, item := range items {
			if err := decodeValue(fmt.Sprintf("%s[%d]", path, i), item, v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if null {
			v.SetZero()
			return nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return &ConfigError{Field: path, Msg: "expect an object"}
		}
		v.Set(reflect.MakeMapWithSize(v.Type(), len(m)))
		for _, k := range slices.Sorted(mapKeys(m)) {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := decodeValue(join(path, k), m[k], e); err != nil {
				return err
			}
			v.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		return nil
	}
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		return &ConfigError{Field: path, Msg: fmt.Sprintf("expect %s, got %s", kindName(v.Type()), raw)}
	}
	return nil
}

// fieldsOf maps the JSON names of a struct's fields, including those of
// embedded structs, to their index paths.
func fieldsOf(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Index
	}
	return out
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	}
	return "a " + t.String()
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// schemaOf describes a config value's type as JSON Schema. Types with a
// Schema method describe themselves.
func schemaOf(v any) map[string]any { return schemaOfType(reflect.TypeOf(v)) }

type describer interface{ Schema() map[string]any }

func schemaOfType(t reflect.Type) map[string]any {
	if d, ok := reflect.New(t).Interface().(describer); ok {
		return d.Schema()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOfType(t.Elem())
	case reflect.Struct:
		props := map[string]any{}
		for name, idx := range fieldsOf(t) {
			f := t.FieldByIndex(idx)
			s := schemaOfType(f.Type)
			if doc := f.Tag.Get("doc"); doc != "" {
				s["description"] = doc
			}
			props[name] = s
		}
		return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOfType(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOfType(t.Elem())}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{"type": "integer"}
}
