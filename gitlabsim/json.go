package gitlabsim

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSON helpers: marshalling like GitLab's API (no HTML escaping), objects
// built field by field in GitLab's order, fields added to rendered objects
// (as the exporter adds its parent keys), and reading the fields of a
// rendered object.

func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("gitlabsim: marshal: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// simField is the extra field that real GitLab does not have (x_sim), so
// that tests can prove that unknown fields survive.
func simField(seq int) json.RawMessage {
	return json.RawMessage(`{"seq":` + strconv.Itoa(seq) + `,"nested":[1,{"k":"v"}]}`)
}

// kv is a field to add to an object: its name and its JSON value.
type kv struct {
	k string
	v []byte
}

// withFields adds to obj each field of adds that obj lacks, like the
// exporter's Enrich: appended, or written first when first is set.
func withFields(obj []byte, adds []kv, first bool) []byte {
	if len(adds) == 0 {
		return obj
	}
	have := topKeys(obj)
	var missing []kv
	for _, a := range adds {
		if !slices.Contains(have, a.k) {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		return obj
	}
	var fields []byte
	for _, a := range missing {
		if len(fields) > 0 {
			fields = append(fields, ',')
		}
		fields = appendJSONString(fields, a.k)
		fields = append(fields, ':')
		fields = append(fields, a.v...)
	}
	out := make([]byte, 0, len(obj)+len(fields)+1)
	if first {
		out = append(out, '{')
		out = append(out, fields...)
		if len(obj) > 2 {
			out = append(out, ',')
		}
		return append(out, obj[1:]...)
	}
	out = append(out, obj[:len(obj)-1]...)
	if len(obj) > 2 {
		out = append(out, ',')
	}
	out = append(out, fields...)
	return append(out, '}')
}

// extend appends the fields of o to the object obj (which lacks them).
func extend(obj []byte, o *obj) []byte {
	fields := o.done()
	if len(fields) <= 2 {
		return obj
	}
	out := append([]byte(nil), obj[:len(obj)-1]...)
	if len(out) > 1 {
		out = append(out, ',')
	}
	return append(out, fields[1:]...)
}

// topKeys lists the keys of a JSON object's top level.
func topKeys(o []byte) []string {
	var keys []string
	for _, f := range topFields(o) {
		keys = append(keys, f.k)
	}
	return keys
}

// topFields splits a JSON object (well-formed: the simulator rendered it)
// into its top-level fields; keys are returned as written (unescaped keys
// only, which are all the simulator writes).
func topFields(o []byte) []kv {
	var out []kv
	depth, inString, escaped := 0, false, false
	key, keyStart, valStart := "", 0, -1
	flush := func(end int) {
		if valStart >= 0 {
			out = append(out, kv{key, bytes.TrimSpace(o[valStart:end])})
			valStart = -1
		}
	}
	for i, c := range o {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 1 && valStart < 0 {
					key = string(o[keyStart:i])
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			if depth == 1 && valStart < 0 {
				keyStart = i + 1
			}
		case ':':
			if depth == 1 && valStart < 0 {
				valStart = i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 1 {
				flush(i)
			}
			depth--
		case ',':
			if depth == 1 {
				flush(i)
			}
		}
	}
	return out
}

// appendJSONString appends s as a JSON string, escaped as marshal escapes
// it (no HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20, r == 0x2028, r == 0x2029, r == utf8.RuneError:
			if r == utf8.RuneError {
				r = 0xfffd
			}
			b = append(b, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// obj builds a JSON object with its fields in the order given (GitLab's
// entities list their fields in a meaningful order).
type obj struct{ b []byte }

func newObj() *obj { return &obj{b: []byte{'{'}} }

// f adds a field; v is marshalled (json.RawMessage and []byte-returning
// renders are written as they are).
func (o *obj) f(k string, v any) *obj {
	if len(o.b) > 1 {
		o.b = append(o.b, ',')
	}
	o.b = appendJSONString(o.b, k)
	o.b = append(o.b, ':')
	switch x := v.(type) {
	case nil:
		o.b = append(o.b, "null"...)
	case string:
		o.b = appendJSONString(o.b, x)
	case bool:
		o.b = strconv.AppendBool(o.b, x)
	case int:
		o.b = strconv.AppendInt(o.b, int64(x), 10)
	case int32:
		o.b = strconv.AppendInt(o.b, int64(x), 10)
	case int64:
		o.b = strconv.AppendInt(o.b, x, 10)
	case json.RawMessage:
		o.b = append(o.b, x...)
	case *obj:
		o.b = append(o.b, x.done()...)
	default:
		o.b = append(o.b, marshal(v)...)
	}
	return o
}

// done closes the object and returns it (call it once).
func (o *obj) done() []byte { return append(o.b, '}') }

// raw wraps rendered JSON so that obj.f writes it as it is.
func raw(b []byte) json.RawMessage { return json.RawMessage(b) }

// keyOf renders the catalog key of a JSON object: the key fields' values
// (strings unquoted, other JSON as is) joined by "/"; a.b is field b of
// object field a.
func keyOf(o []byte, keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		v, ok := lookupField(o, k)
		if !ok {
			parts[i] = "<nil>"
			continue
		}
		var s string
		if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
			parts[i] = s
		} else {
			parts[i] = string(v)
		}
	}
	return strings.Join(parts, "/")
}

// lookupField finds field k (a.b: field b of object field a) of object o.
func lookupField(o []byte, k string) ([]byte, bool) {
	for {
		fields := topFields(o)
		for _, f := range fields {
			if f.k == k {
				return f.v, true
			}
		}
		head, rest, dotted := strings.Cut(k, ".")
		if !dotted {
			return nil, false
		}
		found := false
		for _, f := range fields {
			if f.k == head && len(f.v) > 0 && f.v[0] == '{' {
				o, k, found = f.v, rest, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
}

// dropFields removes top-level fields of a JSON object (a simulator
// rendering: an entity that exposes fewer fields than another).
func dropFields(o []byte, names ...string) []byte {
	out := []byte{'{'}
	for _, f := range topFields(o) {
		if slices.Contains(names, f.k) {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendJSONString(out, f.k)
		out = append(out, ':')
		out = append(out, f.v...)
	}
	return append(out, '}')
}
