package platform

import (
	"fmt"
	"reflect"
)

// Required checks a use case's ports at construction, so that none is ever
// half-built: pairs of name and value, the first nil one (a nil interface,
// pointer, func or map) is reported as an error naming what and the port.
// The composition root turns the error into a fatal init error.
func Required(what string, namesAndPorts ...any) error {
	for i := 0; i+1 < len(namesAndPorts); i += 2 {
		if IsNil(namesAndPorts[i+1]) {
			return fmt.Errorf("%s: %v is required", what, namesAndPorts[i])
		}
	}
	return nil
}

// IsNil reports whether v is nil or holds a nil pointer, func, map, slice or
// channel: an interface holding a typed nil is not == nil, yet unusable.
func IsNil(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Interface, reflect.Slice, reflect.Chan:
		return r.IsNil()
	}
	return false
}
