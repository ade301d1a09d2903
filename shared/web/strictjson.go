package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/serverless-shop/backend/shared/problem"
)

// walk reads one JSON value from dec alongside the Go type t it is about
// to be decoded into (nil: any shape is acceptable, as for json.RawMessage
// or an interface), and adds to bad what encoding/json would let through:
// a key given twice in one object (the last would win), two keys of one
// object that differ only in case, and a key that names a field in
// another case ("EMAIL" for "email"), which encoding/json matches
// case-insensitively; and null where t has a field, an item or a map
// value, which encoding/json decodes as no value at all (a nil pointer, a
// zero), so that {"unitPrice": 5, "active": null} would change the price
// as if active had not been sent, though no request of the API admits a
// null. Fields are named by their path, like "items[0].sku".
func walk(dec *json.Decoder, t reflect.Type, path string, bad *[]problem.FieldError) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t == rawMessage || t.Kind() == reflect.Interface) {
		t = nil
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch {
	case tok == nil && t != nil:
		*bad = append(*bad, problem.FieldError{Field: cmp.Or(path, "(root)"), Message: "must be " + jsonKind(t.Kind().String()) + ", not null"})
	case tok == json.Delim('{'):
		return walkObject(dec, t, path, bad)
	case tok == json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walk(dec, elem, fmt.Sprintf("%s[%d]", path, i), bad); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ]
		return err
	}
	return nil // a scalar, or null where any shape goes
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

func walkObject(dec *json.Decoder, t reflect.Type, path string, bad *[]problem.FieldError) error {
	fields := map[string]reflect.Type{} // exact JSON name → field type
	if t != nil && t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
	}
	seen := map[string]string{} // lower-cased key → the key as given
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		at := strings.TrimPrefix(path+"."+key, ".") // key itself at the root
		lower := strings.ToLower(key)
		first, dup := seen[lower]
		if dup {
			msg := "appears more than once"
			if first != key {
				msg = fmt.Sprintf("differs from %q only in case", first)
			}
			*bad = append(*bad, problem.FieldError{Field: at, Message: msg})
		}
		seen[lower] = key
		var valueType reflect.Type
		switch {
		case t != nil && t.Kind() == reflect.Map:
			valueType = t.Elem()
		case t != nil && t.Kind() == reflect.Struct:
			ft, exact := fields[key]
			if !exact && !dup {
				for name := range fields {
					if strings.EqualFold(name, key) {
						*bad = append(*bad, problem.FieldError{Field: at, Message: fmt.Sprintf("is not a field; names are case-sensitive: %q", name)})
					}
				}
			}
			valueType = ft // nil for an unknown key: the decoder refuses it
		}
		if err := walk(dec, valueType, at, bad); err != nil {
			return err
		}
	}
	_, err := dec.Token() // }
	return err
}
